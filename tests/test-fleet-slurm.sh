#!/usr/bin/env bash
# The fleet scripts (replicate/fleet/) on a real one-node Slurm cluster
# on loopback, against a real Azurite:
# - replicate.sbatch: a 4-VM fleet, one array task per VM, held to one
#   at a time by a Slurm license (a per-ESXi-host cap); every blob and
#   recovery point reads back identical with the SDK; no secret reaches
#   Slurm's state.  With AZPREP_EVERY the first task submits the next
#   run (--begin, --dependency=singleton): it starts after this one.
# - the job state in the storage account (--state-container): a task
#   requeued mid-cycle (SIGTERM: azprep, exec'd, stops cleanly) resumes
#   the cycle from the state container with its local state directory
#   wiped; the blob is identical and the bytes sent stay under 1.2x the
#   data changed.
# - check.sbatch: a fleet check sharded over an array and merged gives
#   the reports of one machine.  No appliance.
# tests/run: waits
source tests/lib/functions.sh
source tests/lib/azurite.sh
source tests/lib/slurm.sh
source tests/lib/check-desc.sh
source tests/lib/check-fleet.sh
requires python3 qemu-img
azurite_start
slurm_start --licenses esx1:1 --cpus 4

MiB=$((1024 * 1024))
R=$PWD/replicate/fleet
# Credentials in a file: sbatch copies the environment into the job.
creds () { connection_string "$1" > "$T/$2"; chmod 600 "$T/$2"; }
creds "$AZURITE_ENDPOINT" creds
sb () { env -u AZURE_STORAGE_CONNECTION_STRING AZPREP="$AZPREP" \
          sbatch --parsable "$@"; }
same () {  # BLOB FILE [SNAPSHOT]
  local n
  n=$(stat -c %s "$2")
  [ "$(blobtool digest fleet "$1" "${3:--}" "$n")" = \
    "$(blobtool filedigest "$2" "$n")" ] || fail "$1${3:+@$3} differs from $2"
}
states () { slurm_states "$1" | awk '{print $2}' | sort | uniq -c |
              awk '{print $2 "=" $1}' | tr '\n' ' '; }
# "START END" of each task of array $1, epoch seconds, by start.
times () {
  scontrol -o show job "$1" | sed -n \
    's/.*StartTime=\([^ ]*\) EndTime=\([^ ]*\) .*/\1 \2/p' |
    while read -r s e; do echo "$(date -d "$s" +%s) $(date -d "$e" +%s)"; done |
    sort -n
}
rp_of () {  # OUTFILE [CYCLE]: the last recovery point in a task's output
  grep '"event":"cycle"' "$1" | tail -1 |
    sed 's/.*"recovery_point":"\([^"]*\)".*/\1/'
}

# --- a 4-VM fleet, one array task per VM, a license held by each -----
for i in 0 1 2 3; do
  head -c $((4 * MiB)) /dev/urandom > "$T/vm$i.raw"
done
python3 -c '
import json, sys
print(json.dumps([{"name": "vm%d" % i, "disks": ["vm%d.raw" % i],
                   "format": "raw", "host": "esx1"} for i in range(4)]))' \
  > "$T/fleet.json"
rep=(--container fleet --state-container state --state "$T/state"
     --credentials "$T/creds" --json)
j1=$(sb --array=0-3 -L esx1:1 -o "$T/r1-%a.out" "$R/replicate.sbatch" \
       "$T/fleet.json" "${rep[@]}")
slurm_wait "$j1"
[ "$(states "$j1")" = "COMPLETED=4 " ] || { cat "$T"/r1-*.out; fail "run 1: $(states "$j1")"; }
# One license: the tasks ran one after another, not four at once.
times "$j1" | awk 'NR > 1 && $1 < e { exit 1 } { e = $2 }' ||
  { times "$j1"; fail "two tasks held the one esx1 license at once"; }
for i in 0 1 2 3; do
  assert_contains "$T/r1-$i.out" '"event":"cycle","disk":0,"kind":"initial"'
  same "vm$i-disk0.vhd" "$T/vm$i.raw"
  same "vm$i-disk0.vhd" "$T/vm$i.raw" "$(rp_of "$T/r1-$i.out")"
done
assert_secret_absent "$AZURITE_KEY" "the account key" \
  $(find "$SLURM_DIR" -type f) "$T"/r1-*.out

echo "run 1: ${SECONDS}s"
# --- the next runs: AZPREP_EVERY, --begin, singleton -----------------
for i in 0 1 2 3; do
  head -c $MiB /dev/urandom |
    dd of="$T/vm$i.raw" bs=1M seek=$i conv=notrunc status=none
done
j2=$(AZPREP_EVERY=2 AZPREP_RUNS=2 SBATCH_OUTPUT="$T/r2-%A-%a.out" \
       sb --array=0-3%2 \
       "$R/replicate.sbatch" "$T/fleet.json" "${rep[@]}")
slurm_wait "$j2"
j3=$(squeue -h -n azprep-replicate -o %F | sort -u)
[ -n "$j3" ] && [ "$j3" != "$j2" ] || fail "run 2 did not submit run 3"
slurm_wait "$j3"
[ "$(states "$j2")" = "COMPLETED=4 " ] || fail "run 2: $(states "$j2")"
[ "$(states "$j3")" = "COMPLETED=4 " ] || fail "run 3: $(states "$j3")"
last2=$(times "$j2" | awk '{ if ($2 > e) e = $2 } END { print e }')
first3=$(times "$j3" | head -1 | cut -d' ' -f1)
# Run 2 takes longer than AZPREP_EVERY: without the singleton
# dependency run 3 would have started while run 2 ran.
[ "$first3" -ge "$last2" ] || fail "run 3 started before run 2 ended"
[ "$(times "$j2" | head -1 | cut -d' ' -f1)" -lt $((last2 - 2)) ] ||
  echo "note: run 2 took under AZPREP_EVERY; the singleton is not shown"
[ "$(ls "$T"/r2-"$j3"-*.out | wc -l)" = 4 ] || fail "run 3's outputs"
for i in 0 1 2 3; do
  assert_contains "$T/r2-$j2-$i.out" \
    '"kind":"delta","cycle":2,"bytes_sent":1048576,'
  assert_contains "$T/r2-$j3-$i.out" '"kind":"delta","cycle":3,"bytes_sent":0,'
  same "vm$i-disk0.vhd" "$T/vm$i.raw" "$(rp_of "$T/r2-$j2-$i.out")"
done
# Run 3 did not submit a fourth.
[ -z "$(squeue -h -n azprep-replicate)" ] || fail "a fourth run"

echo "runs 2, 3: ${SECONDS}s"
# --- a task requeued mid-cycle resumes the cycle ---------------------
faultproxy_start --slow 400
creds "$PROXY_ENDPOINT" slow
head -c $((64 * MiB)) /dev/urandom > "$T/big.raw"
echo "big big.raw" > "$T/big.txt"
# Through the proxy from the start: the job keeps its endpoint.
j4=$(sb --array=0 -o "$T/r4.out" "$R/replicate.sbatch" "$T/big.txt" \
       --container fleet --state-container state --state "$T/state" \
       --credentials "$T/slow" --json)
slurm_wait "$j4"
# 32 MiB changed, in 32 places: a delta of 32 Put Pages at 400 ms each.
for i in $(seq 0 31); do
  head -c $MiB /dev/urandom |
    dd of="$T/big.raw" bs=1M seek=$((i * 2)) conv=notrunc status=none
done
changed=$((32 * MiB))
p0=$(json_get "$PROXY_STATS" 'd.vhd_page_bytes')
j5=$(sb --array=0 -o "$T/r5.out" "$R/replicate.sbatch" "$T/big.txt" \
       --container fleet --state-container state --state "$T/state" \
       --credentials "$T/slow" --json --parallel 1)
for i in $(seq 1 600); do
  grep -q '"event":"progress".*"bytes_sent":[1-9]' "$T/r5.out" 2>/dev/null &&
    break
  sleep 0.1
done
scontrol requeuehold "${j5}_0"
for i in $(seq 1 600); do
  grep -q '"event":"stopped"' "$T/r5.out" && break
  sleep 0.1
done
slurm_states "$j5"
assert_contains "$T/r5.out" '"event":"stopped","signal":"TERM","in_cycle":true'
assert_not_contains "$T/r5.out" '"event":"cycle"'
# Another node: nothing of the job's state on this one.
rm -rf "$T/state"
# A requeued job may start 2 minutes later (Slurm's delay): now.
scontrol release "${j5}_0"
scontrol update JobId="${j5}_0" StartTime=now
slurm_wait "$j5"
[ "$(states "$j5")" = "COMPLETED=1 " ] || fail "requeued: $(states "$j5")"
scontrol -o show job "$j5" | grep -q 'Restarts=1' || fail "not restarted once"
assert_contains "$T/r5.out" '"event":"cycle","disk":0,"kind":"delta","cycle":2,'
sent=$(( $(json_get "$PROXY_STATS" 'd.vhd_page_bytes') - p0 ))
echo "requeued delta: sent $sent for $changed changed bytes"
[ "$sent" -ge "$changed" ] || fail "sent $sent < $changed"
[ "$sent" -le $((changed * 12 / 10)) ] || fail "sent $sent > 1.2 x $changed"
same big-disk0.vhd "$T/big.raw"
same big-disk0.vhd "$T/big.raw" "$(rp_of "$T/r5.out")"

# The fleet seen from anywhere: the state container, each job with its
# own journal (status --all showed the first job's under every name).
expect_exit 0 "$AZPREP" status --all --state-container state \
  --credentials "$T/creds"
[ "$(grep -c '^  worker ' "$T/out")" = 5 ] || fail "status --all: not 5 jobs"
expect_exit 0 "$AZPREP" status --all --json --state-container state \
  --credentials "$T/creds"
node -e '
  const jobs = JSON.parse(require("fs").readFileSync(process.argv[1]));
  const names = jobs.map((j) => j.name).sort().join(" ");
  if (names !== "big vm0 vm1 vm2 vm3") throw new Error("jobs: " + names);
  for (const j of jobs)
    if (!j.disks[0].source.endsWith("/" + j.name + ".raw"))
      throw new Error(j.name + " shows " + j.disks[0].source);
' "$T/out" || fail "status --all --json: a job shows another job's journal"
for vm in vm0 vm1 vm2 vm3 big; do
  expect_exit 0 "$AZPREP" status --state-container state \
    --credentials "$T/creds" "$vm"
  assert_contains "$T/out" "^$vm\$"
  assert_contains "$T/out" "state idle, "
done
echo "requeue: ${SECONDS}s"
# --- a fleet check sharded over an array, merged ---------------------
shard_fleet
rc=0
"$AZPREP" check --vms "$T/shards.json" --json --junit "$T/one.xml" \
  --html "$T/one.html" > "$T/one.json" 2>/dev/null || rc=$?
[ $rc = 1 ] || fail "one machine's check: exit $rc"
j6=$(sb --array=0-2 -o "$T/c-%a.out" "$R/check.sbatch" "$T/shards.json" \
       "$T/reports")
slurm_wait "$j6"
jm=$(squeue -h -n azprep-check-merge -o %i)
[ -n "$jm" ] || [ -f "$T/reports/report.json" ] || fail "no merge job"
[ -z "$jm" ] || slurm_wait "$jm"
cat "$T/reports/merge.out"
ls "$T/reports"
cmp "$T/one.json" "$T/reports/report.json" || fail "merged JSON differs"
cmp "$T/one.xml" "$T/reports/report.xml" || fail "merged JUnit differs"
cmp "$T/one.html" "$T/reports/report.html" || fail "merged HTML differs"
echo "Slurm fleet: replicated, requeued, checked in shards"
