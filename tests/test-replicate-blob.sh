#!/usr/bin/env bash
# The blob client (replicate/azure/blob.h) against a real Azurite: create with
# If-None-Match, Put/Clear Page, ranges, snapshots, leases, metadata,
# copy, delete, parallel writer.
source tests/lib/functions.sh
source tests/lib/azurite.sh
[ -x build/unit/replicate/azure/test-blob ] || skip "build/unit/replicate/azure/test-blob not built"
azurite_start
AZPREP_TEST_LIVE=1 build/unit/replicate/azure/test-blob
