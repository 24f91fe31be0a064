#!/usr/bin/env bash
# A fault-injecting proxy between azprep and Azurite (500, 503 with
# Retry-After, connections dropped before and after the request reached
# Azurite, slow responses): the replica is still identical to the source,
# and every retry of a 503 waited for its Retry-After.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start
direct=$AZURE_STORAGE_CONNECTION_STRING
faultproxy_start --every 3 --slow 20

img=$T/vm.qcow2
V=$((1024 * 1024 * 1024))
qemu-img create -q -f qcow2 "$img" 1G
write_extents "$img" 12 80 3 1M

AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  expect_exit 0 "$AZPREP" replicate --container vms --name vm1 \
    --state "$T/state" --parallel 4 -v "$img"
node -e '
  const s = require(process.argv[1]);
  console.log(JSON.stringify(s));
  for (const k of ["500", "503", "drop_before", "drop_after"])
    if (!(s.faults[k] > 0)) { console.error("no " + k + " fault injected"); process.exit(1); }
  // Retry-After: 1 on every 503: each retry came at least 1 s later
  // (the back-off alone would retry after 0.25 to 0.5 s).
  const g = s.retry_after_gaps_ms;
  if (g.length === 0) { console.error("no retry of a 503 seen"); process.exit(1); }
  if (Math.min(...g) < 990) { console.error("Retry-After not honoured: " + g); process.exit(1); }
' "$PROXY_STATS" || fail "the proxy did not inject every kind of fault, or Retry-After was ignored"
assert_contains "$T/err" 'retrying'

qemu-img convert -O raw "$img" "$T/v.raw"
want=$(blobtool filedigest "$T/v.raw" $V)
[ "$(blobtool digest vms vm1-disk0.vhd - $V)" = "$want" ] ||
  fail "blob differs from the source after faults"
expect_exit 0 "$AZPREP" verify --state "$T/state" vm1
