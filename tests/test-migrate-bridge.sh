#!/usr/bin/env bash
# The bridge: nbdkit + the azblob plugin serve a page blob (fixed VHD) in
# Azurite as a block device; libguestfs writes a file through it.  The
# file is read back from the blob with the SDK, the footer is unchanged,
# an unaligned write lands exactly, only a little of the disk travelled,
# and no secret reaches nbdkit's command line.
source tests/lib/functions.sh
requires nbdkit guestfish qemu-img debugfs mkfs.ext4
source tests/lib/azurite.sh
[ -e build/nbdkit-azblob.so ] || skip "the nbdkit plugin is not built"
azurite_start
mig () { node tests/tools/node/migtool.js "$@"; }

# A 64 MiB ext4 disk (no appliance needed), as a fixed VHD.
truncate -s 64M "$T/d.img"
mkfs.ext4 -q -F "$T/d.img"
qemu-img convert -O vpc -o subformat=fixed,force_size "$T/d.img" "$T/d.vhd"
[ "$(stat -c %s "$T/d.vhd")" = $((64 * 1024 * 1024 + 512)) ] ||
  fail "unexpected VHD size"
mig put "$T/d.vhd" vms d0.vhd
footer=$(mig tail vms d0.vhd 512)

nbdkit -U "$T/sock" -P "$T/pid" --exit-with-parent \
  build/nbdkit-azblob.so url="$AZURITE_ENDPOINT/vms/d0.vhd" stats="$T/stats" &
nb=$!
on_exit "kill $nb 2>/dev/null"
for i in $(seq 1 100); do [ -e "$T/pid" ] && break; sleep 0.1; done
[ -e "$T/pid" ] || fail "nbdkit did not start"
# Secrets stay in the environment: not in nbdkit's argv.
assert_not_contains /proc/$nb/cmdline 'AccountKey|Eby8vdM02'

# The device is the blob without its footer.
[ "$(nbdinfo --size "nbd+unix:///?socket=$T/sock")" = $((64 * 1024 * 1024)) ] ||
  fail "device size is not the blob minus the footer"
# An unaligned write (read-modify-write in the plugin), read back.
qemu-io -f raw -c 'write -P 0x55 1000 10' "nbd+unix:///?socket=$T/sock" >/dev/null
qemu-io -f raw -c 'read -P 0x55 1000 10' "nbd+unix:///?socket=$T/sock" |
  grep -q 'read 10/10' || fail "unaligned write not read back"

guestfish --format=raw -a "nbd://?socket=$T/sock" <<'EOF'
run
mount /dev/sda /
write /hello "hello through the bridge"
EOF
kill "$nb"; wait "$nb" || fail "nbdkit exited with an error"

mig download vms d0.vhd "$T/back.vhd"
[ "$(debugfs -R 'cat /hello' "$T/back.vhd" 2>/dev/null)" = "hello through the bridge" ] ||
  fail "the file is not in the blob"
[ "$(dd if="$T/back.vhd" bs=1 skip=998 count=14 status=none | od -An -tx1 | tr -d ' \n')" = \
  "0000555555555555555555550000" ] || fail "unaligned write lost or spilled"
[ "$(mig tail vms d0.vhd 512)" = "$footer" ] || fail "the footer changed"

# Gathering: 256 sequential 4 KiB writes (as a guest's writeback sends
# them, writeback: no flush after each) go in a few Put Pages, not 256; nbdkit is stopped without a
# flush from the client and the writes still reach the blob.
nbdkit -U "$T/sock2" -P "$T/pid2" --exit-with-parent \
  build/nbdkit-azblob.so url="$AZURITE_ENDPOINT/vms/d0.vhd" stats="$T/stats2" &
nb=$!
for i in $(seq 1 100); do [ -e "$T/pid2" ] && break; sleep 0.1; done
[ -e "$T/pid2" ] || fail "nbdkit did not start"
w=()
for i in $(seq 0 255); do
  w+=(-c "write -P 0x66 $((32 * 1048576 + i * 4096)) 4096")
done
qemu-io -f raw -t writeback "${w[@]}" "nbd+unix:///?socket=$T/sock2" >/dev/null
kill "$nb"; wait "$nb" || fail "nbdkit exited with an error"
puts=$(json_get "$T/stats2" d.writes)
echo "gathering: $(json_get "$T/stats2" d.client_writes) writes of 4 KiB" \
  "in $puts Put Pages"
[ "$(json_get "$T/stats2" d.client_writes)" = 256 ] || fail "writes not counted"
[ "$puts" -le 4 ] || fail "256 writes of 4 KiB took $puts Put Pages"
mig download vms d0.vhd "$T/back.vhd"
[ "$(dd if="$T/back.vhd" bs=1M skip=32 count=1 status=none | od -An -tx1 -v |
     tr -s ' \n' '\n' | sort -u | grep .)" = 66 ] ||
  fail "gathered writes did not reach the blob"

read_b=$(json_get "$T/stats" d.bytes_read)
written=$(json_get "$T/stats" d.bytes_written)
echo "bridge: read $read_b, wrote $written of a $((64 << 20))-byte disk"
[ "$written" -gt 0 ] || fail "no writes counted"
[ "$read_b" -lt $((16 << 20)) ] || fail "read $read_b bytes: the bridge read too much"
echo ok
