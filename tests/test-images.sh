#!/usr/bin/env bash
# The test images look as images/README.md says.  The bad inputs are
# checked without an appliance; the Debian guests with one read-only
# guestfish launch per guest.
source "$(dirname "$0")/functions.sh"
requires sfdisk debugfs blkid qemu-img cryptsetup

bad=$IMAGES/bad
zero=$(require_image bad/zero.img)
random=$(require_image bad/random.img)
trunc=$(require_image bad/truncated.qcow2)
noos=$(require_image bad/no-os.img)
twoos=$(require_image bad/two-os.img)
luks=$(require_image bad/luks-root.img)

# part_off DISK N: byte offset of partition N.
part_off () {
  sfdisk -d "$1" | awk -v dev="$1$2" '
    $1 == dev && match ($0, /start= *[0-9]+/) {
      v = substr ($0, RSTART, RLENGTH); sub (/.*= */, "", v); print v * 512 }'
}
# ext4_cat DISK N PATH: a file of the ext4 in partition N.
ext4_cat () { debugfs -R "cat $3" "$1?offset=$(part_off "$1" "$2")" 2>/dev/null; }

# zero.img: 64 MiB, every byte zero.
[ "$(stat -c %s "$zero")" = 67108864 ] || fail "zero.img: not 64 MiB"
cmp -s -n 67108864 "$zero" /dev/zero || fail "zero.img: not all zeroes"

# random.img: 16 MiB, the same bytes on every build.
[ "$(stat -c %s "$random")" = 16777216 ] || fail "random.img: not 16 MiB"
[ "$(sum_of "$random")" = \
  df419325ac2932c1b6e7be9f1df50d3dd8e5df09579fcc6d48ed210fc1798647 ] ||
  fail "random.img: not the documented bytes"

# truncated.qcow2: a qcow2 header that qemu opens, tables cut short.
qemu-img info --output=json "$trunc" > "$T/info"
assert_contains "$T/info" '"format": "qcow2"'
rc=0; qemu-img check "$trunc" > "$T/check" 2>&1 || rc=$?
[ "$rc" = 2 ] || { cat "$T/check"; fail "truncated.qcow2: qemu-img check exited $rc, not 2 (corrupt)"; }
assert_contains "$T/check" 'errors were found'

# no-os.img: one Linux partition, an empty ext4.
[ "$(sfdisk -d "$noos" | grep -c '^/')" = 1 ] || fail "no-os.img: not one partition"
blkid -p -O "$(part_off "$noos" 1)" "$noos" > "$T/blkid"
assert_contains "$T/blkid" 'TYPE="ext4"'
debugfs -R 'ls /' "$noos?offset=$(part_off "$noos" 1)" > "$T/ls" 2>/dev/null
[ "$(tr -s ' ' '\n' < "$T/ls" | grep -vcE '^(\.|\.\.|lost\+found|\([0-9]+\)|[0-9]+|)$')" = 0 ] ||
  { cat "$T/ls"; fail "no-os.img: the file system is not empty"; }

# two-os.img: two ext4 partitions, each a Linux root of its own.
[ "$(sfdisk -d "$twoos" | grep -c '^/')" = 2 ] || fail "two-os.img: not two partitions"
ext4_cat "$twoos" 1 /etc/os-release > "$T/os1"
ext4_cat "$twoos" 2 /etc/os-release > "$T/os2"
assert_contains "$T/os1" '^ID=debian$'
assert_contains "$T/os2" '^ID=ubuntu$'
ext4_cat "$twoos" 2 /etc/fstab > "$T/fstab2"
assert_contains "$T/fstab2" '^UUID=0e0e0e0e-0000-4000-8000-00000000002b[[:space:]]+/[[:space:]]'

# luks-root.img: plain /boot, then LUKS2 that the documented key opens.
blkid -p -O "$(part_off "$luks" 1)" "$luks" > "$T/blkid"
assert_contains "$T/blkid" 'TYPE="ext4"'
off=$(part_off "$luks" 2)
dd if="$luks" of="$T/luks.part" bs=1M skip="$off" iflag=skip_bytes \
  count=4 status=none
cryptsetup luksDump "$T/luks.part" > "$T/dump"
assert_contains "$T/dump" '^Version:[[:space:]]+2$'
cryptsetup open --test-passphrase --key-file "$bad/luks-root.key" "$T/luks.part" ||
  fail "luks-root.img: the documented key does not open it"

echo "bad images: ok"
