#!/usr/bin/env bash
# images/debian.sh VARIANT BASE.tar OUTDIR: a real Debian 12 guest made to
# look as it does when it comes from VMware (images/README.md lists every
# trap).  VARIANT is
#   bios    debian-bios.img (MBR, GRUB for BIOS) + debian-bios-data.img
#   uefi    debian-uefi.img (GPT, ESP, GRUB x86_64-efi) + debian-uefi-vars.fd
#   dracut  debian-dracut.img (MBR, BIOS, dracut + NetworkManager)
# Derived offline from the debootstrap tarball of images/base.sh; no
# appliance, no loop device.  Needs root (chroot).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

variant=$1 base=$2 out=$3
[ "$(id -u)" = 0 ] || die "needs root (chroot)"

ROOT_PASSWORD=azprep            # documented in images/README.md
case $variant in
  bios)   n=1 ;;
  uefi)   n=2 ;;
  dracut) n=3 ;;
  *) die "$variant: unknown variant (bios, uefi, dracut)" ;;
esac
HOST=vmw-deb12-$variant
MAC=00:50:56:8a:3c:0$n
ADDR=192.168.10.2$n
ROOT_UUID=0e0e0e0e-0000-4000-8000-00000000010$n
DATA_UUID=0e0e0e0e-0000-4000-8000-000000000201
ESP_ID=0E0E0102
ESP_PARTUUID=0e0e0e0e-0000-4000-8000-0000000e5f01
ROOT_PARTUUID=0e0e0e0e-0000-4000-8000-0000000e5f02
DISK_MIB=3072
DATA_MIB=1024
ESP_MIB=100
# What MODULES=dep computes on the source VM (its disk controllers:
# VMware IDE, SATA, PVSCSI, LSI Logic), and nothing for Hyper-V or virtio.
INITRD_DRIVERS="ata_piix ahci vmw_pvscsi mptspi sd_mod ext4 crc32c_generic"
INITRD_NOT="hv_vmbus hv_storvsc hv_netvsc virtio_scsi virtio_blk virtio_pci"
# dracut modules a host-only build on that VM (plain ext4, static network
# in the root file system) leaves out; qemu and qemu-net would add virtio.
DRACUT_OMIT="qemu qemu-net virtiofs dm crypt mdraid lvm dmraid multipath
  nvdimm iscsi nbd nfs cifs fcoe fcoe-uefi network network-legacy
  network-manager ifcfg btrfs plymouth memstrack"

step () { echo "${0##*/} $variant: $(date +%T) $*"; }
work=$out/work/$variant
tree=$work/tree
cleanup () { drop_tree "$tree"; rm -rf "$work"; }
trap cleanup EXIT
cleanup
mkdir -p "$work"
scratch_tree "$tree"
step "unpack $base"
tar -C "$tree" --numeric-owner --xattrs --xattrs-include='*' -xf "$base"
mount -t proc proc "$tree/proc"
in_guest () { chroot "$tree" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 ${INITRD:+INITRD=$INITRD} "$@"; }
apt_offline () { in_guest apt-get -qq -y -o Dpkg::Use-Pty=0 --no-install-recommends \
                  --no-download "$@"; }
kver=$(basename "$(ls -d "$tree"/lib/modules/*-amd64 | sort -V | tail -1)")

step "packages"
# ---- packages: the variants swap what base.sh downloaded -------------
# grub-install cannot work in a chroot (no device): a package script that
# calls it gets a stub for the time of the install.
stub_grub_install () {
  in_guest dpkg-divert --quiet --local --rename --add /usr/sbin/grub-install
  printf '#!/bin/sh\nexit 0\n' > "$tree/usr/sbin/grub-install"
  chmod +x "$tree/usr/sbin/grub-install"
}
unstub_grub_install () {
  rm -f "$tree/usr/sbin/grub-install"
  in_guest dpkg-divert --quiet --local --rename --remove /usr/sbin/grub-install
}
case $variant in
  uefi)
    stub_grub_install
    in_guest dpkg --purge grub-pc >/dev/null
    apt_offline install grub-efi-amd64 >/dev/null
    unstub_grub_install ;;
  dracut)
    # dracut's own install hook would build a generic initrd (it has the
    # Hyper-V drivers): skipped here, built below with the VM's drivers.
    INITRD=No apt_offline install dracut dracut-core network-manager >/dev/null
    in_guest apt-get -qq -y -o Dpkg::Use-Pty=0 purge ifupdown isc-dhcp-client initramfs-tools \
      initramfs-tools-core >/dev/null
    rm -f "$tree/etc/network/interfaces" ;;
esac

step "configuration"
# ---- the guest's configuration: VMware look, with the traps ----------
echo "$HOST" > "$tree/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' \
  "$HOST" > "$tree/etc/hosts"
printf '%032x\n' $((0x0e0e0000 + n)) > "$tree/etc/machine-id"
echo "root:$ROOT_PASSWORD" | in_guest chpasswd

# fstab on kernel device names, as the installer wrote it on VMware.
{
  echo '# /etc/fstab: static file system information.'
  echo '#'
  echo '# <file system> <mount point>   <type>  <options>       <dump>  <pass>'
  case $variant in
    uefi)
      echo '/dev/sda2       /               ext4    errors=remount-ro 0       1'
      echo '/dev/sda1       /boot/efi       vfat    umask=0077      0       1' ;;
    bios)
      echo '/dev/sda1       /               ext4    errors=remount-ro 0       1'
      printf '# data disk (VMware: SCSI 0:1)\n/dev/sdb1\t/data\text4\tdefaults,noatime\t0\t2\n' ;;
    dracut)
      echo '/dev/sda1       /               ext4    errors=remount-ro 0       1' ;;
  esac
  echo '/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0'
} > "$tree/etc/fstab"
mkdir -p "$tree/data" "$tree/media/cdrom0" "$tree/boot/efi"

# eth0 pinned to the VMware MAC (udev's old persistent-net generator).
cat > "$tree/etc/udev/rules.d/70-persistent-net.rules" <<EOT
# This file was automatically generated by the /lib/udev/write_net_rules
# program, run by the persistent-net-generator.rules rules file.
#
# You can modify it, as long as you keep each rule on a single
# line, and change only the value of the NAME= key.

# PCI device 0x15ad:0x07b0 (vmxnet3)
SUBSYSTEM=="net", ACTION=="add", DRIVERS=="?*", ATTR{address}=="$MAC", ATTR{dev_id}=="0x0", ATTR{type}=="1", KERNEL=="eth*", NAME="eth0"
EOT

if [ "$variant" = dracut ]; then
  # NetworkManager keyfile: static address, bound to the VMware MAC.
  f=$tree/etc/NetworkManager/system-connections/ens192.nmconnection
  cat > "$f" <<EOT
[connection]
id=ens192
uuid=0e0e0e0e-0000-4000-8000-0000000c0003
type=ethernet
interface-name=ens192
autoconnect=true

[ethernet]
mac-address=${MAC^^}

[ipv4]
method=manual
address1=$ADDR/24,192.168.10.1
dns=192.168.10.1;

[ipv6]
addr-gen-mode=stable-privacy
method=auto

[proxy]
EOT
  chmod 600 "$f"
  # As NetworkManager-config-server does on RHEL: no automatic DHCP
  # "Wired connection 1" for a NIC without a profile.
  printf '[main]\nno-auto-default=*\n' > "$tree/etc/NetworkManager/conf.d/00-server.conf"
else
  cat > "$tree/etc/network/interfaces" <<EOT
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug ens192
iface ens192 inet static
	address $ADDR/24
	gateway 192.168.10.1
	# dns-* options are implemented by the resolvconf package, if installed
	dns-nameservers 192.168.10.1
EOT
fi

# open-vm-tools enabled (its package does it), sshd installed but off.
[ -L "$tree/etc/systemd/system/multi-user.target.wants/open-vm-tools.service" ] ||
  die "open-vm-tools is not enabled in the base system"
in_guest systemctl disable --quiet ssh.service ssh.socket
[ ! -e "$tree/etc/systemd/system/multi-user.target.wants/ssh.service" ] ||
  die "ssh.service is still enabled"

step "initramfs"
# ---- initramfs without the Hyper-V drivers ---------------------------
# MODULES=dep (or dracut hostonly) run here would look at the build
# host's devices, not the VM's: the initrd is built from the explicit list
# above, the guest's configuration says what the source VM used.
initrd=/boot/initrd.img-$kver
if [ "$variant" = dracut ]; then
  mkdir -p "$tree/etc/dracut.conf.d"
  cat > "$tree/etc/dracut.conf.d/10-vmware.conf" <<EOT
# Only what this VM needs to boot (set when it was built on VMware).
hostonly="yes"
hostonly_cmdline="no"
EOT
  in_guest dracut --quiet --force --no-hostonly --no-hostonly-cmdline \
    --omit "$DRACUT_OMIT" --drivers "$INITRD_DRIVERS" \
    --omit-drivers "$INITRD_NOT" "$initrd" "$kver"
  in_guest lsinitrd "$initrd" > "$work/initrd.list"
else
  sed -i 's/^MODULES=.*/MODULES=dep/' "$tree/etc/initramfs-tools/initramfs.conf"
  cp -a "$tree/etc/initramfs-tools" "$work/initramfs-conf"
  # FSTYPE: the fsck hook would probe /dev/sda1 of the build host.
  sed -i -e 's/^MODULES=.*/MODULES=list/' -e 's/^FSTYPE=.*/FSTYPE=ext4/' \
    "$work/initramfs-conf/initramfs.conf"
  printf '%s\n' $INITRD_DRIVERS >> "$work/initramfs-conf/modules"
  mv "$work/initramfs-conf" "$tree/tmp/initramfs-conf"
  in_guest mkinitramfs -d /tmp/initramfs-conf -o "$initrd" "$kver"
  rm -rf "$tree/tmp/initramfs-conf"
  in_guest lsinitramfs "$initrd" > "$work/initrd.list"
fi
for m in $INITRD_NOT; do
  ! grep -q "/$m\.ko" "$work/initrd.list" || die "$initrd: contains $m"
done
for m in vmw_pvscsi ahci ata_piix sd_mod ext4; do
  grep -q "/$m\.ko" "$work/initrd.list" || die "$initrd: lacks $m"
done

step "grub"
# ---- GRUB: the guest's grub-mkconfig, the guest's modules ------------
cat > "$tree/etc/default/grub" <<'EOT'
# If you change this file, run 'update-grub' afterwards to update
# /boot/grub/grub.cfg.
# For full documentation of the options in this file, see:
#   info -f grub -n 'Simple configuration'

GRUB_DEFAULT=0
GRUB_TIMEOUT=5
GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX=""

# Kernel device names (root=/dev/sda1), not UUIDs.
GRUB_DISABLE_LINUX_UUID=true
EOT

if [ "$variant" = uefi ]; then
  root_dev=/dev/sda2 root_part=gpt2 partmap=gpt grub_target=x86_64-efi
else
  root_dev=/dev/sda1 root_part=msdos1 partmap=msdos grub_target=i386-pc
fi
# grub-mkconfig asks grub-probe about the device under / and /boot; in a
# chroot there is none, so stand-ins answer what it would on the VM.
fake_probe () {
  cat <<EOT
#!/bin/sh
# images/debian.sh: grub-probe stand-in for building in a chroot.
t= dev= p=
while [ \$# -gt 0 ]; do
  case "\$1" in
    --target=*) t=\${1#--target=} ;;
    -t) shift; t=\$1 ;;
    -d|--device) dev=1 ;;
    -*) ;;
    *) p=\$1 ;;
  esac
  shift
done
case "\$p" in /boot/efi*|/dev/sda1) efi=$([ "$variant" = uefi ] && echo 1) ;; *) efi= ;; esac
if [ -n "\$efi" ]; then
  case \$t in
    device) echo /dev/sda1 ;; fs) echo fat ;; fs_uuid) echo ${ESP_ID:0:4}-${ESP_ID:4:4} ;;
    partmap) echo gpt ;; abstraction|cryptodisk_uuid) ;;
    drive) echo '(hd0,gpt1)' ;; compatibility_hint) echo hd0,gpt1 ;;
    hints_string) echo '--hint-bios=hd0,gpt1 --hint-efi=hd0,gpt1 --hint-baremetal=ahci0,gpt1 ' ;;
    disk) echo /dev/sda ;; partuuid) echo $ESP_PARTUUID ;;
    *) echo "grub-probe stand-in: \$t?" >&2; exit 1 ;;
  esac
else
  case \$t in
    device) echo $root_dev ;; fs) echo ext2 ;; fs_uuid) echo $ROOT_UUID ;;
    partmap) echo $partmap ;; abstraction|cryptodisk_uuid) ;;
    drive) echo '(hd0,$root_part)' ;; compatibility_hint) echo hd0,$root_part ;;
    hints_string) echo '--hint-bios=hd0,$root_part --hint-efi=hd0,$root_part --hint-baremetal=ahci0,$root_part ' ;;
    disk) echo /dev/sda ;; partuuid) echo $ROOT_PARTUUID ;;
    *) echo "grub-probe stand-in: \$t?" >&2; exit 1 ;;
  esac
fi
EOT
}
declare -A real
for t in grub-probe grub-mkrelpath; do
  for d in usr/sbin usr/bin; do [ -e "$tree/$d/$t" ] && real[$t]=$d/$t; done
  [ -n "${real[$t]:-}" ] || die "$t: not in the guest"
  mv "$tree/${real[$t]}" "$work/$t.real"
done
fake_probe > "$tree/${real[grub-probe]}"
printf '#!/bin/sh\n# images/debian.sh stand-in: / is the file system root\nfor a; do p=$a; done; echo "$p"\n' \
  > "$tree/${real[grub-mkrelpath]}"
chmod +x "$tree/${real[grub-probe]}" "$tree/${real[grub-mkrelpath]}"
rc=0
in_guest grub-mkconfig -o /boot/grub/grub.cfg 2> "$work/mkconfig.log" || rc=$?
for t in grub-probe grub-mkrelpath; do mv -f "$work/$t.real" "$tree/${real[$t]}"; done
[ $rc = 0 ] || { cat "$work/mkconfig.log" >&2; die "grub-mkconfig failed"; }
grep -q "root=$root_dev " "$tree/boot/grub/grub.cfg" || die "grub.cfg: no root=$root_dev"
! grep -q 'console=ttyS' "$tree/boot/grub/grub.cfg" || die "grub.cfg: serial console"

# What grub-install puts in /boot/grub, and the core image it makes:
# find the root file system by UUID, then load normal.mod from it.
mkdir -p "$tree/boot/grub/$grub_target" "$tree/boot/grub/fonts"
cp "$tree/usr/lib/grub/$grub_target"/*.{mod,lst} "$tree/boot/grub/$grub_target/"
[ "$grub_target" = i386-pc ] && cp "$tree/usr/lib/grub/i386-pc/boot.img" "$tree/boot/grub/i386-pc/"
cp "$tree/usr/share/grub/unicode.pf2" "$tree/boot/grub/fonts/"
in_guest grub-editenv /boot/grub/grubenv create
printf 'search.fs_uuid %s root hd0,%s\nset prefix=($root)'"'"'/boot/grub'"'"'\n' \
  "$ROOT_UUID" "$root_part" > "$tree/tmp/load.cfg"
if [ "$grub_target" = i386-pc ]; then
  in_guest grub-mkimage -O i386-pc -c /tmp/load.cfg -p '(hd0,msdos1)/boot/grub' \
    -o /boot/grub/i386-pc/core.img biosdisk part_msdos ext2 search_fs_uuid
else
  in_guest grub-mkimage -O x86_64-efi -c /tmp/load.cfg -p '' \
    -o /tmp/grubx64.efi part_gpt ext2 search_fs_uuid
  mv "$tree/tmp/grubx64.efi" "$work/grubx64.efi"
  # grub-install --target=x86_64-efi keeps a copy of the core image.
  cp "$work/grubx64.efi" "$tree/boot/grub/x86_64-efi/core.efi"
fi
rm -f "$tree/tmp/load.cfg"

step "clean up"
# ---- clean up what a running system would not have -------------------
umount "$tree/proc"
rm -rf "$tree"/var/lib/apt/lists/* "$tree"/var/cache/apt/*.bin
find "$tree/var/cache/apt/archives" -name '*.deb' -delete
rm -f "$tree/etc/resolv.conf"
find "$tree/tmp" "$tree/var/tmp" -mindepth 1 -delete

step "disks"
# ---- disks -----------------------------------------------------------
img=$work/debian-$variant.img
if [ "$variant" = uefi ]; then
  new_disk "$img" $DISK_MIB gpt 0e0e0e0e-0000-4000-8000-0000000d1502 \
"start=2048, size=${ESP_MIB}M, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$ESP_PARTUUID, name=\"EFI System Partition\"
type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$ROOT_PARTUUID"
  rootn=2
  # The ESP: GRUB at \EFI\debian\grubx64.efi only; no \EFI\BOOT fallback
  # (a VMware VM boots it from its NVRAM entry: debian-uefi-vars.fd).
  esp=$work/esp.vfat
  truncate -s "$(part_bytes "$img" 1)" "$esp"
  mkfs.vfat -F 32 -n EFI -i $ESP_ID "$esp" >/dev/null
  mmd -i "$esp" ::/EFI ::/EFI/debian
  mcopy -i "$esp" "$work/grubx64.efi" ::/EFI/debian/grubx64.efi
  put_part "$img" 1 "$esp"
  "$here/efivars.pl" /usr/share/OVMF/OVMF_VARS.fd "$work/debian-uefi-vars.fd" \
    1 "$(part_field "$img" 1 start)" "$(part_field "$img" 1 size)" \
    $ESP_PARTUUID '\EFI\debian\grubx64.efi' debian
else
  new_disk "$img" $DISK_MIB dos 0x0e0e010$n 'start=2048, type=83, bootable'
  rootn=1
fi
step "root file system"
mkfs_ext4_part "$img" $rootn $ROOT_UUID "" "$tree"

if [ "$grub_target" = i386-pc ]; then
  # What grub-bios-setup does: boot.img in the MBR's code area (the
  # partition table and disk id stay), its drive check replaced by NOPs
  # for a hard disk, core.img in the gap after the MBR (its first
  # sector's block list already points at the sectors that follow).
  boot=$tree/usr/lib/grub/i386-pc/boot.img
  core=$tree/boot/grub/i386-pc/core.img
  [ "$(od -An -tx1 -j 0x66 -N 1 "$boot" | tr -d ' ')" = eb ] ||
    die "$boot: no drive check jump at 0x66"
  [ $(( ($(stat -c %s "$core") + 511) / 512 )) -lt 2047 ] || die "$core: too big"
  dd if="$boot" of="$img" bs=440 count=1 conv=notrunc status=none
  printf '\220\220' | dd of="$img" bs=1 seek=$((0x66)) conv=notrunc status=none
  dd if="$core" of="$img" bs=512 seek=1 conv=notrunc status=none
fi

if [ "$variant" = bios ]; then
  data=$work/debian-bios-data.img
  new_disk "$data" $DATA_MIB dos 0x0e0e0201 'start=2048, type=83'
  mkdir -p "$work/data"
  echo "data disk of $HOST: /dev/sdb1 mounted on /data" > "$work/data/README"
  mkfs_ext4_part "$data" 1 $DATA_UUID data "$work/data"
  mv -f "$data" "$out/"
fi
[ "$variant" = uefi ] && mv -f "$work/debian-uefi-vars.fd" "$out/"
mv -f "$img" "$out/"
echo "${0##*/}: wrote $out/debian-$variant.img ($kver)"
