#!/usr/bin/env bash
# images/base.sh OUT.tar: debootstrap Debian 12 once into a tarball that
# every Debian test guest is derived from (images/debian.sh).  The only
# step that needs the network: it also downloads, but does not install,
# the packages the variants swap in (grub-efi-amd64 for UEFI, dracut and
# NetworkManager for the dracut guest), so the variants build offline.
# Needs root (debootstrap, chroot).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$1
: "${MIRROR:=http://deb.debian.org/debian}"
: "${SUITE:=bookworm}"

# What a small VMware Debian 12 server has.  grub-pc pulls grub-pc-bin,
# grub2-common and grub-common; grub-efi-amd64-bin co-installs with
# them (grub-pc and grub-efi-amd64 conflict: the UEFI variant swaps).
pkgs=linux-image-amd64,systemd-sysv,udev,kmod,dbus,procps,iproute2,netbase
pkgs+=,openssh-server,grub-pc,grub-efi-amd64-bin,initramfs-tools,zstd,busybox
pkgs+=,ifupdown,isc-dhcp-client,open-vm-tools,e2fsprogs,dosfstools
extra_uefi="grub-efi-amd64"
extra_dracut="dracut dracut-core network-manager"

[ "$(id -u)" = 0 ] || { echo "$0: debootstrap needs root" >&2; exit 1; }

tree="$out.tree"
trap 'drop_tree "$tree"' EXIT
drop_tree "$tree"
scratch_tree "$tree"

debootstrap --variant=minbase --include="$pkgs" "$SUITE" "$tree" "$MIRROR"

# Fetch the variants' packages into the apt cache, not installed.
cp /etc/resolv.conf "$tree/etc/resolv.conf"
echo "deb $MIRROR $SUITE main" > "$tree/etc/apt/sources.list"
chroot "$tree" apt-get -qq update
chroot "$tree" apt-get -qq clean
for set in "$extra_uefi" "$extra_dracut"; do
  # shellcheck disable=SC2086
  chroot "$tree" env DEBIAN_FRONTEND=noninteractive \
    apt-get -qq -y --no-install-recommends --download-only install $set
done
rm -f "$tree/etc/resolv.conf"

tar -C "$tree" --numeric-owner --xattrs --xattrs-include='*' -cf "$out.tmp" .
mv -f "$out.tmp" "$out"
echo "$0: wrote $out ($(du -h "$out" | cut -f1))"
