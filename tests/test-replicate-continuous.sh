#!/usr/bin/env bash
# azprep replicate --continuous --interval 2 against a real Azurite:
# several cycles while the source changes between them (each recovery
# point holds the source as it was when its cycle ran); SIGTERM while
# waiting ends the job with exit 0, the journal idle, the lease
# released.
# Nothing here depends on timing: the test pauses azprep (SIGSTOP)
# only once the journal says it is waiting with its sources closed.
source tests/lib/functions.sh
source tests/lib/azurite.sh
source tests/lib/continuous.sh

# --- --continuous --interval 2 while the source changes -------------
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
