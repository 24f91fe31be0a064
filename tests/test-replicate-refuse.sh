#!/usr/bin/env bash
# What azprep replicate refuses, clearly and without a retry storm: a
# wrong account key, a blob it did not create, plain HTTP to a remote
# host, credentials on the command line.  Keys never appear in output or
# the journal.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img
azurite_start
faultproxy_start

img=$T/vm.raw
truncate -s 64M "$img"
printf 'data' | dd of="$img" bs=1 seek=1048576 conv=notrunc status=none

# Wrong key: AuthenticationFailed with a hint, a handful of requests.
badkey=$(printf 'not the key at all, just 64 bytes of something else......!!!!!' | base64 -w0)
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT" "$badkey") \
  expect_exit 1 "$AZPREP" replicate --container vms --name bad \
    --state "$T/state" -v "$img"
# (Azure says AuthenticationFailed, Azurite AuthorizationFailure.)
assert_contains "$T/err" 'HTTP 403 (AuthenticationFailed|AuthorizationFailure): check the account key'
assert_not_contains "$T/err" 'retrying'
n=$(json_get "$PROXY_STATS" 'd.requests')
echo "wrong key: $n request(s)"
[ "$n" -le 2 ] || fail "wrong key: $n requests (a retry storm?)"
for f in "$T/out" "$T/err" "$T/state"/*; do
  ! grep -qF "$badkey" "$f" || fail "the key appears in $f"
done

# A blob that azprep did not create is refused (exit 3), untouched.
blobtool create-page vms other-disk0.vhd 67109376
expect_exit 3 "$AZPREP" replicate --container vms --name other \
  --state "$T/state" "$img"
assert_contains "$T/err" 'not created by this azprep job'
[ "$(json_get <(blobtool props vms other-disk0.vhd) 'd.leaseState')" = available ] ||
  fail "the foreign blob was leased"

# Plain HTTP only to loopback, unless --allow-http.
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "http://blob.example.invalid/devstoreaccount1") \
  expect_exit 1 "$AZPREP" replicate --container vms --name x \
    --state "$T/state" "$img"
assert_contains "$T/err" 'refusing plain HTTP'

# No credential options on the command line.
expect_exit 2 "$AZPREP" replicate --container vms --account-key xyz "$img"

# The good key: works; then grep everything for the key.
expect_exit 0 "$AZPREP" replicate --container vms --name good \
  --state "$T/state" -v --json "$img"
for f in "$T/out" "$T/err" "$T/state"/*; do
  ! grep -qF "$AZURITE_KEY" "$f" || fail "the account key appears in $f"
done
