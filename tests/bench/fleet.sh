#!/usr/bin/env bash
# Benchmark: a fleet of 8 small VMs replicated by a Slurm job array (a
# one-node cluster on loopback, tests/lib/slurm.sh; 2 tasks at a time,
# replicate/fleet/replicate.sbatch) against one azprep process
# (replicate --vms --jobs 2) on this machine, both against Azurite:
# the initial copy and a delta cycle (1 MiB changed per VM), each
# timed from submission to the last VM done.  Target: the array within
# 1.1x of the single process (what Slurm and the state container add).
# Also a fleet check of 6 VMs that need no appliance, in 2 shards
# merged vs check --vms --jobs 2 (the overhead of sharding alone).
# With --state-container (when this azprep has it): the requests to the
# state container per delta cycle, from Azurite's request log, and
# azprep's "state" event.  Pairs alternate (bench_pair: medians, spread,
# load, a row in make bench's table); figures only, nothing fails on
# time.  Also the array of 8 tasks that do nothing: Slurm alone.
#
# Where an array task's time went (Slurm 22.05; slurmctld's and slurmd's
# logs at debug2/debug4 with LogTimeFormat=iso8601_ms, the task's own
# timestamps; 2 CPUs at load 4 to 10): slurmctld to slurmd 0.02 s;
# slurmd's launch to azprep's exec 0.2 to 0.3 s (slurmstepd: plugins,
# the node's hwloc topology loaded per step; bash); azprep's end to
# slurmctld told 0.03 s.  Then the next task: without an Epilog, slurmd
# answers the terminate request "already complete" and slurmctld starts
# the next task on its next scheduling pass, once a second: 0.80 s
# (0.64-0.94) after the end, the 0.65 s a wave measured before.  With
# Epilog=/bin/true (tests/lib/slurm.sh; replicate.sbatch says why) slurmd
# sends the end as a message on which slurmctld schedules at once:
# 0.09 s (0.04-0.21), the Epilog included.  Per array: its first tasks
# start on the next pass, 0.2 to 1.2 s after the submission (an array
# never starts at submission), and squeue sees the end within 0.2 s.
# The one process pays none of this, and nothing less per VM otherwise:
# it forks and execs one azprep per VM, each with its own connections
# and state container requests (17 a VM a delta), as a task does.
# What remains is a second or so per array and 0.3 to 0.4 s per task:
# within 1.1x once a VM's cycle takes some seconds, not with these
# VMs' 0.3 s deltas on a quiet machine.
# Measured 2026-12-06, 3 runs a pair, other work on the 2 CPUs:
#   main's slurm.conf (load 7-10): initial 1.27x (1.03-2.01), delta
#   1.73x (1.39-1.80), the empty array 5.25 s (4.70-5.61);
#   with the Epilog, Azurite's containers deleted between runs (load
#   4.5-8.7): initial 1.22x (1.06-1.52), delta 1.59x (1.33-2.29): 0.34 s
#   a wave beyond the one process, both; before those deletions the
#   side run second (the array) lost up to 0.96 s a wave to Azurite's
#   growing heap.  On the quiet machine, main (load 2.6): 2.27x and
#   3.80x.  The empty array alone, with and without the Epilog
#   alternating on one cluster (5 rounds, load 8-9): 3.75 s (2.72-5.78)
#   vs 6.07 s (4.43-8.16).  The load moves the pairs more than the
#   change does: compare the per-task figures above.
source tests/bench/functions.sh
source tests/lib/functions.sh
on_exit 'rm -rf "$B"'    # tests/lib/functions.sh replaced the bench's trap
source tests/lib/slurm.sh
source tests/lib/check-desc.sh
source tests/lib/check-fleet.sh
source tests/lib/azurite.sh
requires bc python3 qemu-img
VMS=8
MIB=${BENCH_VM_MIB:-32}
MiB=$((1024 * 1024))
state_container=
# (grep -q would end the pipe early: pipefail)
case $("$AZPREP" replicate --help) in
  *--state-container*) state_container=1 ;;
esac

echo "  machine: $(nproc) CPUs, load average $(load)"
# Azurite keeps a deleted container's data until its own collection
# runs: with BENCH_VM_MIB=256 in memory, the fourth or fifth run of
# 2 GiB failed with 409 MemoryExtentStoreAtSizeLimit (azprep said so).
# Fleets over 64 MiB a VM go on disk.
loc=()
[ "$MIB" -le 64 ] || loc=(--location "$T/azurite")
azurite_start "${loc[@]}" ${state_container:+--log "$T/requests.log"}
slurm_start --cpus 2
connection_string "$AZURITE_ENDPOINT" > "$T/creds"
chmod 600 "$T/creds"
python3 -c '
import json
print(json.dumps([{"name": "vm%d" % i, "disks": ["vm%d.raw" % i],
                   "format": "raw"} for i in range(8)]))' > "$T/fleet.json"
echo "  fleet: $VMS VMs of $MIB MiB of random data; $BENCH_RUNS runs a pair"

fresh () {
  local i
  for i in $(seq 0 $((VMS - 1))); do
    head -c $((MIB * MiB)) /dev/urandom > "$T/vm$i.raw"
  done
}
change () {
  local i
  for i in $(seq 0 $((VMS - 1))); do
    head -c $MiB /dev/urandom |
      dd of="$T/vm$i.raw" bs=1M seek=$((i % MIB)) conv=notrunc status=none
  done
}
# Each run is a job of its own: its containers and state (run $run).
run=0
opts () {  # MODE (a: the array, s: the single process)
  echo --container "b$run$1" --credentials "$T/creds" --state "$T/state-$run$1"
  [ -z "$state_container" ] || echo --state-container "s$run$1"
}
# sbatch_array ARRAY SCRIPT OUTPUT ARGS...: submit, wait until all done
sbatch_array () {
  local j tasks=$1 script=$2 out=$3
  shift 3
  j=$(env -u AZURE_STORAGE_CONNECTION_STRING AZPREP="$AZPREP" \
        sbatch --parsable --array="$tasks" -o "$out" "$script" "$@")
  slurm_wait "$j" 1200
  echo "$j"
}
array () {  # one cycle of the fleet by the array, until every VM is done
  local j n
  last=${run}a
  # shellcheck disable=SC2046
  j=$(sbatch_array "0-$((VMS - 1))%2" replicate/fleet/replicate.sbatch \
        "$T/a-%A-%a.out" "$T/fleet.json" --json $(opts a))
  n=$(grep -l '"event":"cycle"' "$T"/a-"$j"-*.out | wc -l) || true
  [ "$n" = $VMS ] && return 0
  echo "array $j: $n VMs of $VMS done"
  for f in "$T"/a-"$j"-*.out; do
    grep -q '"event":"cycle"' "$f" || { echo "--- $f"; tail -n 15 "$f"; }
  done
  slurm_states "$j" | tr '\n' ' '; echo
  grep -iE 'error|kill|fail' "$SLURM_DIR/slurmctld.log" | tail -n 5 || true
  return 1
}
single () {
  last=${run}s
  # shellcheck disable=SC2046
  "$AZPREP" replicate --vms "$T/fleet.json" --jobs 2 --json $(opts s) \
    > "$T/s-$run.out" 2> "$T/s-$run.err"
}
# Slurm alone: the same array of tasks that do nothing (AZPREP=true),
# what each wave of tasks costs beyond its VMs' cycles.
empty () {
  AZPREP=true sbatch_array "0-$((VMS - 1))%2" \
    replicate/fleet/replicate.sbatch /dev/null "$T/fleet.json" >/dev/null
}
# The state container's requests in a delta run: its container's lines
# in Azurite's log after the run's initial copy, before it is deleted.
declare -A mark upto
mark () {
  [ -z "$state_container" ] || mark[$run$1]=$(wc -l < "$T/requests.log")
}
reqs () {  # RUN MODE
  sed -n "$((${mark[$1$2]} + 1)),${upto[$1$2]:-\$}p" "$T/requests.log" |
    grep -c "RequestURL=.*/s$1$2[/?]" || true
}
# Before each run, the last run's containers go: Azurite keeps them in
# memory, and a heap that grows run by run would slow whichever side
# runs second (bench_pair runs the peer first).
last=
forget () {
  local c
  [ -n "$last" ] || return 0
  [ -z "$state_container" ] || upto[$last]=$(wc -l < "$T/requests.log")
  for c in "b$last" "s$last"; do
    blobtool delete-container "$c" >/dev/null 2>&1 || true
  done
  last=
}

array_prep () { forget; run=$((run + 1)); }
single_prep () { forget; run=$((run + 1)); }
fresh
# extra: what the array took beyond the one process, a wave of tasks.
extra () {
  awk -v a="$BENCH_OURS" -v s="$BENCH_PEER" -v w=$((VMS / 2)) 'BEGIN {
    printf "  the array'"'"'s extra time: %.2f s, %.2f s a wave of 2 " \
           "tasks (%d waves)\n", a - s, (a - s) / w, w }'
}
bench_pair \
  "fleet initial copy, $VMS VMs of $MIB MiB: Slurm array / one process" \
  "<=" 1.1 single array
extra
# A delta: each run's initial copy (untimed, the same way), 1 MiB
# changed in each VM, then the timed cycle.
adelta_prep () { array_prep; array; change; mark a; }
sdelta_prep () { single_prep; single; change; mark s; }
adelta () { array; }
sdelta () { single; }
bench_pair \
  "fleet delta cycle, 1 MiB changed in each: Slurm array / one process" \
  "<=" 1.1 sdelta adelta
extra
# What remains: Slurm's own cost, the same array of tasks that do
# nothing.
e=()
for _ in $(seq "$BENCH_RUNS"); do
  timed empty || true
  e+=("$TIMED_WALL")
done
read -r em emin emax <<<"$(stats "${e[@]}")"
echo "  Slurm alone, the array of $VMS tasks that do nothing (AZPREP=true):" \
     "$em s, median of $BENCH_RUNS ($emin-$emax), load $(load)"
if [ -n "$state_container" ]; then
  r=()
  for k in "${!mark[@]}"; do r+=("$(reqs "${k%?}" "${k: -1}")"); done
  echo "  state container: $(stats "${r[@]}" | cut -d' ' -f1) requests per" \
       "delta cycle of $VMS VMs (median of ${#r[@]} runs; Azurite's log)"
  grep -h '"event":"state' "$T"/a-*.out "$T"/s-*.out 2>/dev/null | tail -2 |
    sed 's/^/  /' || true
else
  echo "  state container: not in this azprep (--state-container): not measured"
fi

# A fleet check in 2 shards, merged, vs one process: no appliance.
shard_fleet
check_array () {
  rm -rf "$T/reports"
  sbatch_array 0-1 replicate/fleet/check.sbatch "$T/c-%a.out" \
    "$T/shards.json" "$T/reports" >/dev/null
  # The merge is a job of its own, submitted by the first task.
  for _ in $(seq 1 600); do
    [ -s "$T/reports/report.json" ] && [ -z "$(squeue -h)" ] && return 0
    sleep 0.1
  done
  return 1
}
check_single () {  # (exit 1: some of these VMs cannot be checked)
  "$AZPREP" check --vms "$T/shards.json" --jobs 2 --json \
    > "$T/one.json" 2>/dev/null || true
}
bench_pair \
  "fleet check, 6 VMs without an appliance: 2 shards merged / one process" \
  "<=" 1.1 check_single check_array
cmp -s "$T/one.json" "$T/reports/report.json" ||
  echo "  (the merged report differs from one machine's)"
echo "  load average at the end $(load)"
