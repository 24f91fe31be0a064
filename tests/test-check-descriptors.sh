#!/usr/bin/env bash
# azprep check: VM descriptors (OVF, OVA, .vmx), the size table, fleet
# files, and the three reports on a fleet whose disks cannot be read
# (no appliance is launched: this test is quick).
source tests/lib/functions.sh
requires node xmllint qemu-img tar
D=tests/data/check

json () { json_get "$T/out" "$1"; }

# Multi-disk OVF: disks in the order of the hardware items (not of
# References), capacities, CPUs, memory, NICs, guest OS, suggested size.
expect_exit 3 "$AZPREP" check --json --ovf "$D/multi-disk.ovf"
node tests/tools/check-schema.js "$T/out" >/dev/null || fail "schema: multi-disk"
[ "$(json 'd.vms[0].descriptor.disks.map(x => x.path.replace(/.*\//, "")).join(",")')" = "os.vmdk,data disk.vmdk" ] ||
  fail "multi-disk: disk order"
[ "$(json 'd.vms[0].descriptor.disks[1].capacity')" = $((16 * 1024 * 1024 * 1024)) ] ||
  fail "multi-disk: capacity in byte * 2^30"
[ "$(json '[d.vms[0].descriptor.cpus, d.vms[0].descriptor.memory_mib, d.vms[0].descriptor.nics, d.vms[0].descriptor.guest_os, d.vms[0].descriptor.firmware].join(" ")')" = \
  "2 4096 1 debian12_64Guest bios" ] || fail "multi-disk: hardware"
[ "$(json 'd.vms[0].azure.generation')" = 1 ] || fail "multi-disk: generation"
[ "$(json 'd.vms[0].azure.size.vcpus >= 2 && d.vms[0].azure.size.memory_gib >= 4 && d.vms[0].azure.size.chosen')" = suggested ] ||
  fail "multi-disk: suggested size"
# The missing disks are blockers naming them, no appliance needed.
[ "$(json 'd.vms[0].findings.filter(f => f.id == "disk-unreadable").length')" = 2 ] ||
  fail "multi-disk: two unreadable disks"

# EFI OVF: generation 2, Secure Boot is a warning, a gen 2 size.
expect_exit 3 "$AZPREP" check --json --ovf "$D/efi.ovf"
[ "$(json 'd.vms[0].descriptor.firmware + " " + d.vms[0].azure.generation + " " + d.vms[0].descriptor.secure_boot')" = "efi 2 true" ] ||
  fail "efi: firmware"
[ "$(json 'd.vms[0].findings.filter(f => f.id == "secure-boot" && f.severity == "warning").length')" = 1 ] ||
  fail "efi: secure-boot warning"
expect_exit 3 "$AZPREP" check --json --ovf "$D/multi-disk.ovf"
[ "$(json 'd.vms[0].findings.filter(f => f.id == "secure-boot").length')" = 0 ] ||
  fail "multi-disk: no secure-boot finding"

# Malformed descriptors: one clear error each, exit 1, nothing else.
bad_ovf () {   # FILE REGEX
  expect_exit 1 "$AZPREP" check --ovf "$1"
  assert_contains "$T/err" "$2"
  assert_contains "$T/out" "COULD NOT CHECK"
}
bad_ovf "$D/truncated.ovf" "truncated.ovf: not well-formed XML"
bad_ovf "$D/billion-laughs.ovf" "billion-laughs.ovf: has a DOCTYPE or ENTITY"
bad_ovf "$D/external-entity.ovf" "external-entity.ovf: has a DOCTYPE"
bad_ovf "$D/missing-disk.ovf" 'refers to disk "vmdisk9", which is not in the DiskSection'
bad_ovf "$D/missing-file.ovf" 'refers to file "file7", which is not in References'
sed 's|ovf:href="@DISK@"|ovf:href="../../etc/passwd"|' "$D/template.ovf" > "$T/escape.ovf"
bad_ovf "$T/escape.ovf" 'unsafe href "../../etc/passwd"'
head -c $((5 * 1024 * 1024)) /dev/zero > "$T/huge.ovf"
bad_ovf "$T/huge.ovf" "larger than"
echo '<Envelope><VirtualSystem/></Envelope' > "$T/notxml.ovf"
bad_ovf "$T/notxml.ovf" "not well-formed XML"
echo '<html/>' > "$T/html.ovf"
bad_ovf "$T/html.ovf" "not an OVF descriptor"

# OVA: a tar holding the .ovf and its disk, read in place (nothing is
# extracted); a damaged member is an unreadable disk named OVA/MEMBER.
# (A good OVA, with streamOptimized VMDKs, is the fleet test's "good".)
mkdir "$T/ova"
sed -e 's/@DISK@/disk1.qcow2/' -e 's/@FIRMWARE@/efi/' "$D/template.ovf" > "$T/ova/vm.ovf"
qemu-img create -q -f qcow2 "$T/ova/full.qcow2" 64M
head -c 100 "$T/ova/full.qcow2" > "$T/ova/disk1.qcow2"     # truncated: unreadable
(cd "$T/ova" && tar -cf ../vm.ova vm.ovf disk1.qcow2)
TMPDIR="$T/tmp" && mkdir "$TMPDIR" && export TMPDIR
expect_exit 3 "$AZPREP" check --json --ovf "$T/vm.ova"
unset TMPDIR
[ "$(json 'd.vms[0].descriptor.kind')" = ova ] || fail "ova: kind"
[ "$(json 'd.vms[0].findings[0].id')" = disk-unreadable ] || fail "ova: disk finding"
[ "$(json 'd.vms[0].findings[0].object')" = "$T/vm.ova/disk1.qcow2" ] ||
  fail "ova: the finding names the member"
[ -z "$(ls "$T/tmp")" ] || fail "ova: temporary directory left behind"
# A member the OVF names but the archive lacks; a descriptor-only VMDK
# (its extent is another file); an archive cut short; not a tar.
(cd "$T/ova" && tar -cf ../nodisk.ova vm.ovf)
expect_exit 3 "$AZPREP" check --json --ovf "$T/nodisk.ova"
json 'd.vms[0].findings[0].message' | grep -q '"disk1.qcow2" is not a member of the OVA' ||
  fail "ova: missing member"
printf '# Disk DescriptorFile\nversion=1\n' > "$T/ova/disk1.qcow2"
truncate -s 4096 "$T/ova/disk1.qcow2"
(cd "$T/ova" && tar -cf ../desc.ova vm.ovf disk1.qcow2)
expect_exit 3 "$AZPREP" check --json --ovf "$T/desc.ova"
json 'd.vms[0].findings[0].message' | grep -q 'VMDK descriptor whose extents are other files' ||
  fail "ova: descriptor-only VMDK"
head -c 3000 "$T/desc.ova" > "$T/cut.ova"
bad_ovf "$T/cut.ova" "cut.ova: tar member at byte [0-9]+ runs past the end of the archive"
echo notatar > "$T/bad.ova"
bad_ovf "$T/bad.ova" "not an OVF descriptor|not well-formed"
head -c 1024 /dev/urandom > "$T/rnd.ova"
printf 'ustar' | dd of="$T/rnd.ova" bs=1 seek=257 conv=notrunc status=none
bad_ovf "$T/rnd.ova" "rnd.ova: not an OVA: bad tar header at byte 0"

# .vmx: controller order (scsi0:0, 0:1, 0:2, sata0:0), CD-ROM skipped,
# |22 escapes, EFI, Secure Boot, vTPM, CPUs, memory, NICs.
cp "$D/bad.vmx" "$T/bad.vmx"
expect_exit 3 "$AZPREP" check --json --vmx "$T/bad.vmx"
node tests/tools/check-schema.js "$T/out" >/dev/null || fail "schema: vmx"
[ "$(json 'd.vms[0].descriptor.disks.map(x => x.path.replace(/.*\//, "")).join(",")')" = \
  "bad-os.qcow2,bad-d1.qcow2,bad-d2.img,bad-d3.img" ] || fail "vmx: disk order"
[ "$(json 'd.vms[0].name')" = 'bad"vm"' ] || fail "vmx: displayName escapes"
[ "$(json '[d.vms[0].descriptor.firmware, d.vms[0].descriptor.secure_boot, d.vms[0].descriptor.vtpm, d.vms[0].descriptor.cpus, d.vms[0].descriptor.memory_mib, d.vms[0].descriptor.nics].join(" ")')" = \
  "efi true true 1 1024 1" ] || fail "vmx: hardware"
printf 'config.version = "8"\nscsi0:0.fileName = "x.vmdk\n' > "$T/broken.vmx"
expect_exit 1 "$AZPREP" check --vmx "$T/broken.vmx"
assert_contains "$T/err" 'broken.vmx: line 2: unterminated quoted value'
printf 'config.version = "8"\nmemsize = "1024"\n' > "$T/nodisk.vmx"
expect_exit 1 "$AZPREP" check --vmx "$T/nodisk.vmx"
assert_contains "$T/err" 'nodisk.vmx: no disks'
printf 'just some text\n' > "$T/text.vmx"
expect_exit 1 "$AZPREP" check --vmx "$T/text.vmx"
assert_contains "$T/err" 'text.vmx: line 1: expected key = "value"'

# Size table: --size must exist; a broken --sizes file is a clear error.
expect_exit 2 "$AZPREP" check --size Standard_Nope "$T/bad.vmx"
assert_contains "$T/err" "Standard_Nope: not in the size table"
echo '{"sizes": [{"name": "x"}]}' > "$T/sizes.json"
expect_exit 2 "$AZPREP" check --sizes "$T/sizes.json" "$T/bad.vmx"
assert_contains "$T/err" 'sizes.json: sizes\[0\]: needs name, vcpus'
echo '{"sizes": [{"name": "Tiny_1", "vcpus": 1, "memory_gib": 0.5, "max_data_disks": 1, "generations": [1, 2]}]}' > "$T/sizes.json"
expect_exit 3 "$AZPREP" check --json --sizes "$T/sizes.json" --size tiny_1 --vmx "$T/bad.vmx"
[ "$(json 'd.vms[0].azure.size.name + " " + d.vms[0].azure.size.chosen')" = "Tiny_1 given" ] ||
  fail "--size from --sizes"

# --list: every rule id is documented in the manual.
expect_exit 0 "$AZPREP" check --list --json
for id in $(json 'd.filter(r => r.kind == "rule").map(r => r.id).join(" ")'); do
  grep -q "^=item B<$id>" prep/check.pod || fail "rule $id is not documented in prep/check.pod"
done

# Fleet files: errors name the file and the VM.
echo '[{"name": "a"}]' > "$T/f1.json"
expect_exit 1 "$AZPREP" check --vms "$T/f1.json"
assert_contains "$T/err" 'f1.json: VM a: needs "disks"'
echo '[{"name": "a", "disks": ["x"]}, {"name": "a", "disks": ["y"]}]' > "$T/f2.json"
expect_exit 1 "$AZPREP" check --vms "$T/f2.json"
assert_contains "$T/err" 'f2.json: VM name a given twice'
echo '[{"name": "a", "disks": [' > "$T/f3.json"
expect_exit 1 "$AZPREP" check --vms "$T/f3.json"
assert_contains "$T/err" 'f3.json: not a JSON list of VMs'
expect_exit 2 "$AZPREP" check --vms "$T/f3.json" disk.img
expect_exit 2 "$AZPREP" check --jobs 0 --vms "$T/f3.json"

# A fleet (one VM per line) of unreadable VMs: every VM gets a verdict,
# the reports are complete and well-formed.
qemu-img create -q -f qcow2 "$T/full.qcow2" 64M
head -c 100 "$T/full.qcow2" > "$T/trunc.qcow2"
cat > "$T/fleet.txt" <<EOT
# name disks...
vm-trunc trunc.qcow2
vm-missing missing1.img missing2.img
vm-<script>&"x" nope.img
EOT
expect_exit 3 "$AZPREP" check --vms "$T/fleet.txt" --jobs 2 --json \
  --junit "$T/out.xml" --html "$T/out.html"
node tests/tools/check-schema.js "$T/out" || fail "schema: fleet"
[ "$(json 'd.vms.map(v => v.name + "=" + v.verdict).join(" ")')" = \
  'vm-trunc=not-ready vm-missing=not-ready vm-<script>&"x"=not-ready' ] || fail "fleet verdicts"
[ "$(json 'd.vms[1].findings.length')" = 2 ] || fail "fleet: both missing disks"
xmllint --noout "$T/out.xml" || fail "JUnit XML is not well-formed"
[ "$(xmllint --xpath 'count(/testsuites/testsuite)' "$T/out.xml")" = 3 ] || fail "junit: suites"
[ "$(xmllint --xpath 'string(/testsuites/testsuite[1]/testcase[@name="disk-unreadable"]/failure/@type)' "$T/out.xml")" = blocker ] ||
  fail "junit: disk-unreadable is a failure"
[ "$(xmllint --xpath 'count(/testsuites/testsuite[1]/testcase[@name="os-version"]/skipped)' "$T/out.xml")" = 1 ] ||
  fail "junit: rules not reached are skipped"
# libxml2's HTML parser knows HTML 4 only: <details> and <summary> are
# "invalid" tags to it, anything else it says is a real problem.  The
# page is also well-formed XML.
if [ -d tests/tools/node/node_modules/junit2json ]; then
  node tests/tools/node/junit-consume.mjs "$T/out.xml" > "$T/junit.txt" ||
    { cat "$T/junit.txt"; fail "junit2json disagrees with the report"; }
fi
xmllint --html --noout "$T/out.html" 2>"$T/html.err" || { cat "$T/html.err"; fail "HTML is not well-formed"; }
grep -E 'error|warning' "$T/html.err" | grep -Ev 'Tag (details|summary) invalid' && fail "HTML parser errors"
xmllint --noout "$T/out.html" || fail "HTML is not well-formed XML"
[ "$(xmllint --html --xpath 'count(//tr[@class="vm"])' "$T/out.html")" = 3 ] || fail "html: one row per VM"
assert_not_contains "$T/out.html" '<script>'
assert_contains "$T/out.html" 'vm-&lt;script&gt;&amp;&quot;x&quot;'
assert_not_contains "$T/out.html" '(src|href)='
# Text: one line per VM verdict, one overall verdict line.
expect_exit 3 "$AZPREP" check --vms "$T/fleet.txt"
assert_contains "$T/out" '^vm-trunc: NOT READY'
assert_contains "$T/out" '^verdict: NOT READY: 3 VMs: 0 ready, 0 with warnings, 3 not ready, 0 could not be checked$'
assert_not_contains "$T/out" $'\033'
# A VM whose check fails outright (here: a size not in the table, the
# child exits with a usage error) gets verdict "error"; the others are
# still checked, and the fleet's verdict is the worst: exit 1.
cat > "$T/f4.json" <<EOT
[ { "name": "broken", "disks": ["trunc.qcow2"], "size": "Standard_Nope" },
  { "name": "fine", "disks": ["trunc.qcow2"] } ]
EOT
expect_exit 1 "$AZPREP" check --vms "$T/f4.json" --json --junit "$T/f4.xml"
node tests/tools/check-schema.js "$T/out" >/dev/null || fail "schema: broken fleet"
xmllint --xpath 'string(/testsuites/testsuite[@name="broken"]/testcase[@name="check"]/error/@message)' "$T/f4.xml" |
  grep -q 'Standard_Nope' || fail "junit: the broken VM's error"
[ "$(xmllint --xpath 'string(/testsuites/@errors)' "$T/f4.xml")" = 1 ] || fail "junit: one error"
[ "$(json 'd.vms.map(v => v.name + "=" + v.verdict).join(" ")')" = "broken=error fine=not-ready" ] ||
  fail "a broken VM stops the others"
json 'd.vms[0].error' | grep -q 'Standard_Nope: not in the size table' || fail "broken: reason"

# The pipeline command of the README, as written there.
cat > "$T/fleet.json" <<EOT
[ { "name": "web1", "disks": ["trunc.qcow2"] },
  { "name": "db1", "ovf": "vm.ova" } ]
EOT
(cd "$T" && expect_exit 3 "$AZPREP" check --vms fleet.json --junit out.xml --html out.html)
grep -q '^azprep check --vms fleet.json --junit out.xml --html out.html$' README.md ||
  fail "the README no longer shows the pipeline command"
assert_contains "$T/out" '^verdict: NOT READY: 2 VMs: 0 ready, 0 with warnings, 2 not ready, 0 could not be checked$'
[ "$(xmllint --xpath 'count(/testsuites/testsuite)' "$T/out.xml")" = 2 ] || fail "README: junit"
[ "$(xmllint --html --xpath 'count(//tr[@class="vm"])' "$T/out.html" 2>/dev/null)" = 2 ] || fail "README: html"

# The default --jobs: the cores, at most the GiB available less one.
expect_exit 3 "$AZPREP" check -v --vms "$T/fleet.txt"
read -r jobs cores mib < <(sed -n 's/.*debug: --jobs \([0-9]*\): \([0-9]*\) cores, \([0-9]*\) MiB of memory available$/\1 \2 \3/p' "$T/err")
[ -n "$jobs" ] || fail "-v does not say how --jobs was chosen"
[ "$cores" = "$(getconf _NPROCESSORS_ONLN)" ] || fail "--jobs: $cores cores"
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
[ $((mib - avail)) -lt 1024 ] && [ $((avail - mib)) -lt 1024 ] ||
  fail "--jobs: $mib MiB available, /proc/meminfo says $avail"
want=$(( cores < mib / 1024 - 1 ? cores : mib / 1024 - 1 ))
[ "$want" -ge 1 ] || want=1
[ "$jobs" = "$want" ] || fail "--jobs $jobs, expected $want ($cores cores, $mib MiB)"

# On a terminal, in colour (unless NO_COLOR).
if command -v script >/dev/null; then
  script -qec "'$AZPREP' check --vms '$T/fleet.txt'" /dev/null > "$T/tty" || true
  assert_contains "$T/tty" $'\033\\[1;31mNOT READY'
  NO_COLOR=1 script -qec "'$AZPREP' check --vms '$T/fleet.txt'" /dev/null > "$T/tty" || true
  assert_not_contains "$T/tty" $'\033'
fi
echo PASS
