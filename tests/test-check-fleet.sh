#!/usr/bin/env bash
# azprep check on a fleet: one run, eleven VMs, each rule triggered by
# one VM and not by the clean one; JSON against the schema, JUnit with
# an XML parser, HTML structure; the disks are not changed.
#
# The VMs (built on the host by tests/lib/check-guests.sh):
#   good      clean Debian 12, UEFI, swap on its data disk, from an OVA
#             of streamOptimized VMDKs read in place (EFI, 2 CPUs,
#             4 GiB): generation 2, a suggested size; no rule fires
#   bad       from a .vmx, --size Standard_B1s: disk-size-mib,
#             os-disk-size, data-disk-size, data-disk-count, free-space,
#             swap-on-os-disk, hibernation, filesystem-dirty (ext4, and
#             XFS when the host can make a dirty one),
#             filesystem-not-mounted, fstab-network-filesystem,
#             encrypted-volume, vtpm-encryption, firmware-mismatch,
#             secure-boot
#   old32     Debian 6 i386: os-version, arch-32bit
#   arch      Arch Linux: os-unsupported
#   mystery   no release file: os-unknown
#   noos      os-none;  twoos: os-multiple;  luksroot: root-encrypted
#   corrupt, missing: disk-unreadable (no appliance)
#   nodisks   a .vmx with no disk: no-disks (no appliance)
# noos, twoos, luksroot and corrupt are $IMAGES/bad/* when the images
# developer's images are there (make images, or IMAGES=/work/cache/images).
source tests/lib/functions.sh
source tests/lib/check-guests.sh
requires node xmllint qemu-img sfdisk mkfs.ext4 mkswap debugfs mkfs.vfat cryptsetup
F=$T/fleet
build_fleet "$F"

# Every disk of the fleet (ours and the published bad images).
( cd "$F" && sha256sum -- *.img *.qcow2 *.ova $(node -e '
    const l = JSON.parse(require("fs").readFileSync("fleet.json", "utf8"));
    console.log(l.flatMap(v => v.disks || []).filter(p => p[0] == "/").join(" "));
  ') ) > "$T/sums"
rc=0
"$AZPREP" check --vms "$F/fleet.json" --jobs 2 --json --junit "$T/out.xml" \
  --html "$T/out.html" > "$T/out.json" 2> "$T/err" || rc=$?
cat "$T/err"
[ "$rc" = 3 ] || fail "fleet exit $rc, expected 3 (not ready)"
( cd "$F" && sha256sum --quiet -c "$T/sums" ) || fail "check changed a disk"

node tests/tools/check-schema.js "$T/out.json" || fail "the JSON does not follow the schema"
j () { json_get "$T/out.json" "$1"; }
vm () { echo "d.vms.find(v => v.name == '$1')"; }
ids () { j "$(vm "$1").findings.map(f => f.id).sort().join(' ')"; }
verdict () { j "$(vm "$1").verdict"; }

[ "$(j 'd.vms.filter(v => v.name != "debian").map(v => v.name).join(" ")')" = \
  "good bad old32 arch mystery noos twoos luksroot corrupt missing nodisks" ] ||
  fail "VMs missing or out of order"
nvms=$(j 'd.vms.length')

# The clean guest: no readiness rule fires (its verdict is what the
# fixups' checks say of a phony guest without a kernel; the schema
# validator checked that it follows from the findings).
rule_findings () {   # VM: findings of readiness rules, information aside
  j "$(vm "$1").findings.filter(f => f.severity != 'info' && $(vm "$1").rules.some(r => r.kind == 'rule' && r.id == f.rule)).map(f => f.id).join(' ')"
}
[ "$(rule_findings good)" = "" ] || fail "good: rules fired: $(rule_findings good)"
[ "$(j "$(vm good).rules.filter(r => r.kind == 'rule' && r.result != 'pass').map(r => r.id).join(' ')")" = "" ] ||
  fail "good: rules did not pass"
# A real Debian guest (make images, with its data disk), when there is
# one: ready, ready with warnings, or not ready as is with only blockers
# azprep fix repairs (ready_after_fix).
if [ "$(j 'd.vms.some(v => v.name == "debian")')" = true ]; then
  case $(verdict debian)/$(j "$(vm debian).ready_after_fix") in
    ready/true|warnings/true|not-ready/true) ;;
    *) fail "debian: verdict $(verdict debian): $(ids debian)";; esac
  [ "$(j "$(vm debian).azure.generation")" = 1 ] || fail "debian: generation"
else
  not_checked "no $IMAGES/debian-bios.img: the real-guest verdict is not checked"
fi
[ "$(j "$(vm good).azure.generation + ' ' + $(vm good).firmware + ' ' + $(vm good).descriptor.kind")" = "2 uefi ova" ] ||
  fail "good: generation"
[ "$(j "$(vm good).azure.size.chosen + ' ' + ($(vm good).azure.size.vcpus >= 2)")" = "suggested true" ] ||
  fail "good: a suggested size"
j "$(vm good).findings.filter(f => f.id == 'firmware-generation')[0].message" |
  grep -q 'UEFI boot: Azure generation 2' || fail "good: firmware-generation information"
j "$(vm bad).findings.filter(f => f.id == 'firmware-generation')[0].message" |
  grep -q 'BIOS boot: Azure generation 1' || fail "bad: firmware-generation information"

# Each rule fires where expected, with its severity.
has () {   # VM ID SEVERITY
  [ "$(j "$(vm "$1").findings.filter(f => f.id == '$2' && f.severity == '$3').length > 0")" = true ] ||
    fail "$1: no $3 $2 (has: $(ids "$1"))"
}
has bad disk-size-mib warning
has bad os-disk-size blocker
has bad data-disk-size blocker
has bad data-disk-count blocker
has bad free-space blocker
has bad swap-on-os-disk warning
has bad hibernation blocker
has bad filesystem-dirty warning
has bad filesystem-not-mounted warning
[ "$(j "$(vm bad).findings.filter(f => f.id == 'filesystem-not-mounted').map(f => f.object).join(' ')")" = /dev/sdc ] ||
  fail "bad: the ext4 that does not mount is /dev/sdc"
[ "$(j "$(vm bad).findings.filter(f => f.id == 'filesystem-dirty').map(f => f.object).sort().join(' ')")" = \
  "$(if [ "$(stat -c %s "$F/bad-d3.img")" -gt $((8 * MiB)) ]; then echo /dev/sda3 /dev/sdd; else echo /dev/sda3; fi)" ] ||
  fail "bad: the dirty ext4 /dev/sda3 (and the dirty XFS /dev/sdd when made): $(ids bad)"
[ "$(stat -c %s "$F/bad-d3.img")" -gt $((8 * MiB)) ] ||
  echo "no loop device or xfs module here: the dirty XFS is not checked"
has bad fstab-network-filesystem warning
has bad encrypted-volume warning
has bad vtpm-encryption blocker
has bad firmware-mismatch warning
has bad secure-boot warning
has old32 os-version blocker
has old32 arch-32bit blocker
has arch os-unsupported blocker
has mystery os-unknown blocker
has noos os-none blocker
has twoos os-multiple blocker
has luksroot root-encrypted blocker
has corrupt disk-unreadable blocker
has missing disk-unreadable blocker
has nodisks no-disks blocker
for v in bad old32 arch mystery noos twoos luksroot corrupt missing nodisks; do
  [ "$(verdict $v)" = not-ready ] || fail "$v: verdict $(verdict $v), expected not-ready"
done
[ "$(j "$(vm bad).findings.find(f => f.id == 'data-disk-count').message")" = \
  "3 data disks, but Standard_B1s attaches at most 2" ] || fail "bad: data-disk-count message"
[ "$(j "$(vm bad).findings.find(f => f.id == 'fstab-network-filesystem').object")" = /mnt/nas ] ||
  fail "bad: the nfs mount point"
[ "$(j "$(vm corrupt).findings[0].message")" != "" ] || fail "corrupt: no reason"
[ "$(j "$(vm corrupt).rules.find(r => r.id == 'os-version').result")" = skipped ] ||
  fail "corrupt: rules after the disks are skipped"

# Every rule is triggered by some VM, and passes on the clean ones.
for id in $(j 'd.vms[0].rules.filter(r => r.kind == "rule").map(r => r.id).join(" ")'); do
  [ "$(j "d.vms.some(v => v.findings.some(f => f.id == '$id'))")" = true ] ||
    fail "rule $id is never triggered"
done

# JUnit: one testsuite per VM, a testcase per rule; blockers fail.
xmllint --noout "$T/out.xml" || fail "JUnit XML is not well-formed"
x () { xmllint --xpath "$1" "$T/out.xml"; }
[ "$(x 'count(/testsuites/testsuite)')" = "$nvms" ] || fail "junit: testsuites"
[ "$(x 'string(/testsuites/testsuite[@name="bad"]/testcase[@name="hibernation"]/failure/@type)')" = blocker ] ||
  fail "junit: hibernation is a failure on bad"
# The failing testcases are exactly the rules and fixups with blockers
# (a VM is not ready as is): type "blocker" where azprep fix does not
# repair them, "fixable-blocker" where it does.
for v in good bad; do
  got=$(xmllint --xpath "/testsuites/testsuite[@name=\"$v\"]/testcase[failure]/@name" "$T/out.xml" 2>/dev/null |
        sed 's/ *name="\([^"]*\)"/\1\n/g' | grep -v '^$' | sort | tr '\n' ' ' || true)
  want=$(j "[...new Set($(vm $v).findings.filter(f => f.severity == 'blocker').map(f => f.rule))].sort().map(r => r + ' ').join('')")
  [ "$got" = "$want" ] || fail "junit: $v fails [$got], blockers say [$want]"
  got=$(xmllint --xpath "/testsuites/testsuite[@name=\"$v\"]/testcase[failure/@type=\"fixable-blocker\"]/@name" "$T/out.xml" 2>/dev/null |
        sed 's/ *name="\([^"]*\)"/\1\n/g' | grep -v '^$' | sort | tr '\n' ' ' || true)
  want=$(j "[...new Set($(vm $v).findings.filter(f => f.severity == 'blocker').map(f => f.rule))].filter(r => $(vm $v).findings.every(f => f.rule != r || f.severity != 'blocker' || f.fixable)).sort().map(r => r + ' ').join('')")
  [ "$got" = "$want" ] || fail "junit: $v fixable-blocker failures [$got], findings say [$want]"
  [ "$(x "string(/testsuites/testsuite[@name=\"$v\"]/properties/property[@name=\"ready_after_fix\"]/@value)")" = \
    "$(j "$(vm $v).ready_after_fix")" ] || fail "junit: $v ready_after_fix property"
done
[ "$(x 'count(/testsuites/testsuite[@name="bad"]/testcase[@name="swap-on-os-disk"]/failure)')" = 0 ] ||
  fail "junit: a warning is not a failure"
x 'string(/testsuites/testsuite[@name="bad"]/testcase[@name="swap-on-os-disk"]/system-out)' |
  grep -q '^warning: ' || fail "junit: the warning is in system-out"
[ "$(x 'string(/testsuites/testsuite[@name="bad"]/properties/property[@name="verdict"]/@value)')" = not-ready ] ||
  fail "junit: verdict property"
# A real JUnit consumer (junit2json, from tests/tools/node) reads it the same.
if [ -d tests/tools/node/node_modules/junit2json ]; then
  node tests/tools/node/junit-consume.mjs "$T/out.xml" > "$T/junit.txt" ||
    { cat "$T/junit.txt"; fail "junit2json disagrees with the report"; }
  assert_contains "$T/junit.txt" '^bad [0-9]+ [1-9]'
  assert_contains "$T/junit.txt" '^good [0-9]+ [0-9]+ 0$'
else
  echo "junit2json not installed (make deps): JUnit consumer not run"
fi

# HTML: one row per VM, well-formed.
xmllint --html --noout "$T/out.html" 2>"$T/html.err" || fail "HTML not well-formed"
grep -E 'error|warning' "$T/html.err" | grep -Ev 'Tag (details|summary) invalid' && fail "HTML parser errors"
xmllint --noout "$T/out.html" || fail "HTML is not well-formed XML"
[ "$(xmllint --html --xpath 'count(//tr[@class="vm"])' "$T/out.html" 2>/dev/null)" = "$nvms" ] ||
  fail "html: one row per VM"
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null; then
    "$b" --headless --no-sandbox --disable-gpu --screenshot="$T/out.png" \
      --window-size=1280,1024 "file://$T/out.html" >/dev/null 2>&1 ||
      fail "$b could not render the report"
    [ -s "$T/out.png" ] || fail "no screenshot"
    cp "$T/out.png" build/test-logs/check-report.png 2>/dev/null || true
    break
  fi
done
echo PASS
