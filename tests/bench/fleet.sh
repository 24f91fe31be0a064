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
# state container per cycle, from Azurite's request log, and any figures
# azprep prints about it.  Rounds alternate the two ways; medians, the
# spread (min-max) and the load.  Figures only: nothing fails on time.
# Measured 2026-12-06 (2 CPUs, load 3 to 5, 32 MiB VMs, 3 rounds): the
# array took 9.9 s vs 7.2 s for the initial copy (1.37x) and 5.9 s vs
# 3.4 s for a delta (1.72x): about 0.65 s per wave of 2 tasks, Slurm's
# scheduling and task launch, constant per task, so under 1.1x once a
# VM's cycle takes over ~6 s; the state container: 17 requests and
# 4.8 KB per VM per delta cycle (azprep's "state" event).
source tests/bench/functions.sh
source tests/lib/functions.sh
on_exit 'rm -rf "$B"'    # tests/lib/functions.sh replaced the bench's trap
source tests/lib/slurm.sh
source tests/lib/check-desc.sh
source tests/lib/check-fleet.sh
source tests/lib/azurite.sh
requires bc python3 qemu-img
ROUNDS=${BENCH_ROUNDS:-3}
VMS=8
MIB=${BENCH_VM_MIB:-32}
MiB=$((1024 * 1024))
state_container=
# (grep -q would end the pipe early: pipefail)
case $("$AZPREP" replicate --help) in
  *--state-container*) state_container=1 ;;
esac

echo "  machine: $(nproc) CPUs, load average $(load)"
azurite_start ${state_container:+--log "$T/requests.log"}
slurm_start --cpus 2
connection_string "$AZURITE_ENDPOINT" > "$T/creds"
chmod 600 "$T/creds"
python3 -c '
import json
print(json.dumps([{"name": "vm%d" % i, "disks": ["vm%d.raw" % i],
                   "format": "raw"} for i in range(8)]))' > "$T/fleet.json"
echo "  fleet: $VMS VMs of $MIB MiB of random data; $ROUNDS rounds"

# fresh: new disks for round $1.
fresh () {
  for i in $(seq 0 $((VMS - 1))); do
    head -c $((MIB * MiB)) /dev/urandom > "$T/vm$i.raw"
  done
}
change () {
  for i in $(seq 0 $((VMS - 1))); do
    head -c $MiB /dev/urandom |
      dd of="$T/vm$i.raw" bs=1M seek=$((i % MIB)) conv=notrunc status=none
  done
}
# opts ROUND MODE: the azprep options of a round's container and state.
opts () {
  echo --container "b$1$2" --credentials "$T/creds" --state "$T/state-$1$2"
  [ -z "$state_container" ] || echo --state-container "s$1$2"
}
array () {  # ROUND: one cycle of the fleet by the array, until done
  local j
  # shellcheck disable=SC2046
  j=$(env -u AZURE_STORAGE_CONNECTION_STRING AZPREP="$AZPREP" \
        sbatch --parsable --array=0-$((VMS - 1))%2 -o "$T/a-%A-%a.out" \
        replicate/fleet/replicate.sbatch "$T/fleet.json" --json \
        $(opts "$1" a))
  slurm_wait "$j" 1200
  ! grep -l '"event":"cycle"' "$T"/a-"$j"-*.out >/dev/null ||
    [ "$(grep -l '"event":"cycle"' "$T"/a-"$j"-*.out | wc -l)" = $VMS ] ||
    echo "  (array $j: not every VM completed)"
}
single () {  # ROUND
  # shellcheck disable=SC2046
  "$AZPREP" replicate --vms "$T/fleet.json" --jobs 2 --json \
    $(opts "$1" s) > "$T/s-$1.out"
}
reqs () {  # the state container's requests so far (Azurite's log)
  [ -n "$state_container" ] || { echo 0; return; }
  grep -c "RequestURL=.*/s[0-9]*[as][/?]" "$T/requests.log" || true
}

ai=() si=() ad=() sd=() loads=() sreq=()
for r in $(seq 1 "$ROUNDS"); do
  fresh
  loads+=("$(load)")
  # Alternate which goes first.
  if [ $((r % 2)) = 1 ]; then
    wall t1 array "$r"; wall t2 single "$r"
  else
    wall t2 single "$r"; wall t1 array "$r"
  fi
  ai+=("$t1") si+=("$t2")
  change
  q0=$(reqs)
  if [ $((r % 2)) = 1 ]; then
    wall t1 array "$r"; q1=$(reqs); wall t2 single "$r"
  else
    wall t2 single "$r"; q0=$(reqs); wall t1 array "$r"; q1=$(reqs)
  fi
  ad+=("$t1") sd+=("$t2") sreq+=($((q1 - q0)))
  echo "  round $r: initial array ${ai[-1]}s single ${si[-1]}s;" \
       "delta array ${ad[-1]}s single ${sd[-1]}s; load ${loads[-1]}"
done
med () { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
spread () { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd- ; }
report "initial copy, 8 VMs (spread a $(spread "${ai[@]}"), s $(spread "${si[@]}"))" \
  "$(med "${ai[@]}")" "$(med "${si[@]}")" 1.1
report "delta cycle, 8 VMs (spread a $(spread "${ad[@]}"), s $(spread "${sd[@]}"))" \
  "$(med "${ad[@]}")" "$(med "${sd[@]}")" 1.1
echo "  (azprep = the Slurm array, peer = one process --jobs 2)"
if [ -n "$state_container" ]; then
  echo "  state container: $(med "${sreq[@]}") requests per delta cycle of" \
       "$VMS VMs (median; Azurite's log)"
  grep -h '"event":"state' "$T"/a-*.out "$T"/s-*.out 2>/dev/null | tail -3 |
    sed 's/^/  /' || true
else
  echo "  state container: not in this azprep (--state-container): not measured"
fi

# A fleet check in 2 shards, merged, vs one process: no appliance.
shard_fleet
ca=() cs=()
check_array () {
  local j
  rm -rf "$T/reports"
  j=$(AZPREP="$AZPREP" sbatch --parsable --array=0-1 -o "$T/c-%a.out" \
        replicate/fleet/check.sbatch "$T/shards.json" "$T/reports")
  slurm_wait "$j"
  for _ in $(seq 1 600); do
    [ -s "$T/reports/report.json" ] && [ -z "$(squeue -h)" ] && break
    sleep 0.1
  done
}
check_single () {
  "$AZPREP" check --vms "$T/shards.json" --jobs 2 --json > "$T/one.json" ||
    true
}
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    wall t1 check_array; wall t2 check_single
  else
    wall t2 check_single; wall t1 check_array
  fi
  ca+=("$t1") cs+=("$t2")
done
cmp -s "$T/one.json" "$T/reports/report.json" ||
  echo "  (the merged report differs from one machine's)"
report "check, 6 VMs no appliance, 2 shards (spread a $(spread "${ca[@]}"), s $(spread "${cs[@]}"))" \
  "$(med "${ca[@]}")" "$(med "${cs[@]}")" 1.1
echo "  load average at the end $(load)"
