#!/usr/bin/env bash
# azprep fix on phony SLES 12 (mkinitrd, wicked), SLES 15 (dracut,
# wicked), Ubuntu 20.04 (update-initramfs, static netplan) and 22.04
# (netplan DHCP bound to a MAC, cloud-init, ufw): every trap gone, the
# tools called right for every kernel.
source tests/lib/functions.sh
GUESTS=(sles12 sles15 ubuntu2004 ubuntu2204)
source tests/lib/linux-phony.sh

# SLES: wicked ifcfg-eth0 on DHCP without LLADDR; INITRD_MODULES (12)
# or dracut.conf.d (15) persisted; splash=silent gone; generator masked.
for g in sles12 sles15; do
  assert_contains "$T/$g.find" '^etc/sysconfig/network/ifcfg-eth0$' "$g ifcfg-eth0"
  assert_not_contains "$T/$g.find" '^etc/sysconfig/network/ifcfg-ens192$' "$g old ifcfg"
  assert_contains "$T/$g.txt" "^BOOTPROTO=\"dhcp\"$" "$g dhcp"
  assert_not_contains "$T/$g.txt" "^(LLADDR|IPADDR)=" "$g static"
  assert_not_contains "$T/$g.grub" 'splash=silent' "$g splash"
  assert_not_contains "$T/$g.find" '^\.autorelabel$' "$g no SELinux"
done
assert_contains "$T/sles12.txt" '^INITRD_MODULES="vmw_pvscsi hv_vmbus hv_storvsc hv_netvsc nvme_core nvme"$' "sles12 INITRD_MODULES"
assert_contains "$T/sles12.find" '^etc/udev/rules.d/75-persistent-net-generator.rules$' "sles12 generator mask"
assert_contains "$T/sles15.txt" '^add_drivers\+=" hv_vmbus hv_storvsc hv_netvsc nvme_core nvme "$' "sles15 dracut.conf.d"

# Ubuntu: initramfs-tools modules persisted; netplan on eth0 DHCP
# without match/set-name; the static addresses gone (20.04).
for g in ubuntu2004 ubuntu2204; do
  for m in hv_vmbus hv_storvsc hv_netvsc nvme_core nvme; do
    assert_contains "$T/$g.txt" "^$m$" "$g initramfs-tools/modules $m"
  done
  assert_contains "$T/$g.txt" '^ +eth0:$' "$g netplan eth0"
  assert_contains "$T/$g.txt" '^ +dhcp4: true$' "$g netplan dhcp"
  assert_not_contains "$T/$g.txt" '(macaddress|set-name|gateway4|192\.168\.10\.60)' "$g netplan"
  assert_not_contains "$T/$g.grub" '^GRUB_CMDLINE_LINUX=.*splash' "$g splash"
done
assert_contains "$T/ubuntu2004.txt" '^# This is the network config written by' "ubuntu2004 comment kept"
# 22.04: cloud-init to the Azure datasource; ufw reported, not changed.
assert_contains "$T/ubuntu2204.txt" '^datasource_list: \[ Azure \]$' "ubuntu2204 cloud-init"
assert_contains "$T/ubuntu2204.fix.out" 'warning: /etc/ufw/ufw.conf: a host firewall is enabled' "ubuntu2204 ufw"
