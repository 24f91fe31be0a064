#!/usr/bin/env bash
# azprep replicate --continuous against a real Azurite:
#  1. --interval 2: several cycles while the source changes between
#     them (each recovery point holds the source as it was when its
#     cycle ran); SIGTERM while waiting ends the job with exit 0, the
#     journal idle, the lease released.
#  2. Without --interval, Azure Migrate's rule: the first delta right
#     after the initial copy (wait 0), then clamp(duration / 2, 1 h,
#     12 h) = 1 h after a short delta, printed and recorded in the
#     journal (and shown by status).
#  3. SIGINT in the middle of a delta: the writes in flight finish, the
#     journal records them, the lease is released, the last recovery
#     point is intact; the same command then resumes and sends the rest.
# Nothing here depends on timing: the test pauses azprep (SIGSTOP)
# only once the journal says it is waiting with its sources closed.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start

MiB=$((1024 * 1024))
count () { grep -c "\"event\":\"$1\"" "$2" || true; }
jget () { json_get "$T/state/$1.json" "$2"; }
# A number field of the journal (one disk), without starting node.
jnum () { sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\([0-9]*\).*/\1/p" \
            "$T/state/$1.json" | head -1; }
# The digest of an image as the blobtool sees it, and of a blob or one
# of its snapshots.
img_digest () {
  qemu-img convert -U -O raw "$1" "$T/tmp.raw"
  blobtool filedigest "$T/tmp.raw" "$2"
  rm -f "$T/tmp.raw"
}
snap_of_cycle () {  # CONTAINER BLOB CYCLE: that cycle's recovery point
  blobtool list "$1" >"$T/list.json"
  json_get "$T/list.json" \
    "d.filter(b=>b.snapshot && b.name==='$2' && b.metadata.cycle==='$3').map(b=>b.snapshot)[0]"
}
# pause_waiting PID JOB MIN: return once azprep PID is stopped
# (SIGSTOP) while it waits after cycle MIN or a later one (sources
# closed); sets CAUGHT to the cycles completed.
running=
stop_running () { [ -z "$running" ] || kill -9 "$running" 2>/dev/null || true; }
on_exit stop_running
pause_waiting () {
  local i c
  for i in $(seq 1 1200); do
    kill -0 "$1" 2>/dev/null || { cat "$T/err.$2"; fail "azprep ($2) exited"; }
    if [ -f "$T/state/$2.json" ] && [ "$(jnum "$2" next_cycle)" != 0 ] &&
       [ "$(jnum "$2" cycles)" -ge "$3" ]; then
      kill -STOP "$1"
      # Stopped now: if it still waits, the next cycle cannot begin.
      if [ "$(jnum "$2" next_cycle)" != 0 ]; then
        CAUGHT=$(jnum "$2" cycles)
        return 0
      fi
      kill -CONT "$1"
    fi
    sleep 0.1
  done
  fail "$2: no wait after cycle $3"
}

# --- 1. --continuous --interval 2 while the source changes -------------
# The source changes only while azprep is paused between cycles, so the
# recovery point of cycle c holds what the source was at that pause.
img=$T/a.qcow2
V=$((256 * MiB))
qemu-img create -q -f qcow2 "$img" 256M
qemu-io -f qcow2 -c 'write -P 0x11 0 1M' -c 'write -P 0x12 100M 2M' "$img" >/dev/null
"$AZPREP" replicate --container vms --name a --state "$T/state" --json \
  --continuous --interval 2 --keep 20 "$img" >"$T/out.a" 2>"$T/err.a" &
pid=$!
running=$pid
changes=('write -P 0x21 10M 1M' 'write -P 0x31 200M 2M')
caught=()
want=()
CAUGHT=0
for k in 0 1 2; do
  pause_waiting $pid a $((CAUGHT + 1))
  caught+=("$CAUGHT")
  want[$CAUGHT]=$(img_digest "$img" $V)
  if [ $k = 1 ]; then
    qemu-io -f qcow2 -c "${changes[1]}" -c 'write -z 100M 1M' "$img" >/dev/null
  elif [ $k = 0 ]; then
    qemu-io -f qcow2 -c "${changes[0]}" "$img" >/dev/null
  else
    break
  fi
  kill -CONT $pid
done
echo "paused after cycles ${caught[*]}"
[ "$(jget a 'd.disks[0].lease')" != null ] || fail "no lease in the journal"
[ "$(json_get <(blobtool props vms a-disk0.vhd) 'd.leaseState')" = leased ] ||
  fail "the blob is not leased while the job runs"
kill -TERM $pid
kill -CONT $pid
rc=0; wait $pid || rc=$?
running=
[ $rc = 0 ] || { cat "$T/err.a"; fail "SIGTERM while waiting: exit $rc, not 0"; }
grep -v '"progress"' "$T/out.a"
assert_contains "$T/out.a" '"event":"stopped","signal":"TERM","in_cycle":false'
ncycles=$(count cycle "$T/out.a")
[ "$ncycles" = "${caught[2]}" ] || fail "$ncycles cycles, expected ${caught[2]}"
[ "$(count wait "$T/out.a")" = "$ncycles" ] || fail "not a wait after each cycle"
assert_not_contains "$T/out.a" '"event":"wait","seconds":[^2]'
assert_contains "$T/out.a" '"rule":"interval"'
# Bytes sent by the cycles that sent any: the initial 3 MiB, then the
# 1 MiB change, then 2 MiB (the zeroed MiB is a clear, not data).
sent=$(grep '"event":"cycle"' "$T/out.a" | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
    console.log(s.trim().split("\n").map((l) => JSON.parse(l).bytes_sent)
                .filter((n) => n > 0).join(" ")));')
[ "$sent" = "$((3 * MiB)) $MiB $((2 * MiB))" ] || fail "bytes sent per cycle: $sent"
# The journal: consistent and idle; no cycle pending; lease released.
[ "$(jget a 'd.next_cycle')" = 0 ] || fail "next_cycle left in the journal"
[ "$(jget a 'd.disks[0].state')" = idle ] || fail "state not idle"
[ "$(jget a 'd.disks[0].open')" = false ] || fail "a cycle left open"
[ "$(jget a 'd.disks[0].snapshots.length')" = "$ncycles" ] ||
  fail "not one recovery point per cycle"
[ "$(json_get <(blobtool props vms a-disk0.vhd) 'd.leaseState')" = available ] ||
  fail "the lease was not released"
# Each recovery point holds the source as its cycle saw it.
for c in "${caught[@]}"; do
  s=$(snap_of_cycle vms a-disk0.vhd "$c")
  [ -n "$s" ] && [ "$s" != undefined ] || fail "no recovery point of cycle $c"
  [ "$(blobtool digest vms a-disk0.vhd "$s" $V)" = "${want[$c]}" ] ||
    fail "the recovery point of cycle $c differs from the source then"
done
[ "${want[${caught[0]}]}" != "${want[${caught[1]}]}" ] &&
  [ "${want[${caught[1]}]}" != "${want[${caught[2]}]}" ] ||
  fail "the source did not change between cycles"

echo "part 1 done at ${SECONDS}s"

# --- 2. the interval rule, through a slow proxy ------------------------
faultproxy_start --slow 200
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT")
img=$T/b.qcow2
V=$((512 * MiB))
qemu-img create -q -f qcow2 "$img" 512M
cmds=()
for i in $(seq 0 11); do cmds+=(-c "write -P $((i + 1)) $((i * 40 + 1))M 1M"); done
qemu-io -f qcow2 "${cmds[@]}" "$img" >/dev/null
rep_b=("$AZPREP" replicate --container vms --name b --state "$T/state"
       --json --parallel 1 "$img")
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
before=$(img_digest "$img" $V)
# Change 32 MiB while it waits (its sources are closed), then stop it.
cmds=()
for i in $(seq 0 31); do cmds+=(-c "write -P $((i + 101)) $((i * 15 + 20))M 1M"); done
qemu-io -f qcow2 "${cmds[@]}" "$img" >/dev/null
kill -INT $pid
kill -CONT $pid
rc=0; wait $pid || rc=$?
running=
[ $rc = 0 ] || { cat "$T/err.b"; fail "SIGINT while waiting: exit $rc, not 0"; }
[ "$(jget b 'd.next_cycle')" = 0 ] || fail "next_cycle left in the journal"

echo "part 2 done at ${SECONDS}s"

# --- 3. SIGINT in the middle of a delta, then resume -------------------
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
# process group): it keeps serving until azprep closes it.
for c in $(pgrep -P $pid || true); do
  [ $(( 0x$(sed -n 's/^SigBlk:\s*//p' /proc/$c/status) & 2 )) != 0 ] ||
    fail "the source server ($c) does not block SIGINT"
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
