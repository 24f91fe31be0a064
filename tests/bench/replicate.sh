#!/usr/bin/env bash
# Benchmark: azprep replicate against a local Azurite (in memory).
#  1. Initial copy of the same image, same parallelism: azprep vs a node
#     script on the official SDK (@azure/storage-blob uploadPages of the
#     non-zero 4 MiB chunks, Content-MD5).  Target: azprep >= 1.0x the
#     SDK's throughput.  Both against `cat image > /dev/null`, the
#     source side's physical limit.
#  2. Bytes sent: initial <= 1.01x the allocated non-zero data; a delta
#     <= 1.05x the changed data (64 KiB granularity).
#     BENCH_SWEEP=1 adds azprep's throughput for --parallel 1..16.
#  3. Peak memory (/usr/bin/time -v) of an initial copy of a 64 GiB
#     sparse disk: target <= 64 MiB + the in-flight buffers.
# Figures and ratios only: nothing passes or fails on time.
source tests/bench/functions.sh
source tests/functions.sh
source tests/azurite.sh
requires qemu-img qemu-io bc
P=${BENCH_PARALLEL:-8}
DATA_MIB=${BENCH_DATA_MIB:-512}

azurite_start
now () { date +%s.%N; }
json_sent () { grep '"event":"cycle"' "$1" | tail -1 | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
    console.log(JSON.parse(s).bytes_sent));'; }

# An 8 GiB raw disk with DATA_MIB of incompressible data in 8 MiB runs
# spread over the disk (and a 64 KiB-granular sprinkle).
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

# Interleaved, twice each, the faster run of each counts (a shared,
# noisy machine; the first requests also warm Azurite up).
az_s=999999 sdk_s=999999
for round in 1 2; do
  t0=$(now)
  "$AZPREP" replicate --container bench$round --name az --state "$T/state$round" \
    --parallel "$P" --json "$img" >"$T/az.json" 2>"$T/az.err" ||
    { cat "$T/az.err"; echo "  azprep failed"; exit 1; }
  t1=$(now)
  s=$(echo "$t1 - $t0" | bc -l)
  [ "$(echo "$s < $az_s" | bc -l)" = 1 ] && az_s=$s
  az_sent=$(json_sent "$T/az.json")
  t0=$(now)
  blobtool upload-pages "$img" bench$round sdk.vhd "$P" >"$T/sdk.json"
  t1=$(now)
  s=$(echo "$t1 - $t0" | bc -l)
  [ "$(echo "$s < $sdk_s" | bc -l)" = 1 ] && sdk_s=$s
  sdk_sent=$(json_get "$T/sdk.json" 'd.bytes_sent')
done

mibs () { echo "scale=1; $1 / 1048576 / $2" | bc -l; }
printf '  %-34s %7.2fs  (reads all 8 GiB, holes too)\n' "cat image > /dev/null" "$cat_s"
printf '  %-34s %7.2fs  %7s MiB/s  (sent %s bytes)\n' "azprep replicate --parallel $P" "$az_s" "$(mibs "$data" "$az_s")" "$az_sent"
printf '  %-34s %7.2fs  %7s MiB/s  (sent %s bytes)\n' "SDK uploadPages x$P (node)" "$sdk_s" "$(mibs "$data" "$sdk_s")" "$sdk_sent"
echo "  throughput azprep/SDK: $(ratio "$sdk_s" "$az_s")x  (target >= 1.0x)"
echo "  time cat/azprep: $(ratio "$cat_s" "$az_s")x  (cat reads every byte; azprep skips holes)"
echo "  bytes sent initial / data: $(echo "scale=4; $az_sent / $data" | bc -l)x  (target <= 1.01x)"

# BENCH_SWEEP=1: azprep's throughput by --parallel (to choose the default).
if [ "${BENCH_SWEEP:-0}" = 1 ]; then
  for p in 1 2 4 8 16; do
    t0=$(now)
    "$AZPREP" replicate --container sweep --name p$p --state "$T/state" \
      --parallel $p --json "$img" >/dev/null 2>&1 || echo "  (p=$p failed)"
    t1=$(now)
    printf '  --parallel %-3s %7.2fs  %7s MiB/s\n' $p "$(echo "$t1 - $t0" | bc -l)" \
      "$(mibs "$data" "$(echo "$t1 - $t0" | bc -l)")"
  done
fi

# A delta: change 5 MiB in 64 KiB pieces scattered over the data.
changed=0
for i in $(seq 0 79); do
  off=$(( (i * 8192 / 80) * 1024 * 1024 / 65536 + 1 ))
  head -c 65536 /dev/urandom | dd of="$img" bs=65536 seek="$off" conv=notrunc status=none
  changed=$((changed + 65536))
done
"$AZPREP" replicate --container bench2 --name az --state "$T/state2" \
  --parallel "$P" --json "$img" >"$T/az2.json" 2>"$T/az2.err" ||
  { cat "$T/az2.err"; echo "  azprep delta failed"; exit 1; }
d_sent=$(json_sent "$T/az2.json")
echo "  bytes sent delta / changed: $(echo "scale=4; $d_sent / $changed" | bc -l)x  ($d_sent for $changed; target <= 1.05x)"
rm -f "$img"

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
inflight=$(( (P + 2) * 4 * 1024 ))
echo "  peak RSS, 64 GiB sparse disk: $((rss / 1024)) MiB  (target <= 64 MiB + in-flight $((inflight / 1024)) MiB = $(( (65536 + inflight) / 1024 )) MiB)"
