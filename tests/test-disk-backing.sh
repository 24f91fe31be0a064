#!/usr/bin/env bash
# Local disks whose format azprep reads from their own bytes: a raw disk
# whose first sectors a guest wrote as a qcow2 header with a backing
# file, or as a VMDK descriptor whose extent is a host file, would have
# qemu serve that host file as the disk.  check, inspect and replicate
# refuse it, naming the file it names, before any appliance or upload;
# with --format raw the disk's own bytes are replicated, never the host
# file's.  A VMware descriptor with its flat extent beside it, and a
# qcow2 overlay given --format qcow2, are still read.  Azurite, no
# appliance.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-nbd
azurite_start

printf 'HOSTSECRET-%.0s' $(seq 200) > "$T/host.bin"
truncate -s 4M "$T/host.bin"
S=$((8 * 1024 * 1024))
mkdir "$T/vm"
# The guest's raw disk (beside no host file): its first sectors are a qcow2 header naming
# host.bin as the backing file.
qemu-img create -q -f qcow2 -b "$T/host.bin" -F raw "$T/hdr.qcow2" 4M
cp "$T/hdr.qcow2" "$T/vm/guest.raw" && truncate -s $S "$T/vm/guest.raw"
# Another: a VMDK descriptor whose extent is the host file, by its
# absolute path, then as ../host.bin.
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 8192 FLAT "%s" 0\n' \
  "$T/host.bin" > "$T/vm/guest2.raw"
truncate -s $S "$T/vm/guest2.raw"
mkdir "$T/sub"
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 8192 FLAT "../host.bin" 0\n' \
  > "$T/sub/up.vmdk"

refused () {
  local disk=$1 what=$2
  # inspect fails; check makes it the VM's blocker.
  for cmd in "inspect 1" "check 3"; do
    expect_exit ${cmd#* } "$AZPREP" ${cmd% *} "$disk"
    assert_contains "$T/err" "$disk: it names $what .*host.bin"
    assert_contains "$T/err" "give --format raw if this is a raw disk"
    assert_not_contains "$T/err" "libguestfs|appliance" "$cmd: launched"
  done
  assert_contains "$T/out" "disk-unreadable.*it names $what"
  expect_exit 1 "$AZPREP" replicate --container vms --name "vm$3" \
    --state "$T/state$3" "$disk"
  assert_contains "$T/err" "$disk: it names $what .*host.bin"
  blobtool list vms > "$T/list" 2>/dev/null || echo '[]' > "$T/list"
  assert_not_contains "$T/list" "vm$3-disk" "replicate: a blob was created"
}
refused "$T/vm/guest.raw" "a backing file" 1
refused "$T/vm/guest2.raw" "an extent in another file" 2
refused "$T/sub/up.vmdk" "an extent in another file" 3

# --format raw: the disk is its own bytes, the host file never sent.
expect_exit 0 "$AZPREP" replicate --container vms --name vm4 \
  --state "$T/state4" --format raw "$T/vm/guest.raw"
[ "$(blobtool digest vms vm4-disk0.vhd - $S)" = \
  "$(blobtool filedigest "$T/vm/guest.raw" $S)" ] || fail "raw: the blob differs"
blobtool download vms vm4-disk0.vhd "$T/blob"
! grep -q HOSTSECRET "$T/blob" || fail "raw: the host file reached the blob"

# A VMware descriptor with its flat extent beside it: read, not refused.
cp "$T/host.bin" "$T/sub/ok-flat.vmdk"
printf '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 8192 FLAT "ok-flat.vmdk" 0\n' \
  > "$T/sub/ok.vmdk"
expect_exit 0 "$AZPREP" replicate --container vms --name vm5 \
  --state "$T/state5" "$T/sub/ok.vmdk"
[ "$(blobtool digest vms vm5-disk0.vhd - 4194304)" = \
  "$(blobtool filedigest "$T/host.bin" 4194304)" ] ||
  fail "descriptor: the blob differs from its extent"
# An overlay the user names as qcow2 keeps its backing file.
qemu-img create -q -f qcow2 -b "$T/host.bin" -F raw "$T/ovl.qcow2"
expect_exit 0 "$AZPREP" replicate --container vms --name vm6 \
  --state "$T/state6" --format qcow2 "$T/ovl.qcow2"
[ "$(blobtool digest vms vm6-disk0.vhd - 4194304)" = \
  "$(blobtool filedigest "$T/host.bin" 4194304)" ] ||
  fail "overlay: the blob differs from its chain"
