#!/usr/bin/env bash
# azprep replicate with a wrong account key: refused clearly (HTTP 403
# with a hint) and without a retry storm; with the good key it works.
# The key never appears in output or the journal.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img
azurite_start
faultproxy_start

img=$T/vm.raw
small_source "$img"

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
assert_secret_absent "$badkey" "the key" "$T/out" "$T/err" "$T/state"/*

# The good key: works; then grep everything for the key.
expect_exit 0 "$AZPREP" replicate --container vms --name good \
  --state "$T/state" -v --json "$img"
assert_secret_absent "$AZURITE_KEY" "the account key" \
  "$T/out" "$T/err" "$T/state"/*
