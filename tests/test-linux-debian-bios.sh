#!/usr/bin/env bash
# The real Debian 12 BIOS guest with a data disk: boot-test fails
# before fix and passes after, as on Azure (disks on another
# controller, a new MAC, DHCP).  One fix, one guestfish session for
# every read-back and the test's own edits, three boots under TCG:
#   before  as it is: nothing on the serial console (silence);
#           with only console=ttyS0 added to a copy's grub.cfg: the
#           initramfs gives up waiting for the root device (no driver
#           for the new controller); the copy also gets rootdelay=10,
#           so that it gives up after 10 s instead of initramfs-tools'
#           default 180 s (the outcome is the same);
#   after   it reaches the default target, gets a DHCP lease, sshd
#           answers; it cannot reach the host (boot-test's
#           restrict=on): a unit the test adds tries at boot.
# The "before" boots end as soon as boot-test sees the guest is stuck.
# The UEFI guest is test-linux-debian-uefi.sh.  All disks are qcow2
# overlays: the images are never written.  Their backing files are
# followed because --format qcow2 says so.
source tests/lib/functions.sh
source tests/lib/debian-boot.sh
# One fix (its update-initramfs most of it) and three TCG boots: about
# 425 s on this 2-core machine beside the UEFI test (load 2).
bios=$(require_image debian-bios.img)
data=$(require_image debian-bios-data.img)
stamp=$(image_stamp "$bios" "$data")
ovl "$bios" "$T/bios.qcow2"
ovl "$data" "$T/data.qcow2"
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

# 1. fix.
expect_exit 0 "$AZPREP" fix --report "$T/bios.json" --format qcow2 "$T/bios.qcow2" \
  "$T/data.qcow2"
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

# 2. One appliance: read the fixed guest back (read-only), give the
# unfixed BIOS copy a serial console, nothing else (the test's own edit,
# so that the "before" boot shows why it fails), and add the probe.
guestfish > "$T/rb" <<EOF2
add $T/bios.qcow2 format:qcow2 readonly:true
add $T/data.qcow2 format:qcow2 readonly:true
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
$(grub_serial_console /dev/sdc1 rootdelay=10)
umount-all
mount /dev/sdd1 /
upload $T/probe.sh /usr/local/sbin/azprep-probe
chmod 0755 /usr/local/sbin/azprep-probe
upload $T/probe.service /etc/systemd/system/azprep-probe.service
ln-s /etc/systemd/system/azprep-probe.service /etc/systemd/system/multi-user.target.wants/azprep-probe.service
EOF2
split_readback "$T/rb"
check_serial_console
grep -q 'console=ttyS0,115200n8 rootdelay=10$' "$T/con.cfg" ||
  fail "con.cfg: rootdelay=10 was not added"
assert_debian_fixed bios
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

# 3. Before: each fails, and fails early (boot-test sees it is stuck).
expect_exit 3 "$AZPREP" "${BT[@]}" --json --silence 30 "$bios" "$data"
assert_contains "$T/out" '"stuck":[[:space:]]*"no console output for 30 s"'
expect_exit 3 "$AZPREP" "${BT[@]}" --json --console "$T/con.log" \
  --format qcow2 "$T/con.qcow2" --format auto "$data"
assert_contains "$T/out" '"stuck":[[:space:]]*"the initramfs gave up waiting for the root device"'
assert_contains "$T/con.log" 'Gave up waiting for root file system device'
assert_contains "$T/err" 'boot test failed .*the guest is stuck: the initramfs gave up'
assert_contains "$T/err" '--- serial console'

# 4. After: it boots, on a new controller with a new MAC.
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
[ "$(image_stamp "$bios" "$data")" = "$stamp" ] ||
  fail "an image was written"
