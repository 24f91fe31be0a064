#!/usr/bin/env bash
# Put Page starts failing for good (403, not retried) in the middle of
# the initial copy: the run fails, and no area it did not send is
# journaled as done, so the same command afterwards (without the fault)
# completes the copy and the replica equals the source.  (A chunk whose
# first write was refused by an already-failed writer used to be marked
# done: the resumed copy skipped it and left the blob stale there.)
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start
faultproxy_start --match comp=page --pass 6 --lose 0 --then 403

img=$T/vm.qcow2
V=$((512 * 1024 * 1024))
qemu-img create -q -f qcow2 "$img" 512M
write_extents "$img" 40 8 0 4M

AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  expect_exit 1 "$AZPREP" replicate --container vms --name vm1 \
    --state "$T/state" --parallel 2 "$img"
[ "$(json_get "$PROXY_STATS" 'd.then')" -gt 0 ] ||
  fail "no Put Page was refused"
[ "$(json_get "$T/state/vm1.json" 'd.disks[0].open')" = true ] ||
  fail "the journal does not show an open cycle"

# The journal names the proxy's endpoint: the same port, without faults.
kill $PROXY_PID
wait $PROXY_PID 2>/dev/null || true
port=$PROXY_PORT
faultproxy_start --port "$port"
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  expect_exit 0 "$AZPREP" replicate --container vms --name vm1 \
    --state "$T/state" --parallel 2 "$img"
qemu-img convert -O raw "$img" "$T/v.raw"
[ "$(blobtool digest vms vm1-disk0.vhd - $V)" = \
  "$(blobtool filedigest "$T/v.raw" $V)" ] ||
  fail "the blob differs from the source after the resumed copy"
expect_exit 0 "$AZPREP" verify --state "$T/state" vm1
