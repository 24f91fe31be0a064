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

# A name that only begins with "127." is not loopback (nor is "localhost"
# as a prefix): refused the same way, before any lookup.
for host in 127.attacker.example 127.0.0.1.example localhost.example; do
  AZURE_STORAGE_CONNECTION_STRING=$(connection_string "http://$host/devstoreaccount1") \
    expect_exit 1 "$AZPREP" replicate --container vms --name x \
      --state "$T/state-$host" "$img"
  assert_contains "$T/err" 'refusing plain HTTP'
done
