#!/usr/bin/env bash
# images/phony-linux/build.sh NAME OUT.img STUB: build one phony Linux
# guest (virt-v2v's test-data/phony-guests approach): no real OS, just
# enough for libguestfs inspection and for every azprep Linux fixup,
# with every trap seeded.  Built without an appliance: the root file
# system is made from a directory (mkfs.ext4 -d) and copied into an
# MBR-partitioned sparse image.  NAME: rhel7 rhel8 rhel9 sles12 sles15
# ubuntu2004 ubuntu2204.  STUB: the static stub tool (stub.c).
set -euo pipefail

name=$1 out=$2 stub=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/var/tmp}/phony-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
r=$work/root
mkdir -p "$r"


put () {                # put PATH [MODE] < content
  mkdir -p "$r$(dirname "$1")"
  cat > "$r$1"
  [ -z "${2:-}" ] || chmod "$2" "$r$1"
}
tool () {               # tool PATH: the stub under that name
  mkdir -p "$r$(dirname "$1")"
  cp "$stub" "$r$1"
  chmod 755 "$r$1"
}

# shellcheck source=images/phony-linux/families.sh
. "$here/families.sh"
family_"$name"          # sets the variables used below

mkdir -p "$r"/{etc,usr/bin,usr/sbin,usr/lib,var/lib,var/log,root,tmp,boot,dev,proc,sys,run}
ln -s usr/bin "$r/bin"
ln -s usr/sbin "$r/sbin"
ln -s usr/lib "$r/lib"
mkdir -p "$r/usr/lib64"; ln -s usr/lib64 "$r/lib64"
tool /usr/bin/ls                 # an x86_64 ELF for arch detection
tool /usr/bin/sh
echo "$hostname" | put /etc/hostname
printf '127.0.0.1 localhost\n' | put /etc/hosts
printf '%s' "$os_release" | put /etc/os-release
for f in "${!release_files[@]}"; do
  printf '%s\n' "${release_files[$f]}" | put "$f"
done

# fstab: device names, odd whitespace, comments, swap, NFS: all traps.
put /etc/fstab <<FSTAB
# /etc/fstab of a phony $name guest (azprep tests)
# <file system>  <mount point>  <type>  <options>  <dump>  <pass>
/dev/sda1	/	ext4	defaults,noatime	1 1
   /dev/sda2    none    swap   sw     0  0   
#/dev/sdc1 /old ext4 defaults 0 0
fileserver:/export/home	/mnt/home	nfs	rw,hard,intr	0 0
FSTAB

# Kernels: vmlinuz, modules (hv_*, nvme), an initramfs without them.
for k in "${kernels[@]}"; do
  head -c 4096 /dev/urandom | put "/boot/vmlinuz-$k"
  m=/usr/lib/modules/$k/kernel/drivers
  for mod in hv/hv_vmbus hv/hv_utils scsi/hv_storvsc net/hyperv/hv_netvsc \
             nvme/host/nvme nvme/host/nvme-core scsi/vmw_pvscsi \
             net/vmxnet3/vmxnet3; do
    printf '\177ELF phony module\n' | put "$m/$mod.ko$ko_suffix"
  done
  : | put "/usr/lib/modules/$k/modules.builtin"
  printf 'config phony\n' | put "/boot/config-$k"
  ( mkdir -p "$work/initrd/usr/lib/modules/$k/kernel/drivers/scsi"
    cd "$work/initrd"
    printf '#!/bin/sh\n' > init
    printf '\177ELF\n' > "usr/lib/modules/$k/kernel/drivers/scsi/vmw_pvscsi.ko"
    if [ -n "${embed_devices:-}" ]; then
      mkdir -p etc/lvm/devices
      printf 'VERSION=1.1.1\nIDTYPE=sys_wwid IDNAME=naa.6000c29 DEVNAME=/dev/sda2 PVID=x\n' \
        > etc/lvm/devices/system.devices
    fi
    find . | LC_ALL=C sort | cpio --quiet -o -H newc ) > "$r${initrd_pattern//%s/$k}"
  rm -rf "$work/initrd"
done

# Hyper-V modules blacklisted (CIS hardening style).
put /etc/modprobe.d/blacklist-hyperv.conf <<'EOT'
# hardening: no Hyper-V on this host
blacklist hv_netvsc
install hv_vmbus /bin/true
EOT
printf 'options loop max_loop=8\n' | put /etc/modprobe.d/loop.conf

# udev rules pinning names to MACs.
put /etc/udev/rules.d/70-persistent-net.rules <<'EOT'
SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="00:50:56:aa:bb:cc", NAME="ens192"
EOT
if [ -n "${generator:-}" ]; then
  printf '# persistent net generator\n' |
    put /usr/lib/udev/rules.d/75-persistent-net-generator.rules
fi

# systemd: sshd installed, not enabled; VMware tools enabled.
: | put /usr/lib/systemd/systemd 755
mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
printf '[Unit]\nDescription=OpenSSH\n[Service]\nExecStart=/usr/sbin/sshd -D\n[Install]\nWantedBy=multi-user.target\n' |
  put "/usr/lib/systemd/system/$sshd.service"
: | put /usr/sbin/sshd 755
printf '[Unit]\nDescription=VMware tools\n[Install]\nWantedBy=multi-user.target\n' |
  put "/usr/lib/systemd/system/$vmtools.service"
ln -s "/usr/lib/systemd/system/$vmtools.service" \
  "$r/etc/systemd/system/multi-user.target.wants/$vmtools.service"
: | put /usr/bin/vmtoolsd 755

# GRUB settings with the traps: rhgb quiet, resume= on a device name.
put /etc/default/grub <<EOT
GRUB_TIMEOUT=5
GRUB_DEFAULT=saved
GRUB_TERMINAL_OUTPUT="console"
GRUB_CMDLINE_LINUX="resume=/dev/sda2 $cmdline_extra rhgb quiet"
GRUB_DISABLE_RECOVERY="true"
EOT
for t in "${tools[@]}"; do tool "$t"; done
mkdir -p "$r$(dirname "$grub_cfg")"
{ echo "# old grub.cfg"
  if [ -n "${bls:-}" ]; then echo blscfg; else
    for k in "${kernels[@]}"; do
      printf "menuentry 'Linux %s' {\n\tlinux /boot/vmlinuz-%s root=/dev/sda1 ro rhgb quiet\n}\n" "$k" "$k"
    done
  fi; } > "$r$grub_cfg"
if [ -n "${bls:-}" ]; then
  for k in "${kernels[@]}"; do
    put "/boot/loader/entries/0123456789abcdef-$k.conf" <<EOT
title $pretty ($k)
version $k
linux /vmlinuz-$k
initrd /${initrd_pattern#/boot/}
options $bls_options
EOT
    sed -i "s|%s|$k|" "$r/boot/loader/entries/0123456789abcdef-$k.conf"
  done
  printf '# GRUB Environment Block\nkernelopts=root=/dev/mapper/rhel-root ro resume=/dev/sda2 rhgb quiet\n' |
    put /boot/grub2/grubenv
fi

family_extra            # network stack, agents, SELinux, LVM

# Fixed UUIDs so that results repeat.
root_uuid=01234567-0123-0123-0123-0123456789a$idx
swap_uuid=01234567-0123-0123-0123-0123456789b$idx

# Assemble: MBR, p1 root ext4, p2 swap.
fs=$work/root.ext4 sw=$work/swap
truncate -s 300M "$fs"
if [ -n "${fill_root:-}" ]; then
  # A 40 MiB root with (almost) no free block and no reserve: fix's
  # writes fail with ENOSPC.
  truncate -s 40M "$fs"
  mkfs.ext4 -q -F -m 0 -U "$root_uuid" -L root -E root_owner=0:0 -d "$r" "$fs"
  free=$(dumpe2fs -h "$fs" 2>/dev/null | awk -F: '/^Free blocks/ { print $2 + 0 }')
  for slack in 3 6 12 24 48; do
    { tr "\\0" x < /dev/zero || true; } | head -c $(( (free - slack) * 1024 )) > "$r/var/filler"
    mkfs.ext4 -q -F -m 0 -U "$root_uuid" -L root -E root_owner=0:0 \
      -d "$r" "$fs" 2>/dev/null && break
  done
else
  mkfs.ext4 -q -F -U "$root_uuid" -L root -E root_owner=0:0 -d "$r" "$fs"
fi
truncate -s 16M "$sw"
mkswap -q -U "$swap_uuid" "$sw" >/dev/null
rm -f "$out.tmp"
truncate -s 340M "$out.tmp"
printf 'label: dos\nlabel-id: 0x1234560%s\nstart=2048, size=614400, type=83, bootable\nstart=616448, size=32768, type=82\n' "$idx" |
  sfdisk --quiet --no-reread --no-tell-kernel "$out.tmp" >/dev/null
dd if="$fs" of="$out.tmp" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$sw" of="$out.tmp" bs=512 seek=616448 conv=notrunc,sparse status=none
mv -f "$out.tmp" "$out"
