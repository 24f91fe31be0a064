#!/usr/bin/env bash
# fix is atomic, idempotent and reversible by its backups:
#  - kill -9 while the fixups run: the disks are byte-for-byte as they were;
#  - killed in the middle of writing the disks: the next azprep command
#    rolls the disk back from the undo journal;
#  - a real run changes the disk, records before/after, keeps backups;
#  - a second run changes nothing;
#  - --output writes a new fixed VHD (a whole MiB) and leaves the input.
# One cheap fixup (--only) keeps the appliance runs short.
source tests/lib/functions.sh
requires qemu-img guestfish
src=$(require_image debian-bios.img)
srcdata=$(require_image debian-bios-data.img)
fixup=linux-persistent-net
rules=/etc/udev/rules.d/70-persistent-net.rules

cp --sparse=always "$src" "$T/root.img"
cp --sparse=always "$srcdata" "$T/data.img"
orig_root=$(sum_of "$T/root.img")
orig_data=$(sum_of "$T/data.img")
unchanged () {
  [ "$(sum_of "$T/root.img")" = "$orig_root" ] || fail "root disk changed: $1"
  [ "$(sum_of "$T/data.img")" = "$orig_data" ] || fail "data disk changed: $1"
}
export TMPDIR="$T"

# 1. kill -9 while the appliance runs.
"$AZPREP" fix --only "$fixup" "$T/root.img" "$T/data.img" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  pgrep -P "$pid" >/dev/null 2>&1 && ls "$T"/azprep-overlay-* >/dev/null 2>&1 && break
  sleep 0.2
done
sleep 5
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pkill -9 -f "$T/azprep-overlay" 2>/dev/null || true   # its qemu
unchanged "kill -9 during fixups"

# 2. Die in the middle of writing the disk.
rc=0
AZPREP_TEST_DIE_IN_COMMIT=1 "$AZPREP" fix --only "$fixup" \
  "$T/root.img" "$T/data.img" >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 137 ] || { cat "$T/err"; fail "expected death by SIGKILL, got $rc"; }
[ -f "$T/root.img.azprep-undo" ] || fail "no undo journal after dying in commit"
[ "$(sum_of "$T/root.img")" != "$orig_root" ] ||
  fail "test hook did not write anything before dying"
expect_exit 0 "$AZPREP" inspect "$T/root.img" "$T/data.img"
assert_contains "$T/err" "root.img: rolled back an interrupted fix"
[ ! -e "$T/root.img.azprep-undo" ] || fail "undo journal left behind"
unchanged "after roll-back"
# Overlays of killed runs are gone too.
ls "$T"/azprep-overlay-* >/dev/null 2>&1 && fail "stale overlay left behind"

# 3. A real run.
expect_exit 0 "$AZPREP" fix --only "$fixup" --report "$T/report.json" \
  "$T/root.img" "$T/data.img"
assert_contains "$T/out" "changed: \[$fixup\]"
[ "$(json_get "$T/report.json" 'd.status')" = fixed ] || fail "status"
[ "$(json_get "$T/report.json" 'd.changes.length > 0')" = true ] || fail "no changes"
json_get "$T/report.json" 'd.changes[0].before' > "$T/before"
[ "$(sum_of "$T/root.img")" != "$orig_root" ] || fail "fix changed nothing"
# (The data disk changes too: mounting ext4 read-write updates its
# superblock, and that is committed with the rest.)
fixed_root=$(sum_of "$T/root.img")

# 4. Again: nothing to do, nothing written.
expect_exit 0 "$AZPREP" fix --only "$fixup" --json "$T/root.img" "$T/data.img"
[ "$(json_get "$T/out" 'd.status')" = unchanged ] || fail "second run changed something"
[ "$(sum_of "$T/root.img")" = "$fixed_root" ] || fail "second run wrote the disk"

# 5. --output: a new fixed VHD rounded to a whole MiB; the input untouched.
src_sum=$(sum_of "$src")
expect_exit 0 "$AZPREP" fix --only "$fixup" --output "$T/out.vhd" \
  --output "$T/out-data.vhd" "$src" "$srcdata"
[ "$(sum_of "$src")" = "$src_sum" ] || fail "--output changed the input"
# A fixed VHD has its footer only at the end: qemu probes it as raw.
qemu-img info -f vpc --output=json "$T/out.vhd" > "$T/info.json"
[ "$(json_get "$T/info.json" 'd.format')" = vpc ] || fail "not a VHD"
vsize=$(json_get "$T/info.json" 'd["virtual-size"]')
[ $((vsize % 1048576)) = 0 ] || fail "VHD size $vsize is not a whole MiB"
fsize=$(stat -c %s "$T/out.vhd")
[ "$fsize" = $((vsize + 512)) ] || fail "not a fixed VHD ($fsize bytes)"
# Footer: "conectix" cookie, disk type 2 (fixed) at offset 60.
tail -c 512 "$T/out.vhd" | head -c 8 | grep -q conectix || fail "no VHD footer"
[ "$(tail -c 512 "$T/out.vhd" | od -An -tu1 -j63 -N1 | tr -d ' ')" = 2 ] ||
  fail "VHD disk type is not fixed"

# 6. Read back in one appliance: the original guest (sda), the fixed
# one (sdc) and the --output VHD (sde).  The backup in the fixed guest
# is the original file (reversible); the file is gone from both.
guestfish --ro --format=raw -a "$src" -a "$srcdata" -a "$T/root.img" \
  -a "$T/data.img" --format=vpc -a "$T/out.vhd" -a "$T/out-data.vhd" \
  > "$T/readback" 2>&1 <<EOF || { cat "$T/readback"; fail "read-back"; }
run
mount-ro /dev/sda1 /
download $rules $T/orig-rules
umount-all
mount-ro /dev/sdc1 /
download $rules.azprep-orig $T/backup-rules
echo fixed-has-rules:
exists $rules
umount-all
mount-ro /dev/sde1 /
echo output-has-rules:
exists $rules
EOF
cmp "$T/orig-rules" "$T/backup-rules" || fail "backup differs from the original"
grep -A1 '^fixed-has-rules:' "$T/readback" | grep -qx false ||
  fail "$rules still there"
grep -A1 '^output-has-rules:' "$T/readback" | grep -qx false ||
  fail "the output guest still has $rules"
