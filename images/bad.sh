#!/usr/bin/env bash
# images/bad.sh OUTDIR: the bad inputs (see images/README.md).  Cheap,
# no appliance, no loop device, no device-mapper.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$1
tmp="$out/.tmp"
rm -rf "$tmp"
mkdir -p "$tmp" "$out"
trap 'rm -rf "$tmp"' EXIT

# Fixed UUIDs: the tests and expected outputs can name them.
UUID_NOOS=0e0e0e0e-0000-4000-8000-000000000001
UUID_TWO_A=0e0e0e0e-0000-4000-8000-00000000002a
UUID_TWO_B=0e0e0e0e-0000-4000-8000-00000000002b
UUID_LUKS_BOOT=0e0e0e0e-0000-4000-8000-000000000031
UUID_LUKS_ROOT=0e0e0e0e-0000-4000-8000-000000000032
UUID_LUKS_CONTAINER=0e0e0e0e-0000-4000-8000-000000000033
LUKS_KEY=azprep-luks-test-key

# zero.img: 64 MiB of zeroes (sparse).
truncate -s 64M "$tmp/zero.img"

# random.img: 16 MiB of pseudo-random bytes, the same on every build
# (AES-256-CTR key stream from a fixed passphrase).
head -c 16M /dev/zero |
  openssl enc -aes-256-ctr -nosalt -pbkdf2 -pass pass:azprep-bad-random \
    > "$tmp/random.img" 2>/dev/null
[ "$(stat -c %s "$tmp/random.img")" = 16777216 ] || die "random.img: short"

# no-os.img: an MBR with one Linux partition holding an empty ext4.
new_disk "$tmp/no-os.img" 64 dos 0x0e0e0001 'start=2048, type=83'
mkfs_ext4_part "$tmp/no-os.img" 1 $UUID_NOOS data

# truncated.qcow2: no-os.img as qcow2, cut in the middle of its L2 table:
# the header and L1 table are whole, half the L2 entries and every data
# cluster are past the end of the file.
qemu-img convert -f raw -O qcow2 "$tmp/no-os.img" "$tmp/full.qcow2"
be64 () { od -An -t x8 --endian=big -j "$2" -N 8 "$1" | tr -d ' '; }
cluster_bits=$(( 0x$(od -An -t x4 --endian=big -j 20 -N 4 "$tmp/full.qcow2" | tr -d ' ') ))
l1=$(( 0x$(be64 "$tmp/full.qcow2" 40) ))
l2=$(( 0x$(be64 "$tmp/full.qcow2" "$l1") & 0x00fffffffffffe00 ))
[ "$l2" -gt 0 ] || die "truncated.qcow2: no L2 table"
cp "$tmp/full.qcow2" "$tmp/truncated.qcow2"
truncate -s $(( l2 + (1 << cluster_bits) / 2 )) "$tmp/truncated.qcow2"
if qemu-img check "$tmp/truncated.qcow2" >/dev/null 2>&1; then
  die "truncated.qcow2: qemu-img check finds no error"
fi

# two-os.img: two Linux roots (Debian 12 and Ubuntu 22.04) on one disk.
new_disk "$tmp/two-os.img" 200 dos 0x0e0e0002 'start=2048, size=96M, type=83
type=83'
mkdir -p "$tmp/a" "$tmp/b"
minimal_linux "$tmp/a" debian 12 "Debian GNU/Linux 12 (bookworm)" two-os-a \
  UUID=$UUID_TWO_A
minimal_linux "$tmp/b" ubuntu 22.04 "Ubuntu 22.04.4 LTS" two-os-b \
  UUID=$UUID_TWO_B
mkfs_ext4_part "$tmp/two-os.img" 1 $UUID_TWO_A root-a "$tmp/a"
mkfs_ext4_part "$tmp/two-os.img" 2 $UUID_TWO_B root-b "$tmp/b"

# luks-root.img: plain /boot (p1) and a LUKS2 container (p2) holding the
# root file system, the layout of an encrypted Debian install.
# device-mapper is not needed: cryptsetup formats a LUKS1 header on the
# partition file, qemu's luks driver encrypts the root file system into
# it, then cryptsetup converts the header to LUKS2 (header-only).
new_disk "$tmp/luks-root.img" 80 dos 0x0e0e0003 'start=2048, size=32M, type=83
type=83'
mkdir -p "$tmp/boot" "$tmp/root"
mkdir -p "$tmp/boot/grub"
minimal_linux "$tmp/root" debian 12 "Debian GNU/Linux 12 (bookworm)" luks-root \
  /dev/mapper/sda2_crypt
printf 'UUID=%s\t/boot\text4\tdefaults\t0\t2\n' $UUID_LUKS_BOOT >> "$tmp/root/etc/fstab"
printf 'sda2_crypt UUID=%s none luks,discard\n' $UUID_LUKS_CONTAINER \
  > "$tmp/root/etc/crypttab"
mkfs_ext4_part "$tmp/luks-root.img" 1 $UUID_LUKS_BOOT boot "$tmp/boot"
printf '%s' "$LUKS_KEY" > "$tmp/luks-root.key"
truncate -s "$(part_bytes "$tmp/luks-root.img" 2)" "$tmp/luks.part"
cryptsetup luksFormat -q --type luks1 --key-file "$tmp/luks-root.key" \
  --uuid $UUID_LUKS_CONTAINER "$tmp/luks.part"
payload=$(( $(stat -c %s "$tmp/luks.part") - 2 * 1024 * 1024 ))
mkfs_ext4 "$tmp/p.ext4" $payload $UUID_LUKS_ROOT root "$tmp/root"
luks_opts="driver=luks,key-secret=k,file.filename=$tmp/luks.part"
qemu-img convert -n -f raw "$tmp/p.ext4" --object secret,id=k,file="$tmp/luks-root.key" \
  --target-image-opts "$luks_opts"
qemu-img compare -q --object secret,id=k,file="$tmp/luks-root.key" \
  --image-opts "driver=raw,file.filename=$tmp/p.ext4" "$luks_opts" ||
  die "luks-root.img: the encrypted root does not read back"
cryptsetup convert -q --type luks2 "$tmp/luks.part"
cryptsetup open --test-passphrase --key-file "$tmp/luks-root.key" "$tmp/luks.part" ||
  die "luks-root.img: the key does not open the LUKS2 header"
put_part "$tmp/luks-root.img" 2 "$tmp/luks.part"

for f in zero.img random.img no-os.img truncated.qcow2 two-os.img \
         luks-root.img luks-root.key; do
  mv -f "$tmp/$f" "$out/$f"
done
echo "${0##*/}: wrote $out"
