#!/usr/bin/env bash
# replicate from a running vCenter VM with Changed Block Tracking (the
# simulator's QueryChangedDiskAreas, paged: -cbt-page 8 MiB on a 64 MiB
# disk) to Azurite.  CBT off: warned, whole-disk digest cycles; then
# --enable-cbt; each later cycle reads from the datastore only what CBT
# reports (<= 1.05 x the changed bytes) while the test writes to the disk
# between cycles, and each recovery point equals the disk as snapshotted.
# A first cycle with CBT on reads only the allocated areas.  An
# invalidated chain: one full digest cycle, a warning, the same blob, then
# deltas again.  Resets and 503s on the datastore reads: the cycle
# completes.  No appliance.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
source tests/lib/azurite.sh
requires nbdkit curl
VCSIM_ARGS="-cbt-page 8388608" vcsim_start
azurite_start
MiB=1048576
size=$((64 * MiB))
uri="vsphere://$VCSIM_HOST/DC0/DC0_H0_VM1/0?http=1"
# rep [OPTIONS]: one cycle of job vm1; $T/out holds its JSON lines.
rep () {
  "$AZPREP" replicate --vsphere-allow-http --container vms --name vm1 --state "$T/state" --json \
    "$@" "$uri"
}
# The disk as the guest writes it: 64 KiB blocks of random data at the
# given block numbers (of 64 KiB); changed is the bytes they cover.
blocks () {
  local b
  changed=0
  for b; do
    dd if=/dev/urandom of="$T/disk.img" bs=65536 seek="$b" count=1 \
      conv=notrunc status=none || fail "dd"
    changed=$((changed + 65536))
  done
  vcsim_put "$T/disk.img" DC0_H0_VM1
}
# The last cycle's recovery point holds the disk as it was snapshotted.
check_point () {
  vcsim_check_point "$T/out" vm1-disk0.vhd "$T/disk.img" "$size" "$1"
}
# run_cycle WHAT [OPTIONS]: a cycle; read is what it read from the
# datastore.
run_cycle () {
  local what=$1
  shift
  vcsim_ctl stats-reset
  expect_exit 0 rep "$@"
  cat "$T/err"
  read=$(vcsim_stats folder_bytes)
  echo "$what: read $read bytes from the datastore"
  check_point "$what"
}
no_snapshots () {
  "$AZPREP" discover --vcenter "$VCSIM_BASE" --vm DC0_H0_VM1 --json \
    >"$T/d.json" || fail "discover"
  [ -z "$(json_get "$T/d.json" 'd.vms[0].snapshots.map(s => s.name).join()')" ] ||
    fail "snapshots left"
}

rm -f "$T/disk.img"
truncate -s "$size" "$T/disk.img"
blocks 0 1 2 100 101 500 1000 1023

# CBT off: the cycle warns and compares the whole disk.
run_cycle "initial, CBT off"
assert_contains "$T/err" 'DC0_H0_VM1: changed block tracking \(CBT\) is off: every cycle reads whole disks and compares digests; give --enable-cbt'
[ "$read" -ge "$size" ] || fail "a digest cycle read only $read bytes"
# --enable-cbt: on from this cycle's snapshot; no changeId was recorded
# with the last recovery point, so this one still compares everything.
blocks 3
run_cycle "CBT enabled" --enable-cbt
assert_contains "$T/err" 'changed block tracking enabled'
assert_contains "$T/err" 'no changeId recorded with the last recovery point: this cycle compares the whole disk'
json_get "$T/state/vm1.json" 'd.disks[0].change_id' | grep -q '/' ||
  fail "no changeId in the journal"

# Deltas: only what changed is read (across CBT pages: blocks 127/128
# straddle the 8 MiB boundary, 1023 is the last block).
for round in 1 2 3; do
  case $round in
    1) blocks 4 127 128 ;;
    2) blocks 1023 600 601 602 603 ;;
    3) blocks 5 ;;
  esac
  run_cycle "delta $round"
  assert_contains "$T/err" "CBT reports $changed bytes changed since"
  [ "$read" -le $((changed * 105 / 100)) ] ||
    fail "delta $round read $read bytes for $changed changed"
done
# Nothing changed: nothing read.
run_cycle "delta, no change"
[ "$read" -le 4096 ] || fail "an unchanged disk cost $read bytes"
no_snapshots

# The chain is reset (a storage vMotion, a restore): the next cycle says
# why, compares the whole disk, and starts a new chain.
vcsim_ctl "cbt-invalidate?vm=DC0_H0_VM1"
blocks 7 300
run_cycle "invalidated chain"
assert_contains "$T/err" 'vCenter rejects changeId .*: the CBT chain was reset; this cycle compares the whole disk and starts a new chain'
[ "$read" -ge "$size" ] || fail "the resync read only $read bytes"
blocks 8
run_cycle "after the reset"
[ "$read" -le $((changed * 105 / 100)) ] ||
  fail "the new chain's delta read $read bytes for $changed changed"

# Resets and 503s while the bridge reads (injected once the cycle is
# under way; a new job whose blob is behind a slow proxy, so that its
# reads of the allocated areas are spread out): retried, the cycle
# completes, the blob is right.
faultproxy_start --slow 300
vcsim_ctl stats-reset
(
  for i in $(seq 600); do
    [ "$(vcsim_stats folder_requests)" -ge 4 ] && break
    sleep 0.05
  done
  echo "faults injected after $(vcsim_stats folder_requests) requests"
  vcsim_ctl "fault?kind=reset&count=2&path=flat"
  vcsim_ctl "fault?kind=503&count=2&path=flat"
) &
injector=$!
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  expect_exit 0 "$AZPREP" replicate --vsphere-allow-http --container vms --name faults \
  --state "$T/state" --parallel 1 "$uri"
wait $injector || fail "the fault injector failed"
cat "$T/err"
echo "the cycle made $(vcsim_stats folder_requests) requests"
[ "$(blobtool digest vms faults-disk0.vhd - "$size")" = \
  "$(blobtool filedigest "$T/disk.img" "$size")" ] ||
  fail "the blob written through faults differs from the disk"
# The faults were consumed by the cycle's reads: the next request gets
# the simulator's own answer (the running VM's lock).
code=$(curl -sS -o /dev/null -w '%{http_code}' \
  "$VCSIM_BASE/folder/DC0_H0_VM1/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0")
[ "$code" = 500 ] || fail "faults left unconsumed (HTTP $code)"
faultproxy_stop
no_snapshots

# A new job on a VM with CBT on from the start: the first cycle reads
# only the allocated areas (changeId "*").
rm -f "$T/disk0.img"
truncate -s "$size" "$T/disk0.img"
for b in 10 11 12 800; do
  dd if=/dev/urandom of="$T/disk0.img" bs=65536 seek="$b" count=1 \
    conv=notrunc status=none
done
vcsim_put "$T/disk0.img" DC0_H0_VM0
vcsim_ctl stats-reset
expect_exit 0 "$AZPREP" replicate --vsphere-allow-http --container vms --name vm0 \
  --state "$T/state" --json --enable-cbt \
  "vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0?http=1"
cat "$T/err"
assert_contains "$T/err" "CBT reports 262144 bytes allocated since \\*"
read=$(vcsim_stats folder_bytes)
[ "$read" -le $((262144 * 105 / 100)) ] ||
  fail "the first cycle read $read bytes of 262144 allocated"
[ "$(blobtool digest vms vm0-disk0.vhd - "$size")" = \
  "$(blobtool filedigest "$T/disk0.img" "$size")" ] ||
  fail "vm0's blob differs from its disk"
# Nothing read the live disk.
[ "$(vcsim_stats locked_refusals)" = 0 ] || fail "a live disk was read"
