#!/usr/bin/env bash
# Benchmark: azprep replicate against a local Azurite (in memory).
#  1. Initial copy of the same image, same parallelism: azprep vs a node
#     script on the official SDK (@azure/storage-blob uploadPages of the
#     non-zero 4 MiB chunks, Content-MD5), alternating on a fresh
#     Azurite each run (tests/bench/functions.sh).  Target: azprep
#     >= 1.5x the SDK's throughput.  Both against `cat image > /dev/null`,
#     the source side's physical limit.  Azurite's CPU per run is shown:
#     both clients share its one node thread and the machine's cores.
#  2. Bytes sent: initial <= 1.01x the allocated non-zero data; a delta
#     <= 1.05x the changed data (64 KiB granularity).
#  3. Peak memory (/usr/bin/time -v) of an initial copy of a 64 GiB
#     sparse disk: target <= 64 MiB + the in-flight buffers.
#  4. The curve by --parallel (1 2 4 8 16 32), azprep beside the SDK, on
#     a 1 GiB disk with 128 MiB of data, each point a pair as in 1
#     (BENCH_CURVE=0 leaves it out).
#  BENCH_SWEEP=1 adds azprep's throughput by --parallel, straight to
#  Azurite and through a proxy that delays every response by 200 ms (a
#  stand-in for a WAN round trip plus the service time of a 4 MiB Put
#  Page): the measurement behind the --parallel default
#  (replicate/cmd/replicate.c).
# Figures and ratios only: nothing passes or fails on time.
source tests/bench/functions.sh
source tests/lib/functions.sh
on_exit 'rm -rf "$B"'    # tests/lib/functions.sh replaced the bench's trap
source tests/lib/azurite.sh
requires qemu-img qemu-io bc
P=${BENCH_PARALLEL:-8}
DATA_MIB=${BENCH_DATA_MIB:-512}

loadavg () { cut -d' ' -f1-3 /proc/loadavg; }
echo "  machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GiB; load average $(loadavg)"

azurite_start
now () { date +%s.%N; }
json_sent () { grep '"event":"cycle"' "$1" | tail -1 | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
    console.log(JSON.parse(s).bytes_sent));'; }
mibs () { echo "scale=1; $1 / 1048576 / $2" | bc -l; }
lt () { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }

# An 8 GiB raw disk with DATA_MIB of incompressible data in 8 MiB runs
# spread over the disk.
img=$T/bench.raw
truncate -s 8G "$img"
runs=$((DATA_MIB / 8))
for i in $(seq 0 $((runs - 1))); do
  off=$(( (i * 8192 / runs) ))
  head -c $((8 * 1024 * 1024)) /dev/urandom |
    dd of="$img" bs=1M seek="$off" conv=notrunc status=none
done
data=$((runs * 8 * 1024 * 1024))
sync

echo "  image: 8 GiB raw, $((data / 1048576)) MiB of data in $runs runs; parallelism $P"
t0=$(now); cat "$img" >/dev/null; t1=$(now)
cat_s=$(echo "$t1 - $t0" | bc -l)

# The pair, alternating on a fresh Azurite each run (method:
# tests/bench/functions.sh); the last azprep run's blob stays for the
# delta.  Besides the wall time: the client's CPU (cpu, in the pair's
# lines) and Azurite's, the server both share (its CPU per run below).
azurite_cpu () { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$AZURITE_PID/stat"; }
az_round=0 az_srv=() sdk_srv=()
sdk_prep () { azurite_restart; }
sdk () {
  local c0
  c0=$(azurite_cpu)
  blobtool upload-pages "$img" sdk sdk.vhd "$P" >"$T/sdk.json" || return 1
  sdk_srv+=("$(awk -v a="$c0" -v b="$(azurite_cpu)" 'BEGIN { print b - a }')")
  sdk_sent=$(json_get "$T/sdk.json" 'd.bytes_sent')
}
az_prep () { azurite_restart; az_round=$((az_round + 1)); }
az () {
  local c0
  c0=$(azurite_cpu)
  "$AZPREP" replicate --container bench --name az --state "$T/state$az_round" \
    --parallel "$P" --json -v "$img" >"$T/az.json" 2>"$T/az.err" ||
    { cat "$T/az.err"; return 1; }
  az_srv+=("$(awk -v a="$c0" -v b="$(azurite_cpu)" 'BEGIN { print b - a }')")
  az_sent=$(json_sent "$T/az.json")
}
printf '  %-34s %7.2fs  %7s MiB/s of the file (8 GiB, holes too)\n' \
  "cat image > /dev/null" "$cat_s" "$(mibs 8589934592 "$cat_s")"
bench_pair "(a) upload $((data / 1048576)) MiB, --parallel $P, azprep / SDK (speed)" \
  ">=" 1.5 sdk az
echo "    Azurite CPU (s) per run: azprep ${az_srv[*]}; SDK ${sdk_srv[*]}"
sed -n 's/^azprep: debug: .*: scan thread: /    azprep stages (last run): /p' "$T/az.err"
echo "  (b) bytes sent initial / data: $(echo "scale=4; $az_sent / $data" | bc -l)x  (target <= 1.01x; the SDK sent $sdk_sent)"

# A delta: change 5 MiB in 64 KiB pieces scattered over the data.
changed=0
for i in $(seq 0 79); do
  off=$(( (i * 8192 / 80) * 1024 * 1024 / 65536 + 1 ))
  head -c 65536 /dev/urandom | dd of="$img" bs=65536 seek="$off" conv=notrunc status=none
  changed=$((changed + 65536))
done
"$AZPREP" replicate --container bench --name az --state "$T/state$az_round" \
  --parallel "$P" --json "$img" >"$T/az2.json" 2>"$T/az2.err" ||
  { cat "$T/az2.err"; echo "  azprep delta failed"; exit 1; }
d_sent=$(json_sent "$T/az2.json")
echo "  (b) bytes sent delta / changed: $(echo "scale=4; $d_sent / $changed" | bc -l)x  ($d_sent for $changed; target <= 1.05x)"
rm -f "$img"
azurite_restart

# Peak memory on a 64 GiB sparse qcow2 with data spread over it.
big=$T/big.qcow2
qemu-img create -q -f qcow2 "$big" 64G
cmds=()
for i in $(seq 0 63); do cmds+=(-c "write -P $((i % 250 + 1)) $((i * 1024 + 7))M 4M"); done
qemu-io -f qcow2 "${cmds[@]}" "$big" >/dev/null
/usr/bin/time -v "$AZPREP" replicate --container bench --name big \
  --state "$T/state" --parallel "$P" --json "$big" >"$T/big.json" 2>"$T/big.err" ||
  { tail -5 "$T/big.err"; echo "  azprep (64 GiB) failed"; exit 1; }
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T/big.err")
# In flight: the writer's queue holds up to P+2 copies of at most 4 MiB,
# plus the 4 MiB chunk being scanned.
inflight=$(( (P + 3) * 4 * 1024 ))
echo "  (c) peak RSS, 64 GiB sparse disk: $((rss / 1024)) MiB = $(( (rss - inflight) / 1024 )) MiB + in-flight buffers $((inflight / 1024)) MiB  (target <= 64 MiB + in-flight)"
echo "  load average: $(loadavg)"

# small_disk FILE: 1 GiB raw with 128 MiB of data in 16 runs of 8 MiB.
small_disk () {
  local i
  truncate -s 1G "$1"
  for i in $(seq 0 15); do
    head -c $((8 * 1024 * 1024)) /dev/urandom |
      dd of="$1" bs=1M seek=$((i * 64)) conv=notrunc status=none
  done
}

# The curve by --parallel, azprep beside the SDK (each point a pair).
if [ "${BENCH_CURVE:-1}" = 1 ]; then
  img=$T/curve.raw
  small_disk "$img"
  cdata=$((128 * 1024 * 1024))
  echo "  (d) curve by --parallel, 128 MiB of data, median of $BENCH_RUNS pairs:"
  for P in 1 2 4 8 16 32; do
    BENCH_SUMMARY= bench_pair "p$P" ">=" 1.5 sdk az >"$B/curve.log"
    grep -q 'failed' "$B/curve.log" && sed 's/^/    /' "$B/curve.log"
    printf '    --parallel %-3s azprep %7s MiB/s  SDK %7s MiB/s  ratio %sx (%s)  load %s\n' \
      "$P" "$(mibs "$cdata" "$BENCH_OURS")" "$(mibs "$cdata" "$BENCH_PEER")" \
      "$BENCH_RATIO" "$BENCH_RSPREAD" "$(cut -d' ' -f1 /proc/loadavg)"
  done
  rm -f "$img"
fi

# BENCH_SWEEP=1: azprep's throughput by --parallel, without and with
# 200 ms of added latency per request (the best of two runs each), on a
# 1 GiB disk with 128 MiB of data; a fresh Azurite for every run (an
# in-memory Azurite does not free deleted blobs' memory at once).
if [ "${BENCH_SWEEP:-0}" = 1 ]; then
  small=$T/sweep.raw
  small_disk "$small"
  sdata=$((128 * 1024 * 1024))
  for lat in 0 200; do
    for p in 1 2 4 8 16 32; do
      best=999999
      for k in 1 2; do
        azurite_restart
        cs=$AZURE_STORAGE_CONNECTION_STRING
        if [ $lat != 0 ]; then
          faultproxy_start --slow $lat
          cs=$(connection_string "$PROXY_ENDPOINT")
        fi
        rm -rf "$T/state-sweep"
        t0=$(now)
        AZURE_STORAGE_CONNECTION_STRING=$cs "$AZPREP" replicate \
          --container sweep --name s --state "$T/state-sweep" \
          --parallel $p --json "$small" >/dev/null 2>"$T/sweep.err" ||
          { tail -3 "$T/sweep.err"; echo "  (p=$p failed)"; }
        t1=$(now)
        [ $lat = 0 ] || faultproxy_stop
        s=$(echo "$t1 - $t0" | bc -l)
        lt "$s" "$best" && best=$s
      done
      printf '  sweep: +%3s ms latency  --parallel %-3s %6.2fs  %7s MiB/s\n' \
        $lat $p "$best" "$(mibs "$sdata" "$best")"
    done
  done
  echo "  load average after the sweep: $(loadavg)"
fi
