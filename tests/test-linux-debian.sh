#!/usr/bin/env bash
# The real Debian 12 guests (BIOS with a data disk, UEFI): boot-test
# fails before fix and passes after, as on Azure (disks on another
# controller, a new MAC, DHCP, blank NVRAM).  One fix per guest, one
# guestfish session for every read-back, five boots under TCG:
#   before  BIOS as it is: nothing on the serial console (silence);
#           BIOS with only console=ttyS0 added to a copy's grub.cfg: the
#           initramfs gives up waiting for the root device (no driver
#           for the new controller);
#           UEFI as it is: no \EFI\BOOT\BOOTX64.EFI, OVMF starts its shell;
#   after   both reach the default target, get a DHCP lease, sshd answers;
#           UEFI boots OVMF -> the disk's fallback loader;
#           the BIOS guest cannot reach the host (boot-test's
#           restrict=on): a unit the test adds tries at boot.
# The "before" boots end as soon as boot-test sees the guest is stuck.
# All disks are qcow2 overlays: the images are never written.  Their
# backing files are followed because --format qcow2 says so.
source tests/lib/functions.sh
# Two fixes and five TCG boots, the fixes' update-initramfs runs most
# of it: 661 s on this 2-core machine at load 1-2.
requires qemu-system-x86_64 qemu-img guestfish
bios=$(require_image debian-bios.img)
data=$(require_image debian-bios-data.img)
uefi=$(require_image debian-uefi.img)
[ -e /usr/share/OVMF/OVMF_CODE_4M.fd ] || skip "OVMF is not installed"
BT=(boot-test --accel tcg)
stamp=$(stat -c %Y:%s "$bios" "$data" "$uefi")
ovl () { qemu-img create -q -f qcow2 -b "$(realpath "$1")" -F raw "$2"; }
ovl "$bios" "$T/bios.qcow2"
ovl "$data" "$T/data.qcow2"
ovl "$uefi" "$T/uefi.qcow2"
ovl "$bios" "$T/con.qcow2"

# The guest must not reach the host (restrict=on, issue 16 F7): a port
# the test listens on at 127.0.0.1, which slirp without restrict=on
# would serve to the guest as 10.0.2.2.  Every connection is recorded.
python3 - "$T/listen" <<'EOP' &
import socket, sys
s = socket.socket ()
s.bind (("127.0.0.1", 0))
s.listen (8)
with open (sys.argv[1] + ".port", "w") as f:
    f.write ("%d\n" % s.getsockname ()[1])
while True:
    c, a = s.accept ()
    with open (sys.argv[1] + ".log", "a") as f:
        f.write ("connection from %s:%d\n" % a)
    c.close ()
EOP
on_exit "kill $!"
for _ in $(seq 50); do [ -s "$T/listen.port" ] && break; sleep 0.1; done
hport=$(cat "$T/listen.port")

# 1. fix, once per guest.
expect_exit 0 "$AZPREP" fix --report "$T/bios.json" --format qcow2 "$T/bios.qcow2" \
  "$T/data.qcow2"
cp "$T/out" "$T/bios.out"
expect_exit 0 "$AZPREP" fix --report "$T/uefi.json" --format qcow2 "$T/uefi.qcow2"
cp "$T/out" "$T/uefi.out"
assert_contains "$T/uefi.out" 'changed: \[linux-uefi-fallback\]'
# The fixed BIOS guest boots (step 4) from an overlay that adds one
# unit (step 2): before the default target and sshd, once the network
# is up, it writes its address (from slirp's DHCP) on the console, tries
# the test's host port, the host's port 22 and the instance metadata
# service, and writes each result there.
qemu-img create -q -f qcow2 -b "$T/bios.qcow2" -F qcow2 "$T/probe.qcow2"
cat > "$T/probe.sh" <<EOP
#!/bin/bash
# allow-hotplug: networking.service may end before eth0 has its lease.
for i in \$(seq 120); do
  a=\$(ip -4 -o addr show scope global)
  [ -n "\$a" ] && break
  sleep 1
done
echo "azprep-probe addr \$a" > /dev/ttyS0
try () {
  timeout 5 bash -c "exec 3<>/dev/tcp/\$1/\$2" 2>/dev/null
  echo "azprep-probe \$1:\$2 rc=\$?" > /dev/ttyS0
}
try 10.0.2.2 $hport & try 10.0.2.2 22 & try 169.254.169.254 80 & wait
EOP
cat > "$T/probe.service" <<EOP
[Unit]
Description=azprep test: try to reach the host from the guest
Wants=network-online.target
After=network-online.target
Before=multi-user.target ssh.service getty.target serial-getty@ttyS0.service
[Service]
Type=oneshot
TimeoutStartSec=180
ExecStart=/usr/local/sbin/azprep-probe
EOP

# 2. One appliance: read both fixed guests back (read-only), give the
# unfixed BIOS copy a serial console, nothing else (the test's own edit,
# so that the "before" boot shows why it fails), and add the probe.
guestfish > "$T/rb" <<EOF2
add $T/bios.qcow2 format:qcow2 readonly:true
add $T/data.qcow2 format:qcow2 readonly:true
add $T/uefi.qcow2 format:qcow2 readonly:true
add $T/con.qcow2 format:qcow2
add $T/probe.qcow2 format:qcow2
run
mount-ro /dev/sda1 /
echo ==== bios
cat /etc/fstab
cat /etc/network/interfaces
cat /etc/default/grub
cat /boot/grub/grub.cfg
cat /etc/initramfs-tools/modules
find /etc
find /boot
glob download /boot/initrd.img-*-amd64 $T/bios.initrd
-readlink /etc/systemd/system/multi-user.target.wants/ssh.service
echo ==== bios-backup
find /var/lib/azprep/backup
umount-all
mount-ro /dev/sdc2 /
mount-ro /dev/sdc1 /boot/efi
echo ==== uefi
cat /etc/fstab
cat /etc/default/grub
cat /boot/grub/grub.cfg
find /boot
glob download /boot/initrd.img-*-amd64 $T/uefi.initrd
umount-all
$(grub_serial_console /dev/sdd1)
umount-all
mount /dev/sde1 /
upload $T/probe.sh /usr/local/sbin/azprep-probe
chmod 0755 /usr/local/sbin/azprep-probe
upload $T/probe.service /etc/systemd/system/azprep-probe.service
ln-s /etc/systemd/system/azprep-probe.service /etc/systemd/system/multi-user.target.wants/azprep-probe.service
EOF2
split_readback "$T/rb"
check_serial_console
for g in bios uefi; do
  R=$T/$g.rb
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
done
R=$T/bios.rb
assert_contains "$R" $'^UUID=0e0e0e0e-0000-4000-8000-000000000201\t/data\text4\tdefaults,noatime,nofail\t0\t2$' "bios data nofail"
assert_contains "$R" '^iface eth0 inet dhcp$' "bios dhcp"
assert_not_contains "$R" '(ens192|address 192\.168)' "bios static"
assert_contains "$R" '^/?udev/rules\.d$' "bios find /etc"
assert_not_contains "$R" '^/?udev/rules\.d/70-persistent-net\.rules$' "bios udev"
assert_contains "$R" '^/lib/systemd/system/ssh.service$' "bios sshd"
assert_not_contains "$R" 'multi-user.target.wants/open-vm-tools.service$' "bios vmtools"
# Backups: the network configuration's under /var/lib/azprep/backup,
# out of the network stack's way; every other file's beside it.
assert_contains "$T/bios-backup.rb" '^/?etc/network/interfaces$' "bios interfaces backup"
assert_not_contains "$R" 'network/interfaces.*\.azprep-orig' "bios interfaces backup"
assert_contains "$R" '^/?default/grub\.azprep-orig$' "bios grub backup"
assert_contains "$T/uefi.rb" '^/?efi/EFI/BOOT/BOOTX64\.EFI$' "uefi fallback"
assert_contains "$T/uefi.rb" '^/?efi/EFI/debian/grubx64\.efi$' "uefi grub kept"
assert_contains "$T/uefi.rb" $'^UUID=0E0E-0102 +/boot/efi' "uefi esp fstab"

# 3. Before: each fails, and fails early (boot-test sees it is stuck).
expect_exit 3 "$AZPREP" "${BT[@]}" --json --silence 30 "$bios" "$data"
assert_contains "$T/out" '"stuck":[[:space:]]*"no console output for 30 s"'
expect_exit 3 "$AZPREP" "${BT[@]}" --json --console "$T/con.log" \
  --format qcow2 "$T/con.qcow2" --format auto "$data"
assert_contains "$T/out" '"stuck":[[:space:]]*"the initramfs gave up waiting for the root device"'
assert_contains "$T/con.log" 'Gave up waiting for root file system device'
assert_contains "$T/err" 'boot test failed .*the guest is stuck: the initramfs gave up'
assert_contains "$T/err" '--- serial console'
expect_exit 3 "$AZPREP" "${BT[@]}" --json "$uefi"
assert_contains "$T/out" '"firmware":[[:space:]]*"uefi"'
assert_contains "$T/out" '"stuck":[[:space:]]*"the UEFI firmware found no boot loader'

# 4. After: both boot, on a new controller with a new MAC, blank NVRAM.
# The BIOS guest (with the probe) gets its lease and answers on the ssh
# forward, but none of its connections out of the guest arrive.
expect_exit 0 "$AZPREP" "${BT[@]}" --json --timeout 900 --console \
  "$T/bios.log" --format qcow2 "$T/probe.qcow2" "$T/data.qcow2"
assert_contains "$T/out" '"passed":[[:space:]]*true'
assert_contains "$T/out" '"stuck":[[:space:]]*null'
assert_contains "$T/out" '"ssh_banner":[[:space:]]*"SSH-2.0-OpenSSH'
assert_contains "$T/bios.log" 'azprep-probe addr .*inet 10\.0\.2\.15/24' "dhcp"
for to in "10\.0\.2\.2:$hport" '10\.0\.2\.2:22' '169\.254\.169\.254:80'; do
  assert_contains "$T/bios.log" "azprep-probe $to rc=[1-9]" "guest to $to"
done
[ ! -e "$T/listen.log" ] ||
  fail "the guest reached the host: $(cat "$T/listen.log")"
expect_exit 0 "$AZPREP" "${BT[@]}" --json --timeout 900 \
  --console "$T/uefi.log" --format qcow2 "$T/uefi.qcow2"
assert_contains "$T/out" '"firmware":[[:space:]]*"uefi"'
assert_contains "$T/out" '"passed":[[:space:]]*true'
# OVMF's blank NVRAM: it booted the disk's removable-media path.
assert_contains "$T/uefi.log" 'BdsDxe: starting Boot[0-9A-F]+ "UEFI QEMU QEMU HARDDISK'
[ "$(stat -c %Y:%s "$bios" "$data" "$uefi")" = "$stamp" ] ||
  fail "an image was written"
