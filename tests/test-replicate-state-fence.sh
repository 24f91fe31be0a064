#!/usr/bin/env bash
# azprep replicate --state-container: one worker per job, and fencing.
#  - a second worker for a running job is refused (exit 6) naming the
#    holder, or waits for it (--wait-lock);
#  - a worker paused (SIGSTOP) past its lease while another takes the
#    job over and finishes the cycle: when it wakes it writes nothing
#    (the replica answers 412 under the new worker's lease; exit 5), no
#    orphan snapshot is left, the blob stays the new worker's recovery
#    point;
#  - a worker whose renewal is blocked (test hook) stops every write
#    before its lease expires (exit 5); one whose lease is broken from
#    outside (SDK) stops as well.
# tests/run: waits
source tests/lib/functions.sh
source tests/lib/azurite.sh
source tests/lib/continuous.sh

faultproxy_start --slow 300
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT")
img=$T/b.qcow2
V=$((512 * MiB))
LEASE=15
qemu-img create -q -f qcow2 "$img" 512M
write_extents "$img" 12 40 1 1M
rep=("$AZPREP" replicate --container vms --name b --state-container state
     --lease-seconds $LEASE --json --parallel 1 "$img")
cache () { json_get "$T/$1/remote/state/b.json" "$2"; }
# wait_writing DIR PID: until the run's delta has sent something.
wait_writing () {
  local i
  for i in $(seq 1 600); do
    [ -f "$T/$1/remote/state/b.json" ] &&
      [ "$(cache "$1" 'd.disks[0].open')" = true ] &&
      [ "$(cache "$1" 'd.disks[0].cycle_bytes')" -gt 0 ] && return 0
    kill -0 "$2" 2>/dev/null || { cat "$T/err.$1"; fail "$1 ended early"; }
    sleep 0.1
  done
  fail "$1 did not start writing"
}
now_ms () { date +%s%3N; }
with_azurite () {
  AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$AZURITE_ENDPOINT") "$@"
}

expect_exit 0 "${rep[@]}" --state "$T/w0"

# --- a second worker: refused, naming the holder; or it waits -------
write_extents "$img" 12 15 20 1M 101
"${rep[@]}" --state "$T/w1" >"$T/out.w1" 2>"$T/err.w1" &
pid1=$!
running=$pid1
wait_writing w1 $pid1
expect_exit 6 "${rep[@]}" --state "$T/w2"
assert_contains "$T/err" "refused: the job is held by worker $(hostname)/$pid1"
assert_contains "$T/err" '--wait-lock'
expect_exit 2 "$AZPREP" replicate --container vms --name b --wait-lock 5 "$img"
# Waiting: it runs once the first is done (one cycle: a delta of 0).
expect_exit 0 "${rep[@]}" --state "$T/w2" --wait-lock 300
wait $pid1 || fail "the first worker failed: $(cat "$T/err.w1")"
running=
assert_contains "$T/out.w1" '"kind":"delta","cycle":2'
assert_contains "$T/out" '"kind":"delta","cycle":3,"bytes_sent":0'

# --- a stale worker after a takeover ----------------------------------
write_extents "$img" 12 15 22 1M 150
# Its clock does not tell it how long it was paused (test hook): the
# service's 412 must stop it.
AZPREP_TEST_NO_RENEW_DEADLINE=1 "${rep[@]}" --state "$T/w3" >"$T/out.w3" \
  2>"$T/err.w3" &
pid3=$!
running=$pid3
wait_writing w3 $pid3
kill -STOP $pid3
t0=$SECONDS
expect_exit 0 "${rep[@]}" --state "$T/w4" --wait-lock 120
echo "took over after $((SECONDS - t0)) s"
assert_contains "$T/err" 'taking the job over: breaking the lease'
assert_contains "$T/out" '"kind":"delta","cycle":4'
p412=$(json_get "$PROXY_STATS" 'd.vhd_412')
with_azurite blobtool list vms >"$T/before.json"
kill -CONT $pid3
rc=0; wait $pid3 || rc=$?
running=
cat "$T/err.w3"
[ $rc = 5 ] || fail "the stale worker exited $rc, not 5 (lease lost)"
assert_contains "$T/err.w3" 'HTTP 412 '
assert_contains "$T/err.w3" 'lease on its state .* is lost \((the service refused|a manifest write was refused|the journal write was refused)'
echo "replica writes answered 412: $(( $(json_get "$PROXY_STATS" 'd.vhd_412') - p412 ))"
with_azurite blobtool list vms >"$T/after.json"
cmp -s <(json_get "$T/before.json" 'd.map(b=>b.snapshot).join(" ")') \
       <(json_get "$T/after.json" 'd.map(b=>b.snapshot).join(" ")') ||
  fail "the stale worker changed the snapshots"
# Every snapshot of the blob is a recovery point the journal lists.
with_azurite blobtool cat state jobs/b/journal.json >"$T/cj.json"
for s in $(json_get "$T/after.json" \
             'd.filter(b=>b.snapshot).map(b=>b.snapshot).join(" ")'); do
  json_get "$T/cj.json" 'd.disks[0].snapshots.join(" ")' | grep -qw -- "$s" ||
    fail "orphan snapshot $s"
done
[ "$(json_get "$T/cj.json" 'd.disks[0].cycles')" = 4 ] ||
  fail "the journal was changed by the stale worker"
last=$(json_get "$T/cj.json" 'd.disks[0].snapshots.slice(-1)[0]')
src=$(img_digest "$img" $V)
[ "$(with_azurite blobtool digest vms b-disk0.vhd "$last" $V)" = "$src" ] ||
  fail "the last recovery point differs from the source"
[ "$(with_azurite blobtool digest vms b-disk0.vhd - $V)" = "$src" ] ||
  fail "the blob changed after the takeover"

# --- renewal blocked: writes stop before the lease expires ------------
write_extents "$img" 48 10 3 1M 200
start=$(now_ms)
rc=0
AZPREP_TEST_BLOCK_RENEWAL=1 "${rep[@]}" --state "$T/w5" >"$T/out.w5" \
  2>"$T/err.w5" || rc=$?
end=$(now_ms)
cat "$T/err.w5"
[ $rc = 5 ] || fail "blocked renewal: exit $rc, not 5"
assert_contains "$T/err.w5" 'is lost \(not renewed in time\)'
assert_not_contains "$T/out.w5" '"event":"cycle"'
last_ok=$(json_get "$PROXY_STATS" 'd.vhd_last_ok_ms')
echo "last replica write $((last_ok - start)) ms after the start, exit after $((end - start)) ms"
[ $((last_ok - start)) -lt $((LEASE * 1000)) ] ||
  fail "a replica write landed $((last_ok - start)) ms after the start (lease $LEASE s)"

# --- the lease broken from outside -------------------------------------
# (It waits for the blocked worker's lease to expire.)
"${rep[@]}" --state "$T/w6" --wait-lock 60 >"$T/out.w6" 2>"$T/err.w6" &
pid6=$!
running=$pid6
wait_writing w6 $pid6
with_azurite blobtool break-lease state jobs/b/journal.json
broke=$(now_ms)
rc=0; wait $pid6 || rc=$?
running=
cat "$T/err.w6"
[ $rc = 5 ] || fail "broken lease: exit $rc, not 5"
assert_contains "$T/err.w6" 'is lost \((the service refused to renew it|the journal write was refused|a manifest write was refused)\)'
last_ok=$(json_get "$PROXY_STATS" 'd.vhd_last_ok_ms')
[ $((last_ok - broke)) -lt $((LEASE * 1000)) ] ||
  fail "a replica write landed $((last_ok - broke)) ms after the break"
