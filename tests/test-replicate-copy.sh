#!/usr/bin/env bash
# azprep replicate to a real Azurite: the initial copy of a sparse 4 GiB
# qcow2 sends only its data; the blob is a fixed VHD of the source; a
# delta sends only what changed; the older recovery point still holds
# the old content; --keep prunes old snapshots.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start

img=$T/vm.qcow2
V=$((4 * 1024 * 1024 * 1024))
qemu-img create -q -f qcow2 "$img" 4G
# 6 MiB of data at scattered offsets, some not 4 MiB-aligned, plus a
# written-but-zero region (allocated zeros must not be sent).
qemu-io -f qcow2 -c 'write -P 0x11 0 1M' -c 'write -P 0x22 1000M 2M' \
  -c 'write -P 0x33 2100M 64k' -c 'write -P 0x44 3000000k 960k' \
  -c 'write -P 0x55 4095M 1M' -c 'write -P 0 3500M 8M' "$img" >/dev/null
data=$((1024*1024 + 2*1024*1024 + 65536 + 960*1024 + 1024*1024))

rep () { "$AZPREP" replicate --container vms --name vm1 --state "$T/state" \
           --json --parallel 4 --keep 2 "$img"; }
sent_of () { grep '"event":"cycle"' "$1" | tail -1 |
               node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).bytes_sent))'; }

expect_exit 0 rep
cp "$T/out" "$T/initial.json"
sent=$(sent_of "$T/initial.json")
echo "initial: sent $sent of $data data bytes"
[ "$sent" -ge "$data" ] || fail "initial copy sent $sent < $data bytes of data"
[ "$sent" -le $((data * 101 / 100)) ] || fail "initial copy sent $sent > 1.01 x $data"
assert_contains "$T/initial.json" '"event":"progress"'

qemu-img convert -O raw "$img" "$T/v1.raw"
want1=$(blobtool filedigest "$T/v1.raw" $V)
rm -f "$T/v1.raw"
[ "$(blobtool digest vms vm1-disk0.vhd - $V)" = "$want1" ] ||
  fail "blob content differs from the source"

# The footer: a fixed VHD of virtual size V, per qemu and per the bytes
# (the download is sparse: only the pages the blob has are written).
blobtool download vms vm1-disk0.vhd "$T/dl.vhd"
[ "$(stat -c %s "$T/dl.vhd")" = $((V + 512)) ] || fail "blob size is not V+512"
qemu-img info -f vpc --output=json "$T/dl.vhd" >"$T/info.json"
[ "$(json_get "$T/info.json" 'd.format')" = vpc ] || fail "not vpc"
[ "$(json_get "$T/info.json" 'd["virtual-size"]')" = $V ] || fail "virtual size"
[ "$(tail -c 512 "$T/dl.vhd" | head -c 8)" = conectix ] || fail "no footer cookie"
[ "$(tail -c 512 "$T/dl.vhd" | od -An -tx1 -j60 -N4 | tr -d ' ')" = 00000002 ] ||
  fail "footer disk type is not fixed (2)"
rm -f "$T/dl.vhd"

# Delta: change 3 MiB (one run of 2 MiB, one 1 MiB) and zero 1 MiB.
qemu-io -f qcow2 -c 'write -P 0x66 1500M 2M' -c 'write -P 0x77 3000M 1M' \
  -c 'write -z 1000M 1M' "$img" >/dev/null
changed=$((3 * 1024 * 1024))
expect_exit 0 rep
sent=$(sent_of "$T/out")
echo "delta: sent $sent for $changed changed bytes"
[ "$sent" -ge "$changed" ] || fail "delta sent $sent < $changed"
[ "$sent" -le $((changed * 105 / 100)) ] || fail "delta sent $sent > 1.05 x $changed"
qemu-img convert -O raw "$img" "$T/v2.raw"
want2=$(blobtool filedigest "$T/v2.raw" $V)
rm -f "$T/v2.raw"
[ "$(blobtool digest vms vm1-disk0.vhd - $V)" = "$want2" ] ||
  fail "blob content differs from the source after the delta"

# Recovery points: the first still has the old content.
blobtool list vms >"$T/list.json"
snap1=$(json_get "$T/list.json" 'd.filter(b=>b.snapshot).map(b=>b.snapshot).sort()[0]')
[ "$(blobtool digest vms vm1-disk0.vhd "$snap1" $V)" = "$want1" ] ||
  fail "recovery point 1 does not hold the initial content"

# A third cycle without changes sends nothing; --keep 2 keeps two.
expect_exit 0 rep
[ "$(sent_of "$T/out")" = 0 ] || fail "an unchanged delta sent data"
blobtool list vms >"$T/list.json"
[ "$(json_get "$T/list.json" 'd.filter(b=>b.snapshot).length')" = 2 ] ||
  fail "--keep 2 did not prune the recovery points"
[ "$(json_get "$T/list.json" 'd.find(b=>!b.snapshot).metadata.cycle')" = 3 ] ||
  fail "blob metadata does not record cycle 3"

# status and verify read the journal; verify compares blob and source.
expect_exit 0 "$AZPREP" status --state "$T/state" --json
[ "$(json_get "$T/out" 'd[0].disks[0].state')" = idle ] || fail "status: state"
[ "$(json_get "$T/out" 'd[0].disks[0].cycles')" = 3 ] || fail "status: cycles"
[ "$(json_get "$T/out" 'd[0].disks[0].recovery_points')" = 2 ] || fail "status: rps"
expect_exit 0 "$AZPREP" status --state "$T/state"
assert_contains "$T/out" 'state idle, 3 cycle'
expect_exit 0 "$AZPREP" verify --state "$T/state" vm1
assert_contains "$T/out" 'matches'
expect_exit 0 "$AZPREP" verify --state "$T/state" --recovery-point latest vm1
# A change in the source not yet replicated is found.
qemu-io -f qcow2 -c 'write -P 0x99 2000M 4k' "$img" >/dev/null
expect_exit 3 "$AZPREP" verify --state "$T/state" --json vm1
[ "$(json_get "$T/out" 'd.offset')" = $((2000 * 1024 * 1024)) ] ||
  fail "verify did not find the difference at 2000 MiB"
