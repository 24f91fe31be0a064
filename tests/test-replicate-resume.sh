#!/usr/bin/env bash
# kill -9 in the middle of the initial copy, then the same command again:
# it resumes from the journal and sends only the rest.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start
faultproxy_start --slow 250

img=$T/vm.qcow2
V=$((2 * 1024 * 1024 * 1024))
qemu-img create -q -f qcow2 "$img" 2G
write_extents "$img" 24 64 0 2M
data=$((24 * 2 * 1024 * 1024))

# Slow responses through the proxy: about 6 s at one request in flight.
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  "$AZPREP" replicate --container vms --name vm1 --state "$T/state" \
  --parallel 1 --json "$img" >"$T/first.json" 2>"$T/first.err" &
pid=$!
# Kill once the journal records finished ranges.
for i in $(seq 1 200); do
  if [ -f "$T/state/vm1.json" ] &&
     [ "$(json_get "$T/state/vm1.json" 'd.disks[0].done.length')" -gt 0 ]; then
    break
  fi
  sleep 0.1
done
kill -9 $pid
wait $pid 2>/dev/null || true
before=$(json_get "$T/state/vm1.json" 'd.disks[0].bytes_sent')
echo "killed after $before bytes were journaled"
[ "$before" -gt 0 ] && [ "$before" -lt "$data" ] ||
  fail "the kill did not land mid-copy ($before of $data)"
[ "$(json_get "$T/state/vm1.json" 'd.disks[0].open')" = true ] ||
  fail "the journal does not show an open cycle"

# Resume directly (the lease left by the killed run is ours).
expect_exit 0 "$AZPREP" replicate --container vms --name vm1 \
  --state "$T/state" --parallel 4 --json "$img"
sent=$(grep '"event":"cycle"' "$T/out" | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () =>
    console.log(JSON.parse(s).bytes_sent));')
echo "resume: cycle total $sent bytes, $before sent before the kill"
# The cycle total counts both runs.  The resumed run sent the rest only:
# at most what was not journaled plus the request in flight at the kill
# (writes that landed after the last journal save are not sent again).
resumed=$((sent - before))
[ "$resumed" -le $((data - before + 4 * 1024 * 1024)) ] ||
  fail "the resumed run sent $resumed bytes, more than the rest"
[ "$resumed" -lt "$data" ] || fail "the resumed run started over"

qemu-img convert -O raw "$img" "$T/v.raw"
want=$(blobtool filedigest "$T/v.raw" $V)
[ "$(blobtool digest vms vm1-disk0.vhd - $V)" = "$want" ] ||
  fail "blob differs from the source after the resume"
