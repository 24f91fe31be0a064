#!/usr/bin/env bash
# azprep fix on phony RHEL 7, 8 (BLS, $kernelopts) and 9 (BLS, LVM
# devices file, NetworkManager keyfile): every trap gone, dracut and the
# GRUB tools called right for every kernel.
source tests/lib/functions.sh
GUESTS=(rhel7 rhel8 rhel9)
source tests/lib/linux-phony.sh

# RHEL 7: ifcfg renamed to eth0, DHCP, no HWADDR; backup kept aside.
assert_contains "$T/rhel7.find" '^etc/sysconfig/network-scripts/ifcfg-eth0$' "rhel7 ifcfg-eth0"
assert_not_contains "$T/rhel7.find" '^etc/sysconfig/network-scripts/ifcfg-ens192' "rhel7 old ifcfg"
assert_contains "$T/rhel7.find" '^var/lib/azprep/backup/etc/sysconfig/network-scripts/ifcfg-ens192$' "rhel7 backup"
assert_contains "$T/rhel7.txt" '^BOOTPROTO="dhcp"$' "rhel7 dhcp"
assert_contains "$T/rhel7.txt" '^DEVICE="eth0"$' "rhel7 device"
assert_not_contains "$T/rhel7.txt" '^(HWADDR|IPADDR)=' "rhel7 static"
assert_contains "$T/rhel7.find" '^etc/udev/rules.d/75-persistent-net-generator.rules$' "rhel7 generator mask"
for g in rhel7 rhel8 rhel9; do
  assert_contains "$T/$g.find" '^\.autorelabel$' "$g SELinux relabel"
  assert_contains "$T/$g.txt" '^add_drivers\+=" hv_vmbus hv_storvsc hv_netvsc nvme_core nvme "$' "$g dracut.conf.d"
done

# RHEL 8: BLS via $kernelopts in grubenv, waagent, lvm.conf filter.
assert_contains "$T/rhel8.log" "^grubby '--update-kernel=ALL' '--args=console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 net.ifnames=0 rootdelay=300 resume=UUID=01234567-0123-0123-0123-0123456789b2' '--remove-args=rhgb quiet splash splash=silent'$" "rhel8 grubby"
assert_contains "$T/rhel8.txt" '^kernelopts=.*console=ttyS0,115200n8' "rhel8 grubenv"
assert_not_contains "$T/rhel8.txt" '^kernelopts=.*(rhgb|quiet)' "rhel8 grubenv"
assert_contains "$T/rhel8.txt" '^Provisioning.Agent=disabled$' "rhel8 waagent"
assert_contains "$T/rhel8.txt" '^ResourceDisk.EnableSwap=y$' "rhel8 resource disk swap"
assert_contains "$T/rhel8.find" '^etc/NetworkManager/conf.d/99-azure-unmanaged-devices.conf$' "rhel8 NM AN"
assert_contains "$T/rhel8.fix.out" 'warning: /etc/lvm/lvm.conf: line 2: an LVM filter names /dev/sd' "rhel8 lvm filter"

# RHEL 9: BLS options edited, system.devices gone (and out of the
# initramfs), NM keyfile on DHCP without its MAC.
assert_contains "$T/rhel9.txt" '^options root=/dev/mapper/rhel-root ro .*console=ttyS0,115200n8.*resume=UUID=' "rhel9 BLS"
assert_not_contains "$T/rhel9.txt" '^options .*(rhgb|quiet)' "rhel9 BLS"
assert_not_contains "$T/rhel9.find" '^etc/lvm/devices/system.devices$' "rhel9 system.devices"
assert_contains "$T/rhel9.txt" '^interface-name=eth0$' "rhel9 NM name"
assert_contains "$T/rhel9.txt" '^method=auto$' "rhel9 NM dhcp"
assert_not_contains "$T/rhel9.txt" '^(mac-address|address1)=' "rhel9 NM static"
assert_contains "$T/rhel9.find" '^var/lib/azprep/backup/etc/NetworkManager/system-connections/ens192.nmconnection$' "rhel9 NM backup"
