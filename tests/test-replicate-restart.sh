#!/usr/bin/env bash
# Azurite (on-disk persistence) restarted in the middle of a cycle:
# azprep retries through the outage and the replica is identical.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start --location "$T/azurite-data"
faultproxy_start --slow 200

img=$T/vm.qcow2
V=$((1024 * 1024 * 1024))
qemu-img create -q -f qcow2 "$img" 1G
write_extents "$img" 16 60 1 2M

AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  "$AZPREP" replicate --container vms --name vm1 --state "$T/state" \
  --parallel 2 -v "$img" >"$T/rep.out" 2>"$T/rep.err" &
pid=$!
for i in $(seq 1 200); do
  n=$(json_get "$PROXY_STATS" 'd.requests')
  [ "$n" -ge 8 ] && break
  sleep 0.1
done
kill -0 $pid 2>/dev/null || fail "replicate finished before the restart"
azurite_restart
rc=0
wait $pid || rc=$?
cat "$T/rep.err" | tail -5
[ $rc = 0 ] || fail "replicate failed across the Azurite restart (exit $rc)"
assert_contains "$T/rep.err" 'retrying'

qemu-img convert -O raw "$img" "$T/v.raw"
[ "$(blobtool digest vms vm1-disk0.vhd - $V)" = \
  "$(blobtool filedigest "$T/v.raw" $V)" ] || fail "blob differs after restart"
