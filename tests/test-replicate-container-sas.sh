#!/usr/bin/env bash
# azprep replicate --container with only a container SAS, from a
# credentials file (a connection string with BlobEndpoint and
# SharedAccessSignature): two cycles, verify.  Neither the key nor the
# SAS signature is ever shown or journaled.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start
source tests/lib/managed.sh

blobtool create-page sasvms placeholder 512
csas=$(blobtool sas-url sasvms - racwd)
csig=$(node -e 'console.log(new URL(process.argv[1]).searchParams.get("sig"))' "$csas")
unset AZURE_STORAGE_CONNECTION_STRING
(umask 077; printf 'BlobEndpoint=%s;SharedAccessSignature=%s\n' \
   "$AZURITE_ENDPOINT" "${csas#*\?}" >"$T/creds")
expect_exit 0 "$AZPREP" replicate --container sasvms --name viasas \
  --credentials "$T/creds" --state "$T/state" -v --json --cycles 2 \
  --interval 0 "$img"
cp "$T/out" "$T/rep4.out"; cp "$T/err" "$T/rep4.err"
[ "$(grep -c '"event":"cycle"' "$T/rep4.out")" = 2 ] || fail "not 2 cycles"
# The SAS cannot list the container: one warning, no error.
assert_not_contains "$T/rep4.err" 'error:'
[ "$(grep -c 'cannot list the blob' "$T/rep4.err")" = 1 ] ||
  fail "no single warning that the snapshots cannot be listed"
# (The blob itself: Azurite refuses snapshot reads with a container SAS.)
expect_exit 0 "$AZPREP" verify --credentials "$T/creds" --state "$T/state" \
  viasas

assert_secret_absent "$csig" "the container SAS signature" \
  "$T"/rep* "$T/state"/*
assert_secret_absent "$AZURITE_KEY" "the account key" "$T"/rep* "$T/state"/*
