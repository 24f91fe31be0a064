#!/usr/bin/env bash
# azprep check --ovf on VMware descriptors in the shapes real exports
# have (tests/data/check/vapp, from govmomi's fixtures): a vApp
# (VirtualSystemCollection) is checked as a fleet, one VM per
# VirtualSystem, in the text, JSON, JUnit and HTML reports; an OVF 0.9
# export (<Content xsi:type="ovf:VirtualSystem_Type">) is read; a VM
# without disks is a no-disks finding.  Then generated variants of both
# (tests/tools/ovf-variant.py: prefixes respelled, the OVF namespace as
# the default, children reversed, sections removed, collections nested,
# an OVF 0.9 collection) give the same VMs.  The disks are missing: no
# appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires python3 xmllint tar
V=$D/vapp

# One line per VM: name, verdict, disks (basenames), CPUs, memory, guest
# OS, finding ids.
summary () {
  node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    for (const v of d.vms) {
      const x = v.descriptor || {};
      console.log([v.name, v.verdict,
        (x.disks || []).map(k => k.path.replace(/.*\//, "")).join(","),
        x.cpus, x.memory_mib, x.guest_os,
        v.findings.map(f => f.id).join(",")].join("|"));
    }' "$1"
}

# The vApp: two VMs, each with its own disk, in document order.
expect_exit 3 "$AZPREP" check --json --ovf "$V/vApp_with_2vms.ovf" \
  --junit "$T/vapp.xml" --html "$T/vapp.html"
node tests/tools/check-schema.js "$T/out" >/dev/null || fail "schema: vapp"
summary "$T/out" > "$T/vapp.sum"
cat > "$T/want" <<'EOT'
sql2k5-win-2k3-32-ent-sp2-ovf|not-ready|vApp_with_2vms-disk2.vmdk|1|1024|winNetStandardGuest|disk-unreadable
centos-5.5-32-esx-qa|not-ready|vApp_with_2vms-disk1.vmdk|1|256|centosGuest|disk-unreadable
EOT
diff "$T/want" "$T/vapp.sum" || fail "vapp: the VMs"
[ "$(json 'd.vms_by_verdict["not-ready"]')" = 2 ] || fail "vapp: the counts"
[ "$(xmllint --xpath 'count(//testsuite)' "$T/vapp.xml")" = 2 ] ||
  fail "vapp: a JUnit testsuite per VM"
grep -q 'centos-5.5-32-esx-qa' "$T/vapp.html" &&
  grep -q 'sql2k5-win-2k3-32-ent-sp2-ovf' "$T/vapp.html" ||
  fail "vapp: both VMs in the HTML report"
expect_exit 3 "$AZPREP" check --ovf "$V/vApp_with_2vms.ovf"
assert_contains "$T/out" "2 VMs: 0 ready, 0 with warnings, 2 not ready"
# One VM of it, by its id.
expect_exit 3 "$AZPREP" check --json --ovf "$V/vApp_with_2vms.ovf" \
  --ovf-vm centos-5.5-32-esx-qa
summary "$T/out" | diff - <(sed -n 2p "$T/want") || fail "--ovf-vm"
expect_exit 1 "$AZPREP" check --ovf "$V/vApp_with_2vms.ovf" --ovf-vm nope
assert_contains "$T/err" 'no VirtualSystem with the id "nope"'

# OVF 0.9.
expect_exit 3 "$AZPREP" check --json --ovf "$V/smallxp-vapp.ovf"
summary "$T/out" > "$T/09.sum"
echo 'smallxp-vapp|not-ready|smallxp-vapp.vmdk|2|512|OS Description|disk-unreadable' |
  diff - "$T/09.sum" || fail "OVF 0.9"

# variant FILE NAME: the summary of check on a variant of FILE.
variant () {
  python3 tests/tools/ovf-variant.py "$1" "$T/$2-$3.ovf" "$3"
  rc=0
  "$AZPREP" check --json --ovf "$T/$2-$3.ovf" > "$T/out" 2> "$T/err" || rc=$?
  summary "$T/out"
}
# (reorder reverses the VMs too: the report follows the document)
for v in prefixes default-ns reorder no-optional nested; do
  variant "$V/vApp_with_2vms.ovf" vapp $v | sort | diff <(sort "$T/vapp.sum") - ||
    fail "vapp variant $v: not the same VMs"
done
for v in prefixes reorder no-optional; do
  variant "$V/smallxp-vapp.ovf" 09 $v | diff "$T/09.sum" - ||
    fail "OVF 0.9 variant $v: not the same VM"
done
variant "$V/smallxp-vapp.ovf" 09 collection09 | cut -d'|' -f1,3 > "$T/got"
printf 'smallxp-vapp-a|smallxp-vapp.vmdk\nsmallxp-vapp-b|smallxp-vapp.vmdk\n' |
  diff - "$T/got" || fail "OVF 0.9 collection"
# A VM without disks, or without a hardware section: a finding, and the
# other VM is still checked.
for v in no-disks no-hardware; do
  variant "$V/vApp_with_2vms.ovf" vapp $v > "$T/got"
  [ "$rc" = 3 ] || fail "$v: exit $rc"
  head -1 "$T/got" | diff <(head -1 "$T/vapp.sum") - || fail "$v: VM 1"
  sed -n 2p "$T/got" | grep -q '^centos-5.5-32-esx-qa|not-ready||.*|no-disks$' ||
    fail "$v: VM 2 has no no-disks finding: $(sed -n 2p "$T/got")"
done
json 'd.vms[1].findings[0].message' | grep -q 'gives centos-5.5-32-esx-qa no disks' ||
  fail "no-disks: the message"
# Two VirtualSystems with one id: each is that VM's error.
variant "$V/vApp_with_2vms.ovf" vapp dup-id > /dev/null
[ "$(json 'd.vms.filter(v => v.verdict == "error" && /two VirtualSystems have the id/.test(v.error)).length')" = 2 ] ||
  fail "dup-id"

# An OVA holding the vApp and no disks: each VM's member is missing.
cp "$V/vApp_with_2vms.ovf" "$T/vapp.ovf"
(cd "$T" && tar -cf vapp.ova vapp.ovf)
expect_exit 3 "$AZPREP" check --json --ova "$T/vapp.ova"
[ "$(json 'd.vms.map(v => v.findings[0].message.replace(/.*: /, "")).join(";")')" = \
  '"vApp_with_2vms-disk2.vmdk" is not a member of the OVA;"vApp_with_2vms-disk1.vmdk" is not a member of the OVA' ] ||
  { json 'd.vms.map(v => v.findings[0].message)'; fail "vapp OVA"; }
echo "$(ls "$T"/vapp-*.ovf "$T"/09-*.ovf | wc -l) generated descriptor variants checked"
