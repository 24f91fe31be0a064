#!/usr/bin/env bash
# Long vCenter tasks and interrupted cycles, against the simulator (its
# task-delay control makes RemoveSnapshot_Task run for seconds reporting
# TaskInfo.progress, as a consolidation does) and Azurite.  No appliance.
#  1. A snapshot removal that takes 6 s: its progress is shown as it
#     runs, in the log and (--json) as task-progress events on stdout
#     that a pipeline reads; the snapshot is gone at the end.
#  1b. A snapshot creation that takes 3.2 s is seen to end when it ends
#     (WaitForUpdatesEx), not at the next poll (polls every 0.1 s
#     doubling to 2 s see it at 5.1 s at the earliest); the bridge,
#     started meanwhile, reads nothing of the live disk.
#  2. --task-timeout 1 on a removal that takes 6 s: a clear error naming
#     the task, the VM and the snapshot, which is left named; the next
#     run removes it by name.
#  3. A CBT delta cycle killed (SIGKILL) during its reads: the rerun
#     completes the cycle, its recovery point equals the disk as
#     snapshotted, it reads only the changed areas (not the whole disk),
#     the killed run's snapshot is removed by name, and none is left.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
vcsim_replication_setup
size=$((32 * 1048576))
vm=DC0_H0_VM1
uri="vsphere://$VCSIM_HOST/DC0/$vm/0?http=1"
vcsim_sparse_disk "$T/disk.img" 32 16 "$vm"
rep () {
  "$AZPREP" replicate --vsphere-allow-http --container vms --name vm1 \
    --state "$T/state" --json "$@" "$uri"
}
# No azprep snapshot is left on the VM.
no_snapshot () {
  "$AZPREP" discover --vcenter "$VCSIM_BASE" --vm "$vm" --json \
    >"$T/d.json" || fail "discover"
  [ -z "$(json_get "$T/d.json" 'd.vms[0].snapshots.map(s => s.name).join()')" ] ||
    fail "$1: a snapshot was left behind: $(json_get "$T/d.json" \
      'd.vms[0].snapshots.map(s => s.name).join()')"
}
# The last cycle's recovery point holds the disk as it was snapshotted.
check_point () {
  vcsim_check_point "$T/out" vm1-disk0.vhd "$T/disk.img" "$size" "$1"
}

# ---- 1. progress of a long snapshot removal
vcsim_ctl "task-delay?method=RemoveSnapshot_Task&seconds=6"
expect_exit 0 rep --enable-cbt
cat "$T/err"
grep -E "remove snapshot azprep-cycle-[0-9]+: [0-9]+% done after [0-9]+ s" \
  "$T/err" > "$T/progress" || fail "no progress shown for the long removal"
[ "$(wc -l < "$T/progress")" -ge 2 ] ||
  fail "one progress line in 6 s: $(cat "$T/progress")"
# The percentages rise.
sed -E 's/.*: ([0-9]+)% done.*/\1/' "$T/progress" | sort -n -c ||
  fail "progress does not rise: $(cat "$T/progress")"
assert_contains "$T/err" "snapshot azprep-cycle-[0-9]+ removed"
# The same progress as JSON events: one object a line, the task, what it
# does, the percentages rising, at most one a second.
grep '"event":"task-progress"' "$T/out" > "$T/events" ||
  fail "no task-progress event on stdout with --json"
node -e '
  const ev = require("fs").readFileSync(process.argv[1], "utf8").trim()
    .split("\n").map(l => JSON.parse(l));
  if (ev.length < 3) throw new Error(ev.length + " events in 6 s");
  for (let i = 0; i < ev.length; i++) {
    const e = ev[i], p = ev[i - 1];
    if (!/^task-[0-9]+$/.test(e.task) ||
        !/: remove snapshot azprep-cycle-[0-9]+$/.test(e.what) ||
        typeof e.percent !== "number" || e.percent < 0 || e.percent > 100 ||
        typeof e.seconds !== "number")
      throw new Error("bad event " + JSON.stringify(e));
    if (p && (e.percent <= p.percent || e.seconds < p.seconds + 0.9))
      throw new Error("not rising once a second: " + JSON.stringify([p, e]));
  }
  console.log(ev.length + " task-progress events, last " + ev.at(-1).percent + "%");
' "$T/events" || fail "task-progress events: $(cat "$T/events")"
no_snapshot "a long removal"
check_point "initial cycle"

# ---- 1b. the end of a long snapshot creation is seen when it happens
vcsim_ctl "task-delay?method=CreateSnapshot_Task&seconds=3.2"
vcsim_ctl stats-reset
expect_exit 0 rep -v
# The bridge started while the snapshot was being taken; it read nothing
# of the live disk meanwhile.
[ "$(vcsim_stats locked_refusals)" = 0 ] ||
  fail "the live disk was read while the snapshot was being taken"
took=$(sed -nE 's/.*create snapshot azprep-cycle-[0-9]+: task task-[0-9]+ done after ([0-9.]+) s/\1/p' "$T/err")
[ -n "$took" ] || { cat "$T/err"; fail "no task wait time in the -v log"; }
echo "a 3.2 s snapshot creation waited for: $took s"
awk -v t="$took" 'BEGIN { exit !(t >= 3.2 && t < 4.5) }' ||
  fail "the 3.2 s snapshot creation was seen to end after $took s"
check_point "the cycle with a slow snapshot"

# ---- 2. --task-timeout: the removal outlasts it
vcsim_ctl "task-delay?method=RemoveSnapshot_Task&seconds=6"
expect_exit 1 rep --task-timeout 1
cat "$T/err"
assert_contains "$T/err" \
  "error: $vm: remove snapshot (azprep-cycle-[0-9]+): task task-[0-9]+ did not finish within 1 s \(--task-timeout\)"
snap=$(sed -nE "s/.*remove snapshot (azprep-cycle-[0-9]+): task.*/\1/p" \
  "$T/err" | head -1)
assert_contains "$T/err" "$vm: snapshot $snap is left behind; the next run removes it"
# The next run (the removal still runs in vCenter) removes it by name.
expect_exit 0 rep
cat "$T/err"
assert_contains "$T/err" "removing snapshot $snap left by an interrupted run"
no_snapshot "after --task-timeout"
check_point "the cycle after a timeout"

# ---- 3. a CBT delta killed during its reads, then resumed
changed=0
for b in $(seq 3 4 511); do
  dd if=/dev/urandom of="$T/disk.img" bs=65536 seek="$b" count=1 \
    conv=notrunc status=none
  changed=$((changed + 65536))
done
vcsim_put "$T/disk.img" "$vm"
# Slow reads (300 ms each, two at a time): the cycle lasts ~20 s.
vcsim_ctl "fault?kind=slow&count=1000&ms=300&path=$vm/disk1-flat.vmdk"
vcsim_ctl stats-reset
# (azprep itself, not a shell running it, gets the SIGKILL)
"$AZPREP" replicate --vsphere-allow-http --container vms --name vm1 \
  --state "$T/state" --json --parallel 2 "$uri" \
  >"$T/killed.out" 2>"$T/killed.err" &
pid=$!
# Killed once the journal records areas done (it is saved every 2 s).
saved () {
  [ "$(json_get "$T/state/vm1.json" 'd.disks[0].done.length' 2>/dev/null)" \
    -gt 0 ] 2>/dev/null
}
for _ in $(seq 300); do
  saved && break
  kill -0 $pid 2>/dev/null || { cat "$T/killed.err"; fail "the cycle ended early"; }
  sleep 0.1
done
saved || fail "the cycle saved no progress"
kill -KILL $pid
wait $pid 2>/dev/null && fail "azprep survived SIGKILL"
vcsim_ctl fault-clear
cat "$T/killed.err"
assert_contains "$T/killed.err" "CBT reports $changed bytes changed"
grep -q '"event":"cycle"' "$T/killed.out" && fail "the killed cycle completed"
vcsim_ctl stats-reset
expect_exit 0 rep
cat "$T/err"
read=$(vcsim_stats folder_bytes)
echo "rerun: read $read bytes from the datastore ($changed changed)"
grep -q '"event":"cycle"' "$T/out" || fail "the rerun did not complete the cycle"
# replicate has no guard process: the rerun removes the killed run's
# snapshot by name.
assert_contains "$T/err" "removing snapshot azprep-cycle-[0-9]+ left by an interrupted run"
[ "$read" -le $((changed * 105 / 100)) ] ||
  fail "the rerun read $read bytes, more than 1.05 x $changed changed"
no_snapshot "after the resumed cycle"
check_point "the resumed cycle"
