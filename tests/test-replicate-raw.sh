#!/usr/bin/env bash
# A local raw image is read directly (pread, SEEK_DATA/SEEK_HOLE), with
# no qemu-nbd between the file and azprep (issue 18: one copy through a
# socket and a server process less per byte); other formats still go
# through qemu-nbd.  Raw shapes generated here, each read back with the
# SDK and compared with the file as qemu reads it: a size that is not a
# multiple of 512 (its last sector partly past the end), data in the
# last bytes, a file of holes only, a file smaller than a sector,
# written zeros beside data, extents that start and end inside 64 KiB
# blocks and across the 4 MiB chunks, a raw image named with --format
# raw; then a delta in the partial last sector.  The sources are
# untouched.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start

# qemu-nbd as it is, each start logged (the real one runs).
mkdir "$T/bin"
real=$(command -v qemu-nbd)
cat > "$T/bin/qemu-nbd" <<EOF
#!/bin/sh
echo "qemu-nbd \$*" >> "$T/nbd.log"
exec "$real" "\$@"
EOF
chmod +x "$T/bin/qemu-nbd"
: > "$T/nbd.log"

MiB=1048576
# r0: 5 MiB + 777 bytes, data at the start and in the last bytes.
truncate -s $((5 * MiB + 777)) "$T/r0.raw"
printf 'first' | dd of="$T/r0.raw" conv=notrunc status=none
printf 'the-very-end' | dd of="$T/r0.raw" bs=1 seek=$((5 * MiB + 765)) \
  conv=notrunc status=none
# r1: holes only.
truncate -s $((16 * MiB)) "$T/r1.raw"
# r2: smaller than a sector.
head -c 100 /dev/urandom > "$T/r2.raw"
# r3: 12 MiB; data across the 4 MiB chunk boundary starting and ending
# inside 64 KiB blocks; written zeros (allocated) beside data; a run of
# random data at the end.
truncate -s $((12 * MiB)) "$T/r3.raw"
qemu-io -f raw -c "write -P 7 $((4 * MiB - 70000)) 150000" \
  -c "write -z $((6 * MiB)) 1M" -c "write -P 0 $((7 * MiB)) 256k" \
  -c "write -P 9 $((7 * MiB + 300000)) 4097" "$T/r3.raw" >/dev/null
head -c $((3 * MiB)) /dev/urandom |
  dd of="$T/r3.raw" bs=1M seek=9 conv=notrunc status=none
# r4: a qcow2 beside them, which still goes through qemu-nbd.
qemu-img create -q -f qcow2 "$T/r4.qcow2" 8M
qemu-io -f qcow2 -c 'write -P 5 1M 64k' "$T/r4.qcow2" >/dev/null
# r5: raw named with --format raw (no probing).
head -c $((2 * MiB + 512)) /dev/urandom > "$T/r5.raw"
disks=("$T/r0.raw" "$T/r1.raw" "$T/r2.raw" "$T/r3.raw" "$T/r4.qcow2"
       --format raw "$T/r5.raw")
raws=(r0.raw r1.raw r2.raw r3.raw r5.raw)
for f in "${raws[@]}"; do sum_of "$T/$f" > "$T/$f.sum"; done

rep () {
  PATH="$T/bin:$PATH" "$AZPREP" replicate --container vms --name vm \
    --state "$T/state" --json -v "${disks[@]}"
}
expect_exit 0 rep
[ "$(grep -c '"event":"cycle"' "$T/out")" = 6 ] || fail "not 6 disks"
grep -q 'r4\.qcow2' "$T/nbd.log" && ! grep -v 'r4\.qcow2' "$T/nbd.log" ||
  { cat "$T/nbd.log"; fail "qemu-nbd did not serve the qcow2 alone"; }
for f in "${raws[@]}"; do
  grep -q "/$f: raw, read directly" "$T/err" ||
    { cat "$T/err"; fail "$f was not read directly"; }
done
assert_contains "$T/err" 'scan thread: block status'

# Each blob, read back with the SDK, against the file as qemu reads it
# (its size rounded up to 512: qemu's view of a raw file).
check () {
  local i=$1 src=$2 len
  len=$(( ($(stat -c %s "$src") + 511) / 512 * 512 ))
  qemu-img convert -O raw "$src" "$T/c.raw"
  truncate -s "$len" "$T/c.raw"
  [ "$(blobtool digest vms "vm-disk$i.vhd" - "$len")" = \
    "$(blobtool filedigest "$T/c.raw" "$len")" ] ||
    fail "disk $i ($src) differs"
}
check 0 "$T/r0.raw"; check 1 "$T/r1.raw"; check 2 "$T/r2.raw"
check 3 "$T/r3.raw"; check 4 "$T/r4.qcow2"; check 5 "$T/r5.raw"
# The tail sector of r0 past the file's end reads as zeros on the blob.
blobtool download vms vm-disk0.vhd "$T/d0.raw"
{ tail -c +$((5 * MiB + 1)) "$T/r0.raw"; head -c 247 /dev/zero; } > "$T/want"
dd if="$T/d0.raw" of="$T/got" bs=1024 skip=5120 count=1 status=none
cmp -s "$T/want" "$T/got" ||
  fail "the last sector of r0 on the blob is not the file's bytes then zeros"
# r1 (holes only) and the hole of r0 sent nothing.
node -e '
  const c = require("fs").readFileSync(process.argv[1], "utf8").split("\n")
    .filter((l) => l.includes("\"event\":\"cycle\"")).map(JSON.parse);
  const s = c.map((l) => l.bytes_sent);
  console.log("bytes sent per disk: " + s.join(" "));
  if (s[0] !== 131072 || s[1] !== 0) process.exit(1);
' "$T/out" || fail "r0 or r1 sent more than their data blocks"

# A delta in the partial last sector of r0: one 64 KiB block sent.
printf 'CHANGED' | dd of="$T/r0.raw" bs=1 seek=$((5 * MiB + 770)) \
  conv=notrunc status=none
sum_of "$T/r0.raw" > "$T/r0.raw.sum"
expect_exit 0 rep
node -e '
  const c = require("fs").readFileSync(process.argv[1], "utf8").split("\n")
    .filter((l) => l.includes("\"event\":\"cycle\"")).map(JSON.parse);
  const s = c.map((l) => l.bytes_sent);
  console.log("delta bytes per disk: " + s.join(" "));
  if (s[0] !== 65536 || s.slice(1).some((x) => x !== 0)) process.exit(1);
' "$T/out" || fail "the delta did not send exactly r0's last block"
check 0 "$T/r0.raw"
for f in "${raws[@]}"; do
  [ "$(sum_of "$T/$f")" = "$(cat "$T/$f.sum")" ] || fail "$f was changed"
done
echo "ok"
