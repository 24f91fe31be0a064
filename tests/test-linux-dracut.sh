#!/usr/bin/env bash
# The real Debian 12 guest built with dracut (host-only) and
# NetworkManager: fix runs the guest's own dracut, then boot-test
# fails before and passes after, as on Azure (disk on another
# controller, a new MAC, DHCP).  One fix, one guestfish session for
# every read-back, two boots under TCG:
#   before  a copy with only console=ttyS0 added to its grub.cfg: the
#           host-only initramfs has no driver for the new controller and
#           systemd waits for /dev/sda1 with no time limit;
#   after   it reaches the default target, NetworkManager gets a DHCP
#           lease on eth0, sshd answers.
# All disks are qcow2 overlays: the image is never written.  Their
# backing files are followed because --format qcow2 says so.
source tests/lib/functions.sh
# dracut under TCG is most of it: about 400 s for the fix and 150 s
# per boot on this 2-core machine at load 3.
requires qemu-system-x86_64 qemu-img guestfish
img=$(require_image debian-dracut.img)
BT=(boot-test --accel tcg)
stamp=$(stat -c %Y:%s "$img")
ovl () { qemu-img create -q -f qcow2 -b "$(realpath "$1")" -F raw "$2"; }
ovl "$img" "$T/d.qcow2"
ovl "$img" "$T/con.qcow2"

# 1. fix, once.
expect_exit 0 "$AZPREP" fix --report "$T/d.json" --format qcow2 "$T/d.qcow2"
for f in linux-fstab linux-persistent-net linux-network linux-nm-unmanaged \
         linux-sshd linux-boot-params linux-vmware-tools linux-initramfs \
         linux-grub-config; do
  assert_contains "$T/out" "^changed: \[$f\]" "fix: $f"
done
assert_contains "$T/err" 'initramfs lacks hv_vmbus hv_storvsc hv_netvsc'

# 2. One appliance: read the fixed guest back (read-only) and give the
# unfixed copy a serial console, nothing else (the test's own edit, so
# that the "before" boot shows why it fails).
guestfish > "$T/rb" <<EOF2
add $T/d.qcow2 format:qcow2 readonly:true
add $T/con.qcow2 format:qcow2
run
mount-ro /dev/sda1 /
echo ==== fixed
cat /etc/fstab
cat /etc/NetworkManager/system-connections/ens192.nmconnection
cat /etc/NetworkManager/conf.d/99-azure-unmanaged-devices.conf
cat /etc/dracut.conf.d/90-azure-hyperv.conf
cat /etc/default/grub
cat /boot/grub/grub.cfg
find /etc/udev/rules.d
find /boot
-readlink /etc/systemd/system/multi-user.target.wants/ssh.service
-readlink /etc/systemd/system/multi-user.target.wants/open-vm-tools.service
glob download /boot/initrd.img-*-amd64 $T/d.initrd
echo ==== backup
find /var/lib/azprep/backup
umount-all
$(grub_serial_console /dev/sdb1)
EOF2
split_readback "$T/rb"
check_serial_console
R=$T/fixed.rb
assert_not_contains "$R" '^/dev/sd' "fstab"
assert_contains "$R" '^UUID=0e0e0e0e-0000-4000-8000-000000000103 +/ +ext4 +errors=remount-ro 0 +1$' "fstab root"
assert_contains "$R" '^/dev/sr0 +/media/cdrom0 +udf,iso9660 +user,noauto +0 +0$' "cdrom kept"
# The NetworkManager keyfile: eth0, DHCP, no MAC binding, no address.
assert_contains "$R" '^interface-name=eth0$' "keyfile eth0"
assert_not_contains "$R" '^interface-name=ens192$' "keyfile ens192"
assert_not_contains "$R" '^mac-address=' "keyfile mac"
assert_not_contains "$R" '^address1=' "keyfile address"
assert_not_contains "$R" '^method=manual$' "keyfile static"
assert_contains "$R" '^method=auto$' "keyfile dhcp"
assert_contains "$R" '^uuid=0e0e0e0e-0000-4000-8000-0000000c0003$' "keyfile uuid kept"
assert_contains "$R" '^unmanaged-devices=driver:mlx4_core;driver:mlx5_core$' "nm unmanaged"
assert_contains "$R" '^add_drivers\+=" hv_vmbus hv_storvsc hv_netvsc nvme_core nvme "$' "dracut.conf.d"
# dracut guests get rootdelay=300, as Azure advises (initramfs-tools
# guests do not: their init sleeps it at every boot).
assert_contains "$R" '^GRUB_CMDLINE_LINUX=".*console=ttyS0,115200n8.*net\.ifnames=0.*rootdelay=300' "grub"
assert_not_contains "$R" '^GRUB_CMDLINE_LINUX_DEFAULT=".*quiet' "grub quiet"
assert_not_contains "$R" '^GRUB_DISABLE_LINUX_UUID=true' "grub uuid"
assert_contains "$R" '^[[:space:]]*linux[[:space:]].*root=UUID=0e0e0e0e-0000-4000-8000-000000000103 .*console=ttyS0,115200n8' "grub.cfg"
assert_not_contains "$R" '^[[:space:]]*linux[[:space:]].*root=/dev/sd' "grub.cfg root"
assert_contains "$R" '^serial --speed=115200' "grub.cfg serial"
assert_not_contains "$R" '70-persistent-net\.rules$' "udev rule"
assert_contains "$R" '^/lib/systemd/system/ssh.service$' "sshd"
assert_not_contains "$R" 'open-vm-tools.service$' "vmtools"
assert_contains "$R" '^/?initrd\.img-[0-9.]+-[0-9]+-amd64\.azprep-orig$' "initrd backup"
assert_contains "$T/backup.rb" 'NetworkManager/system-connections/ens192\.nmconnection$' "keyfile backup"
# The rebuilt initramfs, listed by our own reader: the drivers are in.
assert_initrd_hv "$T/d.initrd" dracut

# 3. Before: systemd in the host-only initramfs waits for /dev/sda1 for
# ever; boot-test calls it stuck after 2 minutes.
expect_exit 3 "$AZPREP" "${BT[@]}" --json --timeout 600 --console "$T/con.log" \
  --format qcow2 "$T/con.qcow2"
assert_contains "$T/out" '"stuck":[[:space:]]*"the guest has waited [0-9]+ min for dev-sda1\.device with no time limit'
assert_contains "$T/con.log" 'Job dev-sda1\.device/start running \([0-9]+min'
assert_contains "$T/err" 'boot test failed .*the guest is stuck: the guest has waited'

# 4. After: it boots on a new controller with a new MAC.
expect_exit 0 "$AZPREP" "${BT[@]}" --json --timeout 900 --console "$T/d.log" \
  --format qcow2 "$T/d.qcow2"
assert_contains "$T/out" '"passed":[[:space:]]*true'
assert_contains "$T/out" '"stuck":[[:space:]]*null'
assert_contains "$T/out" '"ssh_banner":[[:space:]]*"SSH-2.0-OpenSSH'
[ "$(stat -c %Y:%s "$img")" = "$stamp" ] || fail "the image was written"
