#!/usr/bin/env bash
# azprep replicate --continuous without --interval, Azure Migrate's
# rule: the first delta right after the initial copy (wait 0), then
# clamp(duration / 2, 1 h, 12 h) = 1 h after a short delta, printed and
# recorded in the journal (and shown by status).  While it runs, another
# replicate of the job and complete are refused, naming its pid; SIGINT
# while waiting ends it with exit 0.
# Nothing here depends on timing: the test pauses azprep (SIGSTOP)
# only once the journal says it is waiting with its sources closed.
source tests/lib/functions.sh
source tests/lib/azurite.sh
source tests/lib/continuous.sh

# --- the interval rule, through a slow proxy ------------------------
slow_job_b
"${rep_b[@]}" --continuous >"$T/out.b" 2>"$T/err.b" &
pid=$!
running=$pid
pause_waiting $pid b 2
[ "$CAUGHT" = 2 ] || fail "no wait after the first delta"
grep '"event":"wait"' "$T/out.b" >"$T/waits.b"
cat "$T/waits.b"
[ "$(count wait "$T/waits.b")" = 2 ] || fail "not two waits"
head -1 "$T/waits.b" >"$T/w1.json"; tail -1 "$T/waits.b" >"$T/w2.json"
[ "$(json_get "$T/w1.json" 'd.seconds')" = 0 ] ||
  fail "the first delta does not follow the initial copy at once"
[ "$(json_get "$T/w1.json" 'd.rule')" = "first delta right after the initial copy" ] ||
  fail "rule after the initial copy"
# The delta took seconds: half of it, clamped to 1 h.
[ "$(json_get "$T/w2.json" 'd.seconds')" = 3600 ] || fail "wait after a delta is not 1 h"
[ "$(json_get "$T/w2.json" 'd.rule')" = "half the last cycle, 1 h to 12 h" ] ||
  fail "rule after a delta"
next=$(json_get "$T/w2.json" 'd.next_cycle')
[ "$(jget b 'd.next_cycle')" = "$next" ] || fail "the journal does not record the next cycle"
[ $((next - $(jget b 'd.disks[0].last_end'))) -ge 3600 ] &&
  [ $((next - $(jget b 'd.disks[0].last_end'))) -le 3660 ] ||
  fail "next cycle is not 1 h after the last one ended"
"$AZPREP" status --state "$T/state" --json b >"$T/status.json"
[ "$(json_get "$T/status.json" 'd[0].next_cycle')" = "$next" ] ||
  fail "status does not show the next cycle"
"$AZPREP" status --state "$T/state" b >"$T/status.txt"
assert_contains "$T/status.txt" "waiting: next cycle at $(json_get "$T/w2.json" 'd.at')"
# While it runs (stopped, but holding the job's lock), another replicate
# of the job and complete (which would delete the replica) are refused,
# naming its pid; the journal is not touched.
jsum=$(cksum < "$T/state/b.json")
expect_exit 1 "${rep_b[@]}"
assert_contains "$T/err" "replicate b: refused: another azprep with pid $pid works on the job"
expect_exit 1 "$AZPREP" complete --state "$T/state" --force b
assert_contains "$T/err" "complete b: refused: another azprep with pid $pid works on the job"
[ "$(cksum < "$T/state/b.json")" = "$jsum" ] || fail "a refused command wrote the journal"
# Change 32 MiB while it waits (its sources are closed), then stop it.
change_32_mib
kill -INT $pid
kill -CONT $pid
rc=0; wait $pid || rc=$?
running=
[ $rc = 0 ] || { cat "$T/err.b"; fail "SIGINT while waiting: exit $rc, not 0"; }
[ "$(jget b 'd.next_cycle')" = 0 ] || fail "next_cycle left in the journal"

echo "part 2 done at ${SECONDS}s"
