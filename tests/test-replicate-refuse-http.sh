#!/usr/bin/env bash
# azprep replicate sends plain HTTP only to loopback, unless
# --allow-http: a remote http:// endpoint is refused before any request
# (no Azurite needed).
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img

img=$T/vm.raw
small_source "$img"

AZURE_STORAGE_CONNECTION_STRING=$(connection_string "http://blob.example.invalid/devstoreaccount1") \
  expect_exit 1 "$AZPREP" replicate --container vms --name x \
    --state "$T/state" "$img"
assert_contains "$T/err" 'refusing plain HTTP'
