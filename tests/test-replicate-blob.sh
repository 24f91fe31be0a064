#!/usr/bin/env bash
# The blob client (replicate/azure/blob.h) against a real Azurite: create with
# If-None-Match, Put/Clear Page, ranges, snapshots, leases, metadata,
# copy, delete, parallel writer.  Then through a proxy that says every
# copy is pending: Copy Blob's polling stops at its deadline.
source tests/lib/functions.sh
source tests/lib/azurite.sh
live=build/unit/replicate/azure/test-blob
[ -x "$live" ] || skip "$live not built (make check builds it)"
azurite_start
AZPREP_TEST_LIVE=1 "$live"
faultproxy_start --copy-pending
AZPREP_TEST_LIVE=1 AZPREP_TEST_COPY_PENDING=1 \
  AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  "$live"
[ "$(json_get "$PROXY_STATS" d.copy_pending)" -ge 2 ] ||
  fail "the proxy never said pending: $(cat "$PROXY_STATS")"
