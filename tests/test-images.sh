#!/usr/bin/env bash
# The test images look as images/README.md says.  The bad inputs are
# checked without an appliance; the Debian guests with one read-only
# guestfish launch per guest.
source "$(dirname "$0")/lib/functions.sh"
requires sfdisk debugfs blkid qemu-img cryptsetup

bad=$IMAGES/bad
zero=$(require_image bad/zero.img)
random=$(require_image bad/random.img)
trunc=$(require_image bad/truncated.qcow2)
noos=$(require_image bad/no-os.img)
twoos=$(require_image bad/two-os.img)
luks=$(require_image bad/luks-root.img)

# part_off DISK N: byte offset of partition N.
part_off () {
  sfdisk -d "$1" | awk -v dev="$1$2" '
    $1 == dev && match ($0, /start= *[0-9]+/) {
      v = substr ($0, RSTART, RLENGTH); sub (/.*= */, "", v); print v * 512 }'
}
# ext4_cat DISK N PATH: a file of the ext4 in partition N.
ext4_cat () { debugfs -R "cat $3" "$1?offset=$(part_off "$1" "$2")" 2>/dev/null; }

# zero.img: 64 MiB, every byte zero.
[ "$(stat -c %s "$zero")" = 67108864 ] || fail "zero.img: not 64 MiB"
cmp -s -n 67108864 "$zero" /dev/zero || fail "zero.img: not all zeroes"

# random.img: 16 MiB, the same bytes on every build.
[ "$(stat -c %s "$random")" = 16777216 ] || fail "random.img: not 16 MiB"
[ "$(sha256sum < "$random" | cut -d' ' -f1)" = \
  df419325ac2932c1b6e7be9f1df50d3dd8e5df09579fcc6d48ed210fc1798647 ] ||
  fail "random.img: not the documented bytes"

# truncated.qcow2: a qcow2 header that qemu opens, tables cut short.
qemu-img info --output=json "$trunc" > "$T/info"
assert_contains "$T/info" '"format": "qcow2"'
rc=0; qemu-img check "$trunc" > "$T/check" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$T/check"; fail "truncated.qcow2: qemu-img check exited $rc, not 2 (corrupt)"; }
assert_contains "$T/check" 'errors were found'

# no-os.img: one Linux partition, an empty ext4.
[ "$(sfdisk -d "$noos" | grep -c '^/')" = 1 ] || fail "no-os.img: not one partition"
blkid -p -O "$(part_off "$noos" 1)" "$noos" > "$T/blkid"
assert_contains "$T/blkid" 'TYPE="ext4"'
debugfs -R 'ls /' "$noos?offset=$(part_off "$noos" 1)" > "$T/ls" 2>/dev/null
[ "$(tr -s ' ' '\n' < "$T/ls" | grep -vcE '^(\.|\.\.|lost\+found|\([0-9]+\)|[0-9]+|)$')" = 0 ] ||
  { cat "$T/ls"; fail "no-os.img: the file system is not empty"; }

# two-os.img: two ext4 partitions, each a Linux root of its own.
[ "$(sfdisk -d "$twoos" | grep -c '^/')" = 2 ] || fail "two-os.img: not two partitions"
ext4_cat "$twoos" 1 /etc/os-release > "$T/os1"
ext4_cat "$twoos" 2 /etc/os-release > "$T/os2"
assert_contains "$T/os1" '^ID=debian$'
assert_contains "$T/os2" '^ID=ubuntu$'
ext4_cat "$twoos" 2 /etc/fstab > "$T/fstab2"
assert_contains "$T/fstab2" '^UUID=0e0e0e0e-0000-4000-8000-00000000002b[[:space:]]+/[[:space:]]'

# luks-root.img: plain /boot, then LUKS2 that the documented key opens.
blkid -p -O "$(part_off "$luks" 1)" "$luks" > "$T/blkid"
assert_contains "$T/blkid" 'TYPE="ext4"'
off=$(part_off "$luks" 2)
dd if="$luks" of="$T/luks.part" bs=1M skip="$off" iflag=skip_bytes \
  count=4 status=none
cryptsetup luksDump "$T/luks.part" > "$T/dump"
assert_contains "$T/dump" '^Version:[[:space:]]+2$'
cryptsetup open --test-passphrase --key-file "$bad/luks-root.key" "$T/luks.part" ||
  fail "luks-root.img: the documented key does not open it"

echo "bad images: ok"

# ---- Debian guests ----------------------------------------------------
for f in debian-bios.img debian-bios-data.img debian-uefi.img \
         debian-uefi-vars.fd debian-dracut.img; do
  [ -e "$IMAGES/$f" ] || skip "bad images ok; $f not built (make images)"
done
requires guestfish mdir zstd cpio
bios=$IMAGES/debian-bios.img data=$IMAGES/debian-bios-data.img
uefi=$IMAGES/debian-uefi.img dracut=$IMAGES/debian-dracut.img

# GRUB's boot code in the MBR (boot.img says "GRUB "), core.img after it
# (its first sector, diskboot.img, says "loading").
for img in "$bios" "$dracut"; do
  head -c 440 "$img" | grep -aq 'GRUB ' || fail "$img: no GRUB in the MBR"
  dd if="$img" bs=512 skip=1 count=1 status=none | grep -aq 'loading' ||
    fail "$img: no GRUB core image after the MBR"
done

# The BIOS pair, read by one read-only appliance.
guestfish --ro -a "$bios" -a "$data" > "$T/g" 2>&1 <<EOG || { cat "$T/g"; fail "guestfish failed"; }
run
echo @@ parts
list-partitions
echo @@ data
vfs-type /dev/sdb1
mount-ro /dev/sda1 /
echo @@ fstab
cat /etc/fstab
echo @@ rules
cat /etc/udev/rules.d/70-persistent-net.rules
echo @@ interfaces
cat /etc/network/interfaces
echo @@ ssh
exists /etc/systemd/system/multi-user.target.wants/ssh.service
exists /etc/systemd/system/sshd.service
exists /usr/sbin/sshd
echo @@ vmtools
is-symlink /etc/systemd/system/multi-user.target.wants/open-vm-tools.service
exists /usr/bin/vmtoolsd
echo @@ initramfs.conf
cat /etc/initramfs-tools/initramfs.conf
echo @@ grub
cat /etc/default/grub
cat /boot/grub/grub.cfg
echo @@ shadow
cat /etc/shadow
glob download /boot/initrd.img-* $T/initrd
EOG
section () { awk -v s="@@ $1" '$0 == s { on = 1; next } /^@@ / { on = 0 } on' "$T/g" > "$T/$1"; }
for s in parts data fstab rules interfaces ssh vmtools initramfs.conf grub shadow; do
  section $s
done
# Debian 12's initramfs-tools compresses with zstd, which guestfish's
# initrd-list (libguestfs 1.48) cannot read: list it here.
head -c 4 "$T/initrd" | od -An -tx1 | grep -q '28 b5 2f fd' ||
  fail "debian-bios.img: the initrd is not zstd-compressed (Debian 12's default)"
zstd -dc "$T/initrd" | cpio -it --quiet > "$T/initrd.list" ||
  fail "debian-bios.img: cannot list the initrd"
assert_contains "$T/parts" '^/dev/sda1$'
assert_contains "$T/parts" '^/dev/sdb1$'
assert_contains "$T/data" '^ext4$'
assert_contains "$T/fstab" '^/dev/sda1[[:space:]]+/[[:space:]]+ext4[[:space:]]'
assert_contains "$T/fstab" '^/dev/sdb1[[:space:]]+/data[[:space:]]+ext4[[:space:]]'
assert_not_contains "$T/fstab" 'UUID='
assert_contains "$T/rules" 'ATTR\{address\}=="00:50:56:[0-9a-f:]{8}".*NAME="eth0"'
assert_contains "$T/interfaces" '^iface ens192 inet static$'
assert_contains "$T/interfaces" 'address 192\.168\.10\.21/24'
[ "$(tr '\n' ' ' < "$T/ssh")" = "false false true " ] ||
  { cat "$T/ssh"; fail "sshd must be installed and not enabled"; }
[ "$(tr '\n' ' ' < "$T/vmtools")" = "true true " ] ||
  { cat "$T/vmtools"; fail "open-vm-tools must be installed and enabled"; }
assert_contains "$T/initramfs.conf" '^MODULES=dep$'
assert_contains "$T/grub" '^GRUB_DISABLE_LINUX_UUID=true$'
assert_contains "$T/grub" '^GRUB_CMDLINE_LINUX=""$'
assert_contains "$T/grub" 'linux[[:space:]]+/boot/vmlinuz-[^ ]+ root=/dev/sda1 ro'
assert_not_contains "$T/grub" 'console=ttyS'
assert_contains "$T/shadow" '^root:\$'
assert_contains "$T/initrd.list" '/vmw_pvscsi\.ko'
assert_contains "$T/initrd.list" '/ahci\.ko'
assert_contains "$T/initrd.list" '/ext4\.ko'
assert_not_contains "$T/initrd.list" '/hv_(vmbus|storvsc|netvsc)\.ko'
assert_not_contains "$T/initrd.list" '/virtio_(scsi|blk)\.ko'

# The UEFI and dracut guests, read without an appliance (debugfs).
uefi_root="$uefi?offset=$(part_off "$uefi" 2)"
dracut_root="$dracut?offset=$(part_off "$dracut" 1)"
sfdisk -d "$uefi" > "$T/gpt"
assert_contains "$T/gpt" '^label: gpt$'
assert_contains "$T/gpt" "${uefi}1 .*type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
esp="$uefi@@$(part_off "$uefi" 1)"
mdir -b -i "$esp" ::/EFI/debian > "$T/esp"
assert_contains "$T/esp" 'grubx64\.efi'
if mdir -i "$esp" ::/EFI/BOOT >/dev/null 2>&1; then
  fail "debian-uefi.img: has \\EFI\\BOOT (the fallback is the fixup's job)"
fi
# The NVRAM boot entry: Boot0001 -> \EFI\debian\grubx64.efi (UTF-16:
# read with the NULs dropped).
tr -d '\000' < "$IMAGES/debian-uefi-vars.fd" > "$T/vars"
grep -aqF 'Boot0001' "$T/vars" && grep -aqF 'BootOrder' "$T/vars" &&
  grep -aqF '\EFI\debian\grubx64.efi' "$T/vars" ||
  fail "debian-uefi-vars.fd: no boot entry for \\EFI\\debian\\grubx64.efi"
debugfs -R 'cat /etc/fstab' "$uefi_root" > "$T/fstab" 2>/dev/null
assert_contains "$T/fstab" '^/dev/sda2[[:space:]]+/[[:space:]]+ext4'
assert_contains "$T/fstab" '^/dev/sda1[[:space:]]+/boot/efi[[:space:]]+vfat'
debugfs -R 'ls /usr/lib/grub' "$uefi_root" > "$T/grubdirs" 2>/dev/null
assert_contains "$T/grubdirs" 'x86_64-efi'

debugfs -R 'cat /etc/NetworkManager/system-connections/ens192.nmconnection' \
  "$dracut_root" > "$T/nm" 2>/dev/null
assert_contains "$T/nm" '^mac-address=00:50:56:'
assert_contains "$T/nm" '^method=manual$'
debugfs -R 'cat /etc/dracut.conf.d/10-vmware.conf' "$dracut_root" > "$T/dracut" 2>/dev/null
assert_contains "$T/dracut" '^hostonly="yes"$'
debugfs -R "cat /etc/NetworkManager/conf.d/00-server.conf" "$dracut_root" > "$T/nmconf" 2>/dev/null
assert_contains "$T/nmconf" "^no-auto-default=\\*$"
for f in /usr/bin/dracut /usr/sbin/NetworkManager /etc/udev/rules.d/70-persistent-net.rules; do
  debugfs -R "stat $f" "$dracut_root" 2>&1 | grep -q 'Inode:' ||
    fail "debian-dracut.img: no $f"
done
for f in /usr/sbin/mkinitramfs /usr/sbin/ifup /etc/network/interfaces; do
  ! debugfs -R "stat $f" "$dracut_root" 2>&1 | grep -q 'Inode:' ||
    fail "debian-dracut.img: still has $f"
done

echo "debian images: ok"
