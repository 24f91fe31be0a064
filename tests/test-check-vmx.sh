#!/usr/bin/env bash
# azprep check --vmx: controller order (scsi0:0, 0:1, 0:2, sata0:0),
# CD-ROM skipped, |22 escapes, EFI, Secure Boot, vTPM, CPUs, memory,
# NICs; a broken .vmx is one clear error naming the line; a .vmx without
# disks is a no-disks finding.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh

cp "$D/bad.vmx" "$T/bad.vmx"
expect_exit 3 "$AZPREP" check --json --vmx "$T/bad.vmx"
node tests/tools/check-schema.js "$T/out" >/dev/null || fail "schema: vmx"
[ "$(json 'd.vms[0].descriptor.disks.map(x => x.path.replace(/.*\//, "")).join(",")')" = \
  "bad-os.qcow2,bad-d1.qcow2,bad-d2.img,bad-d3.img" ] || fail "vmx: disk order"
[ "$(json 'd.vms[0].name')" = 'bad"vm"' ] || fail "vmx: displayName escapes"
[ "$(json '[d.vms[0].descriptor.firmware, d.vms[0].descriptor.secure_boot, d.vms[0].descriptor.vtpm, d.vms[0].descriptor.cpus, d.vms[0].descriptor.memory_mib, d.vms[0].descriptor.nics].join(" ")')" = \
  "efi true true 1 1024 1" ] || fail "vmx: hardware"
bad_desc --vmx broken.vmx 'config.version = "8"\nscsi0:0.fileName = "x.vmdk' \
  'line 2: unterminated quoted value'
# A VM without disks is a finding (no-disks), not a failed check.
printf 'config.version = "8"\nmemsize = "1024"\n' > "$T/nodisk.vmx"
expect_exit 3 "$AZPREP" check --json --vmx "$T/nodisk.vmx"
[ "$(json 'd.vms[0].findings.map(f => f.id + ":" + f.severity).join(" ")')" = \
  "no-disks:blocker" ] || fail "vmx without disks: $(json 'd.vms[0].findings.map(f => f.id).join()')"
bad_desc --vmx text.vmx 'just some text' 'line 1: expected key = "value"'

# Hostile sizes: 1 MB of disk lines took 24 s (each line looked every
# key up linearly) and was accepted; now a .vmx over 256 KiB is refused,
# and thousands of disks too.
awk 'BEGIN { print "config.version = \"8\""
  for (c = 0; c < 1000; c++) for (u = 0; u < 40; u++)
    printf "scsi%d:%d.fileName = \"d%d-%d.vmdk\"\n", c, u, c, u }' \
  > "$T/all.vmx"
head -c 1048576 "$T/all.vmx" > "$T/huge.vmx"
expect_exit 1 "$AZPREP" check --vmx "$T/huge.vmx"
assert_contains "$T/err" "huge.vmx: 1048576 bytes: larger than a .vmx file can be"
head -n 6000 "$T/all.vmx" > "$T/many.vmx"
expect_exit 1 "$AZPREP" check --vmx "$T/many.vmx"
assert_contains "$T/err" "many.vmx: [0-9]+ disks: more than a VM can have"
# The same disk line thousands of times, respelled: one disk, the last.
awk 'BEGIN { print "config.version = \"8\""
  for (i = 0; i < 4000; i++) {
    printf "scsi0:0.fileName = \"d%d.vmdk\"\n", i
    print "SCSI00:0.present = \"TRUE\"" }
  print "scsi000:0.fileName = \"last.vmdk\"" }' > "$T/dup.vmx"
expect_exit 3 "$AZPREP" check --json --vmx "$T/dup.vmx"
[ "$(json 'd.vms[0].descriptor.disks.map(x => x.path.replace(/.*\//, "")).join(",")')" = \
  last.vmdk ] || fail "vmx: a disk given many times is its last line"
