#!/usr/bin/env bash
# Benchmark: test-migrate of the Debian guest through the bridge (the
# recovery point's copy hydrated where it lies, in Azurite) against
# `azprep fix` of a local copy of the same guest, alternating
# (tests/bench/functions.sh).  Target: at most 1.0x.  Also prints the
# bytes the bridge read and wrote (the last run) beside the disk's
# allocated size.  Not a test: nothing fails on time.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${AZPREP:=$PWD/azprep}" "${IMAGES:=$PWD/build/images}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}"
img=$IMAGES/debian-bios.img
[ -e "$img" ] || { echo "  (no $img: make images)"; exit 0; }
[ -e build/nbdkit-azblob.so ] || { echo "  (the nbdkit plugin is not built)"; exit 0; }

# tests/lib/azurite.sh needs the test helpers' $T, fail, skip, on_exit.
source tests/bench/functions.sh
source tests/lib/functions.sh
on_exit 'rm -rf "$B"'    # tests/lib/functions.sh replaced the bench's trap
source tests/lib/azurite.sh
azurite_start

cp --sparse=always "$img" "$T/src.img"
"$AZPREP" replicate --name bench --container vms --state "$T/state" \
  --cycles 1 "$T/src.img" >/dev/null 2>&1

# Alternating (tests/bench/functions.sh): the local fix on a fresh copy;
# test-migrate again from the same recovery point, its previous test
# copy cleaned up first (untimed).
local_fix_prep () { cp --sparse=always "$img" "$T/local.img"; }
local_fix () { "$AZPREP" fix "$T/local.img"; }
# Each run from a recovery point of its own (a delta cycle with nothing
# changed): Azurite 3.35 shares a page blob's range list with the blob it
# was copied from (LokiBlobMetadataStore startCopyFromURL), so the
# hydration's writes into the test copy land in the snapshot too, and a
# second test-migrate of that point would find the guest already fixed.
# Azure copies the data; this keeps the runs alike here.
test_migrate_prep () {
  "$AZPREP" cleanup-test --state "$T/state" bench || true
  "$AZPREP" replicate --name bench --container vms --state "$T/state" \
    --cycles 1 "$T/src.img" >/dev/null 2>&1
}
test_migrate () {
  "$AZPREP" test-migrate --state "$T/state" --vnet v --subnet s \
    --location westeurope --output-dir "$T" bench
}
bench_pair "test-migrate through the bridge / fix of a local copy" "<=" 1.0 \
  local_fix test_migrate
rep=$T/bench-Test.report.json
if [ ! -s "$rep" ]; then
  echo "  (no test-migrate report: its runs failed; no bridge figures)"
else
  get () { json_get "$rep" "$1"; }
  alloc=$(qemu-img map --output=json "$img" |
    node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
      console.log(JSON.parse(s).filter(e=>e.data).reduce((a,e)=>a+e.length,0))})')
  mib () { echo "scale=1; $1 / 1048576" | bc -l; }
  printf '  bridge read %s MiB in %s requests, wrote %s MiB in %s Put Pages (%s guest writes gathered), cleared %s MiB\n' \
    "$(mib "$(get 'd.disks[0].bridge.bytes_read')")" "$(get 'd.disks[0].bridge.reads')" \
    "$(mib "$(get 'd.disks[0].bridge.bytes_written')")" "$(get 'd.disks[0].bridge.writes')" \
    "$(get 'd.disks[0].bridge.client_writes')" \
    "$(mib "$(get 'd.disks[0].bridge.bytes_cleared')")"
  printf '  disk: %s MiB allocated of %s MiB\n' "$(mib "$alloc")" \
    "$(mib "$(get 'd.disks[0].blob_size')")"
fi
printf '  load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
