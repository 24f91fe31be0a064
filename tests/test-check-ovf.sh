#!/usr/bin/env bash
# azprep check --ovf on good OVF descriptors whose disks are missing (no
# appliance): the disks in hardware order, capacities and hardware, the
# generation and a suggested size; EFI means generation 2 and Secure
# Boot a warning.
source tests/lib/functions.sh
source tests/lib/check-desc.sh

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
