# For the real Debian 12 guests' boot tests (test-linux-debian-bios.sh,
# test-linux-debian-uefi.sh): the images, overlays, and what every fixed
# Debian guest must show in its read-back.
requires qemu-system-x86_64 qemu-img guestfish
BT=(boot-test --accel tcg)
# ovl IMAGE OVERLAY: a qcow2 overlay; the image is never written (and
# image_stamp says so at the end).
ovl () { qemu-img create -q -f qcow2 -b "$(realpath "$1")" -F raw "$2"; }
image_stamp () { stat -c %Y:%s "$@"; }

# assert_debian_fixed G: $T/G.rb (the read-back of fixed guest G) and
# $T/G.initrd show what fix does to every Debian guest.
assert_debian_fixed () {
  local g=$1 R=$T/$1.rb
  assert_not_contains "$R" '^/dev/sd' "$g fstab"
  assert_contains "$R" '^UUID=0e0e0e0e-0000-4000-8000-00000000010[12] +/ +ext4 +errors=remount-ro 0 +1$' "$g fstab root"
  assert_contains "$R" '^/dev/sr0 +/media/cdrom0 +udf,iso9660 +user,noauto +0 +0$' "$g cdrom kept"
  assert_contains "$R" '^GRUB_CMDLINE_LINUX=".*console=ttyS0,115200n8.*net.ifnames=0' "$g grub"
  # initramfs-tools sleeps rootdelay seconds at every boot: not set.
  assert_not_contains "$R" 'rootdelay=' "$g rootdelay"
  assert_not_contains "$R" '^GRUB_DISABLE_LINUX_UUID=true' "$g grub uuid"
  assert_contains "$R" '^[[:space:]]*linux[[:space:]].*root=UUID=0e0e0e0e-0000-4000-8000-00000000010[12] .*console=ttyS0,115200n8' "$g grub.cfg"
  assert_not_contains "$R" '^[[:space:]]*linux[[:space:]].*root=/dev/sd' "$g grub.cfg"
  assert_contains "$R" '^serial --speed=115200' "$g grub.cfg serial"
  # The old initramfs is kept beside it (one backup).
  assert_contains "$R" '^/?initrd\.img-[0-9.]+-[0-9]+-amd64\.azprep-orig$' "$g initrd backup"
  assert_initrd_hv "$T/$g.initrd" "$g"
}
