#!/usr/bin/env bash
# The real Debian 12 UEFI guest: boot-test fails before fix and passes
# after, as on Azure (disks on another controller, a new MAC, DHCP,
# blank NVRAM).  One fix, one read-back, two boots under TCG:
#   before  as it is: no \EFI\BOOT\BOOTX64.EFI, OVMF starts its shell
#           (boot-test sees it is stuck and ends the boot);
#   after   OVMF -> the disk's fallback loader -> the default target, a
#           DHCP lease, sshd answers.
# The BIOS guest is test-linux-debian-bios.sh.  The disk is a qcow2
# overlay: the image is never written.
source tests/lib/functions.sh
source tests/lib/debian-boot.sh
# One fix (its update-initramfs most of it) and two TCG boots: about
# 340 s on this 2-core machine beside the BIOS test (load 2).
uefi=$(require_image debian-uefi.img)
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "OVMF is not installed"
stamp=$(image_stamp "$uefi")
ovl "$uefi" "$T/uefi.qcow2"

expect_exit 0 "$AZPREP" fix --report "$T/uefi.json" --format qcow2 "$T/uefi.qcow2"
assert_contains "$T/out" 'changed: \[linux-uefi-fallback\]'

guestfish > "$T/rb" <<EOF2
add $T/uefi.qcow2 format:qcow2 readonly:true
run
mount-ro /dev/sda2 /
mount-ro /dev/sda1 /boot/efi
echo ==== uefi
cat /etc/fstab
cat /etc/default/grub
cat /boot/grub/grub.cfg
find /boot
glob download /boot/initrd.img-*-amd64 $T/uefi.initrd
EOF2
split_readback "$T/rb"
assert_debian_fixed uefi
assert_contains "$T/uefi.rb" '^/?efi/EFI/BOOT/BOOTX64\.EFI$' "uefi fallback"
assert_contains "$T/uefi.rb" '^/?efi/EFI/debian/grubx64\.efi$' "uefi grub kept"
assert_contains "$T/uefi.rb" $'^UUID=0E0E-0102 +/boot/efi' "uefi esp fstab"

# Before: OVMF finds no loader on the unfixed image.
expect_exit 3 "$AZPREP" "${BT[@]}" --json "$uefi"
assert_contains "$T/out" '"firmware":[[:space:]]*"uefi"'
assert_contains "$T/out" '"stuck":[[:space:]]*"the UEFI firmware found no boot loader'

# After: it boots with a blank NVRAM.
expect_exit 0 "$AZPREP" "${BT[@]}" --json --timeout 900 \
  --console "$T/uefi.log" --format qcow2 "$T/uefi.qcow2"
assert_contains "$T/out" '"firmware":[[:space:]]*"uefi"'
assert_contains "$T/out" '"passed":[[:space:]]*true'
assert_contains "$T/out" '"ssh_banner":[[:space:]]*"SSH-2.0-OpenSSH'
# OVMF's blank NVRAM: it booted the disk's removable-media path.
assert_contains "$T/uefi.log" 'BdsDxe: starting Boot[0-9A-F]+ "UEFI QEMU QEMU HARDDISK'
[ "$(image_stamp "$uefi")" = "$stamp" ] || fail "the image was written"
