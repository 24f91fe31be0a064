# The phony Linux guests, one function per guest, sourced by build.sh.
# Each sets what differs and defines family_extra for the network stack,
# agents and the family's own traps.
# shellcheck shell=bash disable=SC2034

declare -A release_files

rhel_common () {
  ko_suffix=.xz
  initrd_pattern=/boot/initramfs-%s.img
  tools=(/usr/bin/dracut /usr/sbin/grub2-mkconfig)
  grub_cfg=/boot/grub2/grub.cfg
  sshd=sshd vmtools=vmtoolsd
  cmdline_extra="crashkernel=auto rd.lvm.lv=rhel/root"
  os_release="NAME=\"Red Hat Enterprise Linux\"
VERSION=\"$1\"
ID=\"rhel\"
ID_LIKE=\"fedora\"
VERSION_ID=\"$1\"
PRETTY_NAME=\"$pretty\"
"
  release_files=([/etc/redhat-release]="$pretty")
  printf 'SELINUX=enforcing\nSELINUXTYPE=targeted\n' | put /etc/selinux/config
  # A few lines of the targeted policy's file contexts, in its format.
  put /etc/selinux/targeted/contexts/files/file_contexts <<'EOT'
/.*	system_u:object_r:default_t:s0
/etc(/.*)?	system_u:object_r:etc_t:s0
/etc/sysconfig/network-scripts(/.*)?	system_u:object_r:net_conf_t:s0
/etc/NetworkManager(/.*)?	system_u:object_r:NetworkManager_etc_t:s0
/boot(/.*)?	system_u:object_r:boot_t:s0
/usr(/.*)?	system_u:object_r:usr_t:s0
/lib/modules(/.*)?	system_u:object_r:modules_object_t:s0
EOT
  : | put /usr/sbin/load_policy 755
}

ifcfg_static () {       # ifcfg_static DIR NAME: a static ifcfg bound to a MAC
  put "$1/ifcfg-$2" <<EOT
TYPE=Ethernet
BOOTPROTO=none
NAME=$2
DEVICE=$2
ONBOOT=yes
HWADDR=00:50:56:aa:bb:cc
IPADDR=192.168.10.20
PREFIX=24
GATEWAY=192.168.10.1
DNS1=192.168.10.1
EOT
}

family_rhel7 () {
  idx=1 hostname=rhel7 pretty="Red Hat Enterprise Linux Server release 7.9 (Maipo)"
  kernels=(3.10.0-1160.el7.x86_64 3.10.0-1127.el7.x86_64)
  rhel_common 7.9
  generator=1
  family_extra () {
    ifcfg_static /etc/sysconfig/network-scripts ens192
    printf 'NETWORKING=yes\n' | put /etc/sysconfig/network
  }
}

family_rhel8 () {
  idx=2 hostname=rhel8 pretty="Red Hat Enterprise Linux release 8.8 (Ootpa)"
  kernels=(4.18.0-477.10.1.el8_8.x86_64 4.18.0-425.3.1.el8.x86_64)
  rhel_common 8.8
  tools+=(/usr/sbin/grubby)
  bls=1 bls_options='$kernelopts'
  family_extra () {
    put /etc/sysconfig/network-scripts/ifcfg-ens192 <<'EOT'
TYPE=Ethernet
BOOTPROTO=dhcp
NAME=ens192
DEVICE=ens192
ONBOOT=yes
HWADDR=00:50:56:aa:bb:cc
EOT
    : | put /usr/sbin/NetworkManager 755
    : | put /usr/sbin/waagent 755
    put /etc/waagent.conf <<'EOT'
# Microsoft Azure Linux Agent Configuration
Provisioning.Agent=auto
ResourceDisk.Format=n
ResourceDisk.EnableSwap=n
ResourceDisk.SwapSizeMB=0
Logs.Verbose=n
EOT
    printf '[Unit]\nDescription=Azure agent\n[Install]\nWantedBy=multi-user.target\n' |
      put /usr/lib/systemd/system/waagent.service
    ln -s /usr/lib/systemd/system/waagent.service \
      "$r/etc/systemd/system/multi-user.target.wants/waagent.service"
    put /etc/lvm/lvm.conf <<'EOT'
devices {
	filter = [ "a|^/dev/sda2$|", "r|.*|" ]
}
EOT
  }
}

family_rhel9 () {
  idx=3 hostname=rhel9 pretty="Red Hat Enterprise Linux release 9.2 (Plow)"
  kernels=(5.14.0-284.11.1.el9_2.x86_64 5.14.0-162.6.1.el9_1.x86_64)
  rhel_common 9.2
  tools+=(/usr/sbin/grubby)
  bls=1 embed_devices=1
  bls_options='root=/dev/mapper/rhel-root ro resume=/dev/sda2 rhgb quiet'
  family_extra () {
    put /etc/NetworkManager/system-connections/ens192.nmconnection 600 <<'EOT'
[connection]
id=ens192
uuid=5fb06bd0-0bb0-7ffb-45f1-d6edd65f3e03
type=ethernet
interface-name=ens192

[ethernet]
mac-address=00:50:56:AA:BB:CC

[ipv4]
address1=192.168.10.30/24,192.168.10.1
dns=192.168.10.1;
method=manual

[ipv6]
method=auto
EOT
    : | put /usr/sbin/NetworkManager 755
    put /etc/lvm/devices/system.devices <<'EOT'
# LVM uses devices listed in this file.
VERSION=1.1.2
IDTYPE=sys_wwid IDNAME=naa.6000c2912345678 DEVNAME=/dev/sda2 PVID=abcdefgh
EOT
  }
}

suse_common () {
  ko_suffix=.zst
  initrd_pattern=/boot/initrd-%s
  grub_cfg=/boot/grub2/grub.cfg
  sshd=sshd vmtools=vmtoolsd
  cmdline_extra="splash=silent"
  os_release="NAME=\"SLES\"
VERSION=\"$1\"
VERSION_ID=\"$1\"
PRETTY_NAME=\"$pretty\"
ID=\"sles\"
ID_LIKE=\"suse\"
"
  release_files=()
  printf 'INITRD_MODULES="vmw_pvscsi"\n' | put /etc/sysconfig/kernel
  family_extra () {
    put /etc/sysconfig/network/ifcfg-ens192 <<'EOT'
BOOTPROTO='static'
STARTMODE='auto'
IPADDR='192.168.10.40/24'
LLADDR='00:50:56:aa:bb:cc'
NAME='VMXNET3 Ethernet Controller'
EOT
    printf "default 192.168.10.1 - -\n" | put /etc/sysconfig/network/routes
    : | put /usr/sbin/wicked 755
  }
}

family_sles12 () {
  idx=4 hostname=sles12 pretty="SUSE Linux Enterprise Server 12 SP5"
  kernels=(4.12.14-122.37-default 4.12.14-122.26-default)
  suse_common 12.5
  tools=(/sbin/mkinitrd /usr/sbin/grub2-mkconfig)
  generator=1
}

family_sles15 () {
  idx=5 hostname=sles15 pretty="SUSE Linux Enterprise Server 15 SP5"
  kernels=(5.14.21-150500.55.19-default 5.14.21-150500.53-default)
  suse_common 15.5
  tools=(/usr/bin/dracut /usr/sbin/grub2-mkconfig)
}

ubuntu_common () {
  ko_suffix=
  initrd_pattern=/boot/initrd.img-%s
  tools=(/usr/sbin/update-initramfs /usr/sbin/update-grub /usr/sbin/grub-mkconfig)
  grub_cfg=/boot/grub/grub.cfg
  sshd=ssh vmtools=open-vm-tools
  cmdline_extra="splash"
  os_release="NAME=\"Ubuntu\"
VERSION=\"$1 LTS ($2)\"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME=\"$pretty\"
VERSION_ID=\"$1\"
VERSION_CODENAME=$2
UBUNTU_CODENAME=$2
"
  release_files=([/etc/lsb-release]="DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=$1
DISTRIB_CODENAME=$2
DISTRIB_DESCRIPTION=\"$pretty\"" [/etc/debian_version]="$3")
  put /etc/initramfs-tools/modules <<'EOT'
# List of modules that you want to include in your initramfs.
# They will be loaded at boot time in the order below.
EOT
}

family_ubuntu2004 () {
  idx=6 hostname=ubuntu2004 pretty="Ubuntu 20.04.6 LTS"
  kernels=(5.4.0-150-generic 5.4.0-148-generic)
  ubuntu_common 20.04 focal bullseye/sid
  family_extra () {
    put /etc/netplan/00-installer-config.yaml <<'EOT'
# This is the network config written by 'subiquity'
network:
  ethernets:
    ens192:
      match:
        macaddress: 00:50:56:aa:bb:cc
      set-name: ens192
      addresses:
      - 192.168.10.60/24
      gateway4: 192.168.10.1
      nameservers:
        addresses:
        - 192.168.10.1
        search: []
  version: 2
EOT
  }
}

family_ubuntu2204 () {
  idx=7 hostname=ubuntu2204 pretty="Ubuntu 22.04.3 LTS"
  kernels=(5.15.0-88-generic 5.15.0-86-generic)
  ubuntu_common 22.04 jammy bookworm/sid
  family_extra () {
    put /etc/netplan/50-cloud-init.yaml <<'EOT'
network:
    version: 2
    ethernets:
        ens160:
            dhcp4: true
            match:
                macaddress: 00:50:56:aa:bb:dd
            set-name: ens160
EOT
    : | put /usr/bin/cloud-init 755
    mkdir -p "$r/etc/cloud/cloud.cfg.d"
    printf 'datasource_list: [ NoCloud, None ]\n' | put /etc/cloud/cloud.cfg.d/90_dpkg.cfg
    put /etc/ufw/ufw.conf <<'EOT'
# /etc/ufw/ufw.conf
ENABLED=yes
LOGLEVEL=low
EOT
  }
}

# Bad inputs, each from a good guest with one thing broken.
family_bad_distro () {          # a distribution azprep does not know
  family_rhel9; idx=8 hostname=bad-distro pretty="Alpine Linux v3.18"
  os_release="NAME=\"Alpine Linux\"
ID=alpine
VERSION_ID=3.18.4
PRETTY_NAME=\"$pretty\"
"
  release_files=([/etc/alpine-release]="3.18.4")
}
family_bad_nokernel () {        # no kernel installed
  family_rhel9; idx=9 hostname=bad-nokernel; kernels=()
}
family_bad_notool () {          # no initramfs tool
  family_rhel9; hostname=bad-notool; tools=(/usr/sbin/grub2-mkconfig /usr/sbin/grubby)
}
family_bad_tool () {            # dracut fails
  family_rhel9; hostname=bad-tool
  local base_extra; base_extra=$(declare -f family_extra)
  eval "${base_extra/family_extra/family_extra_base}"
  family_extra () { family_extra_base; printf 'dracut\n' | put /etc/azprep-stub-fail; }
}
family_bad_fstab () {           # an fstab line that does not parse
  family_ubuntu2204; hostname=bad-fstab
  local base_extra; base_extra=$(declare -f family_extra)
  eval "${base_extra/family_extra/family_extra_base}"
  family_extra () {
    family_extra_base
    printf '/dev/sda1 / ext4 defaults 0 1\n/dev/sdb1\n' | put /etc/fstab
  }
}
family_bad_full () {            # a root file system with no space left
  family_ubuntu2204; hostname=bad-full
  local base_extra; base_extra=$(declare -f family_extra)
  eval "${base_extra/family_extra/family_extra_base}"
  family_extra () { family_extra_base; fill_root=1; }
}
