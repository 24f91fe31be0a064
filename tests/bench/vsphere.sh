#!/usr/bin/env bash
# Benchmark:
#  1. check (or inspect, before check exists) of a simulated VM's disk
#     read in place over vCenter's datastore endpoint (a running VM: from
#     a temporary snapshot), against the same command on the same image
#     as a local file, alternating (tests/bench/functions.sh); and the
#     bytes fetched over HTTP
#     against the disk's size.  Targets: at most 1.5x the local time,
#     well under 20% of the disk fetched.
#  2. Replication delta cycles of a 4 GiB disk (sparse) with 1% changed
#     between cycles, to Azurite: a CBT cycle (QueryChangedDiskAreas)
#     against the digest cycle (CBT off: the whole disk read and
#     compared), alternating, median of BENCH_RUNS (3) of each, with the
#     spread and the load.  Targets: bytes read from the datastore
#     <= 1.05x the changed bytes, time <= 0.1x the digest cycle.  Each
#     run also prints where a cycle's time goes: its stages (from
#     azprep -v, timestamped) and the CPU seconds of azprep, Azurite and
#     the simulator.  BENCH_CBT_ONLY=1 runs only this part.
#     Where a CBT delta's time goes (main bfd3bdc, quiet machine, load
#     about 2): of 1.85 s, the copy took 1.70 s and Azurite 1.67 s of
#     CPU: Azurite, one node thread spending about 2.5 ms of CPU on each
#     64 KiB Put Page (one per changed area: 1% of the blocks, scattered,
#     cannot be merged without reading unchanged data), is saturated, and
#     alone is 0.27x the digest cycle (6.08 s); every other stage (start,
#     login, inventory, snapshot, bridge, QueryChangedDiskAreas, recovery
#     point, removal, exit) took about 0.15 s together.  So the 0.1x time
#     target is out of reach against Azurite; the summary prints Azurite's
#     share of each run to show it.
cd "$(dirname "$0")/../.."
export AZPREP="$PWD/azprep" BUILD="$PWD/build"
export LIBGUESTFS_CACHEDIR="${LIBGUESTFS_CACHEDIR:-$PWD/build/appliance-cache}"
source tests/bench/functions.sh
source tests/lib/functions.sh
on_exit 'rm -rf "$B"'    # tests/lib/functions.sh replaced the bench's trap
source tests/lib/vcsim.sh
requires nbdkit curl mkfs.ext4

if [ "${BENCH_CBT_ONLY:-0}" != 1 ]; then
cmd=inspect
if "$AZPREP" check --help >/dev/null 2>&1; then cmd=check; fi
vcsim_start
vcsim_test_disk "$T/disk.img"
vcsim_put "$T/disk.img" DC0_H0_VM0
size=$(stat -c %s "$T/disk.img")
uri="vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0?http=1"

# Alternating (tests/bench/functions.sh); the bytes fetched are the
# last remote run's.
local_file () { checked "$AZPREP" $cmd "$T/disk.img"; }
endpoint () {
  AZPREP_NBDKIT_STATS="$T/stats" checked "$AZPREP" $cmd \
    --vsphere-allow-http "$uri"
}
echo "vsphere: $cmd of a $((size / 1048576)) MiB disk"
bench_pair "$cmd over the datastore endpoint / local file" "<=" 1.5 \
  local_file endpoint
grep -q '^read:' "$T/stats" || fail "the remote $cmd read nothing"

bytes=$(awk '/^read:/ { for (i = 2; i < NF; i++) if ($(i+1) ~ /^(B|KiB|MiB|GiB),?$/) {
  u = $(i+1); m = u ~ /^GiB/ ? 1073741824 : u ~ /^MiB/ ? 1048576 : u ~ /^KiB/ ? 1024 : 1;
  printf "%d", $i * m; exit } }' "$T/stats")
reqs=$(awk '/^read:/ { print $2; exit }' "$T/stats")
awk -v b="$bytes" -v s="$size" -v q="$reqs" 'BEGIN {
  printf "  fetched over HTTP:   %.1f MiB in %d requests = %.1f%% of the disk (target < 20%%)\n",
         b / 1048576, q, 100 * b / s;
}'
fi

# ---- 2. CBT delta cycle vs digest cycle ----
source tests/lib/azurite.sh
[ -n "${VCSIM_BASE:-}" ] || vcsim_start
azurite_start
RUNS=${BENCH_RUNS:-3}
GiB=1073741824
size=$((4 * GiB))
nblocks=$((size / 65536))
change=$((nblocks / 100))            # 1% of the 64 KiB blocks
now () { date +%s.%N; }
flat () { ls "$VCSIM_TMP"/govcsim-DC0-LocalDS_0-*/"$1"/disk1-flat.vmdk; }
# A 4 GiB disk with 64 MiB of data spread over it, as each VM's disk
# (the PUT sets the disk's capacity; the file is then made sparse again).
rm -f "$T/big.img"
truncate -s "$size" "$T/big.img"
for i in $(seq 0 63); do
  dd if=/dev/urandom of="$T/big.img" bs=$((1024 * 1024)) count=1 \
    seek=$((i * 64)) conv=notrunc status=none
done
for vm in DC0_H0_VM1 DC0_C0_RP0_VM1; do
  vcsim_put "$T/big.img" "$vm"
  fallocate --dig-holes "$(flat "$vm")" 2>/dev/null || true
done
rm -f "$T/big.img"
rep () {   # rep JOB VM [OPTIONS]
  local job=$1 vm=$2
  shift 2
  /usr/bin/time -f "cpu %U %S" -o "$T/cpu" \
    "$AZPREP" replicate -v --vsphere-allow-http --container bench \
    --name "$job" --state "$T/state" \
    "$@" "vsphere://$VCSIM_HOST/DC0/$vm/0?http=1"
}
# The guest writes 1% of the disk (random 64 KiB blocks) on both VMs.
churn () {
  shuf -i 0-$((nblocks - 1)) -n "$change" > "$T/blocks"
  for vm in DC0_H0_VM1 DC0_C0_RP0_VM1; do
    python3 - "$(flat "$vm")" "$T/blocks" <<'PY'
import os, sys
with open(sys.argv[1], "r+b") as f, open(sys.argv[2]) as b:
    for n in b:
        f.seek(int(n) * 65536)
        f.write(os.urandom(65536))
PY
  done
}
# CPU seconds (user + system) used so far by process PID.
cpu_of () { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }
azurite_pid=$AZURITE_PID
vcsim_pid=$(pgrep -f "^$BUILD/vcsim" | head -1)
# cycle VAR_TIME VAR_BYTES JOB VM [OPTIONS]; also sets copy (the
# engine's own figure: reading, comparing and sending, and recording
# the recovery point), puts (its Put Page requests), azcpu (Azurite's
# CPU seconds in the cycle) and stages: the seconds of each stage from
# azprep's -v lines, timestamped as they come: start (the process,
# RetrieveServiceContent and Login), inventory, snapshot (stale
# snapshots, CreateSnapshot_Task and its wait; the bridge's nbdkit
# starts meanwhile), bridge (changeIds of the snapshot, the size probe,
# waiting for nbdkit to serve), QCDA (QueryChangedDiskAreas; 0 for the
# digest cycle), copy, recovery point (footer, Snapshot Blob, metadata;
# then manifest, journal), removal (bridge stop, RemoveSnapshot_Task and
# its wait), exit (logout, process exit); and the CPU seconds of azprep
# (with its nbdkit), Azurite and the simulator.
cycle () {
  local __t=$1 __b=$2 t0 t1 rc=0 a0 v0
  shift 2
  vcsim_ctl stats-reset
  a0=$(cpu_of "$azurite_pid") v0=$(cpu_of "$vcsim_pid")
  t0=$(now)
  rep "$@" >"$T/cycle.out" 2> >(perl -MTime::HiRes=time -ne \
      'BEGIN { $| = 1 } printf "%.3f %s", time, $_' > "$T/cycle.err") || rc=$?
  t1=$(now)
  sleep 0.2     # the timestamping reader drains
  [ $rc = 0 ] || { tail -5 "$T/cycle.err"; fail "cycle $*"; }
  printf -v "$__t" '%.2f' "$(echo "$t1 - $t0" | bc -l)"
  printf -v "$__b" '%s' "$(vcsim_stats folder_bytes)"
  copy=$(sed -nE 's/.* done: .* sent in ([0-9.]+) s.*/\1/p' "$T/cycle.err")
  puts=$(sed -nE 's/.* ([0-9]+) Put Page: .*/\1/p' "$T/cycle.err" | tail -1)
  azcpu=$(echo "$(cpu_of "$azurite_pid") - $a0" | bc -l)
  stages=$(awk -v t0="$t0" -v t1="$t1" -v az="$azcpu" \
    -v vc="$(echo "$(cpu_of "$vcsim_pid") - $v0" | bc -l)" \
    -v me="$(awk '{ print $2 + $3 }' "$T/cpu")" '
    / logged in as / && !l { l = $1 }
    / found in the inventory / { iv = $1 }
    / snapshot azprep-cycle-[0-9]+ created/ { s = $1 }
    / nbdkit bridge for .* serving/ { b = $1 }
    / CBT reports / { q = $1 }
    / recovery point: / { rp = $1
      sub(/.*metadata /, ""); m1 = $0 + 0; sub(/.*pruning /, ""); m2 = $0 + 0 }
    / done: / { d = $1 }
    / snapshot azprep-cycle-[0-9]+ removed/ { r = $1 }
    END { # A line an older azprep does not print: its stage is 0, its
      # time counted in the next stage.
      if (!iv) iv = l; if (!b) b = s; if (!q) q = b; if (!rp) rp = d
      printf "start %.2f, inventory %.2f, snapshot %.2f, bridge %.2f, " \
        "QCDA %.2f, copy %.2f, recovery point %.2f+%.2f, removal %.2f, " \
        "exit %.2f; CPU azprep %.2f, Azurite %.2f, vcsim %.2f", l - t0, \
        iv - l, s - iv, b - s, q - b, rp - q - m1 - m2, m1, m2, r - d, \
        t1 - r, me, az, vc }' "$T/cycle.err")
}
l0=$(load)
echo "  load average before: $l0"
cycle t b digest DC0_H0_VM1
echo "  initial, digest (CBT off): $t s ($copy s copying), $((b / 1048576)) MiB read"
cycle t b cbt DC0_C0_RP0_VM1 --enable-cbt
echo "  initial, CBT (allocated areas): $t s ($copy s copying), $((b / 1048576)) MiB read"
dt=() db=() ct=() cb=() dc=() cc=() ca=() cp=()
for r in $(seq "$RUNS"); do
  churn
  cycle t b digest DC0_H0_VM1
  dt+=("$t"); db+=("$b"); dc+=("$copy"); dstages=$stages
  cycle t b cbt DC0_C0_RP0_VM1
  grep -q 'CBT reports' "$T/cycle.err" ||
    { cat "$T/cycle.err"; fail "the CBT cycle did not use CBT"; }
  ct+=("$t"); cb+=("$b"); cc+=("$copy"); ca+=("$azcpu"); cp+=("$puts")
  echo "  run $r: digest ${dt[-1]} s (copy ${dc[-1]} s) / $((db[-1] / 1048576)) MiB;" \
    "CBT ${ct[-1]} s (copy ${cc[-1]} s) / $((cb[-1] / 1024)) KiB;" \
    "load $(cut -d' ' -f1 /proc/loadavg)"
  echo "    digest: $dstages"
  echo "    CBT:    $stages"
done
med () { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
spread () { printf '%s\n' "$@" | sort -n | sed -n '1p;$p' | paste -sd-; }
changed=$((change * 65536))
awk -v dt="$(med "${dt[@]}")" -v ct="$(med "${ct[@]}")" \
    -v db="$(med "${db[@]}")" -v cb="$(med "${cb[@]}")" -v ch="$changed" \
    -v ds="$(spread "${dt[@]}")" -v cs="$(spread "${ct[@]}")" -v n="$RUNS" \
    -v dc="$(med "${dc[@]}")" -v cc="$(med "${cc[@]}")" \
    -v la="$(cut -d" " -f1-3 /proc/loadavg)" 'BEGIN {
  printf "vsphere: delta cycle of a 4 GiB disk, 1%% (%.1f MiB) changed, median of %d\n", ch / 1048576, n;
  printf "  digest cycle (CBT off): %7.2f s (spread %s), %8.1f MiB read\n", dt, ds, db / 1048576;
  printf "  CBT cycle:              %7.2f s (spread %s), %8.1f MiB read\n", ct, cs, cb / 1048576;
  printf "  CBT bytes read / changed: %.3fx (target <= 1.05x)\n", cb / ch;
  printf "  CBT time / digest time:   %.3fx (target <= 0.1x)\n", ct / dt;
  printf "  copy (read, compare, send): digest %.2f s, CBT %.2f s: %.3fx\n", dc, cc, cc / dc;
  printf "  load average after: %s\n", la;
}'
# Azurite is one node thread: its CPU time for the delta's Put Pages is
# a floor under the CBT cycle's time that no client change moves (each
# 64 KiB area CBT names is one Put Page; scattered areas cannot be
# merged without reading unchanged data).
awk -v a="$(med "${ca[@]}")" -v p="$(med "${cp[@]}")" -v dt="$(med "${dt[@]}")" \
    -v ct="$(med "${ct[@]}")" 'BEGIN {
  printf "  Azurite CPU in a CBT cycle: %.2f s for %d Put Page (%.1f ms each) = %.3fx the digest cycle;\n",
         a, p, p ? 1000 * a / p : 0, a / dt;
  printf "  the rest of the CBT cycle: %.2f s = %.3fx\n", ct - a, (ct - a) / dt;
  if (a / dt > 0.1)
    printf "  Azurite alone is over 0.1x the digest cycle: the time target is out of reach against Azurite\n";
}'
# The verdict on the time ratio of each pair (tests/bench/functions.sh).
tr=()
for i in "${!dt[@]}"; do tr+=("$(awk -v c="${ct[$i]}" -v d="${dt[$i]}" \
  'BEGIN { printf "%.3f", c / d }')"); done
read -r tm tlo thi <<<"$(printf '%s\n' "${tr[@]}" | sort -g |
  awk '{ v[NR] = $1 } END { printf "%s %s %s", v[int((NR + 1) / 2)], v[1], v[NR] }')"
tv=$(verdict "<=" 0.1 "$tm" "$tlo" "$thi")
echo "  CBT / digest time by pair: median ${tm}x ($tlo-$thi), target <= 0.1x: $tv"
bench_summary "vsphere CBT delta cycle / digest cycle" "<=" 0.1 "$tm" "$tlo" \
  "$thi" "$(med "${ct[@]}") s / $(med "${dt[@]}") s" "$l0" "$(load)" "$tv"
