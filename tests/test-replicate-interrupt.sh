#!/usr/bin/env bash
# azprep replicate: SIGINT in the middle of a delta: the writes in
# flight finish, the journal records them, the lease is released, the
# last recovery point is intact; the same command then resumes and
# sends the rest.
source tests/lib/functions.sh
source tests/lib/azurite.sh
source tests/lib/continuous.sh

# --- the job: two cycles (the initial copy and a delta), then 32 MiB
# changed, all through a slow proxy so that the stop lands mid-delta.
slow_job_b
expect_exit 0 "${rep_b[@]}" --cycles 2 --interval 0
before=$(img_digest "$img" $V)
change_32_mib

# --- SIGINT in the middle of a delta, then resume -------------------
"${rep_b[@]}" --cycles 1 >"$T/out.c" 2>"$T/err.c" &
pid=$!
running=$pid
for i in $(seq 1 300); do
  [ "$(jget b 'd.disks[0].open')" = true ] &&
    [ "$(jget b 'd.disks[0].cycle_bytes')" -gt 0 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
# libnbd's qemu-nbd must not see the signal (Ctrl-C goes to the whole
# process group; Slurm's and systemd's stop, SIGTERM, to every process
# of the job): it keeps serving until azprep closes it.
for c in $(pgrep -P $pid || true); do
  [ $(( 0x$(sed -n 's/^SigBlk:\s*//p' /proc/$c/status) & 2 )) != 0 ] ||
    fail "the source server ($c) does not block SIGINT"
  [ $(( 0x$(sed -n 's/^SigBlk:\s*//p' /proc/$c/status) & 0x4000 )) != 0 ] ||
    fail "the source server ($c) does not block SIGTERM"
done
kill -INT $pid
rc=0; wait $pid || rc=$?
running=
cat "$T/err.c"
[ $rc = 1 ] || fail "SIGINT during a cycle: exit $rc, not 1"
assert_contains "$T/out.c" '"event":"stopped","signal":"INT","in_cycle":true'
assert_not_contains "$T/out.c" '"event":"cycle"'
assert_contains "$T/err.c" 'run the same command to resume'
[ "$(jget b 'd.disks[0].open')" = true ] || fail "the cycle is not open in the journal"
[ "$(jget b 'd.disks[0].state')" = delta ] || fail "state is not delta"
[ "$(jget b 'd.disks[0].cycles')" = 2 ] || fail "cycles changed"
assert_contains "$T/state/b.json" 'cycle 3 stopped by Interrupt'
partial=$(jget b 'd.disks[0].cycle_bytes')
echo "stopped after $partial bytes of the delta"
[ "$partial" -gt 0 ] && [ "$partial" -lt $((32 * MiB)) ] ||
  fail "the stop did not land mid-delta ($partial bytes)"
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$AZURITE_ENDPOINT")
[ "$(json_get <(blobtool props vms b-disk0.vhd) 'd.leaseState')" = available ] ||
  fail "the lease was not released"
[ "$(jget b 'd.disks[0].snapshots.length')" = 2 ] || fail "recovery points changed"
last=$(jget b 'd.disks[0].snapshots[1]')
[ "$(blobtool digest vms b-disk0.vhd "$last" $V)" = "$before" ] ||
  fail "the last recovery point changed"
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT")

echo "stopped at ${SECONDS}s"
expect_exit 0 "${rep_b[@]}" --cycles 1
echo "resumed at ${SECONDS}s"
assert_contains "$T/out" '"event":"cycle","disk":0,"kind":"delta","cycle":3'
total=$(grep '"event":"cycle"' "$T/out" | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
    console.log(JSON.parse(s).bytes_sent));')
echo "delta: $total bytes in all, $((total - partial)) after the resume"
# Writes that landed before the stop are not sent again.
[ "$total" = $((32 * MiB)) ] || fail "the delta sent $total bytes for 32 MiB"
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$AZURITE_ENDPOINT")
now=$(img_digest "$img" $V)
[ "$(blobtool digest vms b-disk0.vhd - $V)" = "$now" ] || fail "blob differs from the source"
s=$(snap_of_cycle vms b-disk0.vhd 3)
[ "$(blobtool digest vms b-disk0.vhd "$s" $V)" = "$now" ] || fail "recovery point 3"
[ "$(blobtool digest vms b-disk0.vhd "$last" $V)" = "$before" ] ||
  fail "recovery point 2 changed"
[ "$(json_get <(blobtool props vms b-disk0.vhd) 'd.leaseState')" = available ] ||
  fail "the lease was not released after the resumed cycle"
