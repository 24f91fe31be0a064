#!/usr/bin/env bash
# azprep check --vmx: controller order (scsi0:0, 0:1, 0:2, sata0:0),
# CD-ROM skipped, |22 escapes, EFI, Secure Boot, vTPM, CPUs, memory,
# NICs; a broken .vmx is one clear error naming the line.  No appliance.
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
bad_desc --vmx nodisk.vmx 'config.version = "8"\nmemsize = "1024"' 'no disks'
bad_desc --vmx text.vmx 'just some text' 'line 1: expected key = "value"'
