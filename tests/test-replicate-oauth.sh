#!/usr/bin/env bash
# Microsoft Entra ID sign-in against Azurite (HTTPS, --oauth basic) and
# a local Entra ID: no storage key in azprep's environment.  A service
# principal with a secret replicates over several cycles with tokens
# that live 8 s, so the run renews them (Azurite refuses an expired
# token); verify then signs in each other way (certificate, workload
# identity, managed identity, the Azure CLI, a token file).  No token is
# ever in azprep's output, its journal or a command line; an expired
# token file, a wrong secret and an unknown method fail clearly.
source tests/lib/functions.sh
source tests/lib/azurite.sh
source tests/lib/oauth.sh
requires qemu-img curl
oauth_start 8
env | grep -q "$AZURITE_KEY" && fail "a storage key is in the environment"
state=$T/state
outs=$T/outs
mkdir -p "$outs"
run () {   # run EXIT NAME ARGS...: expect_exit, keeping the output
  local want=$1 name=$2
  shift 2
  expect_exit "$want" "$@"
  cp "$T/out" "$outs/$name.out"
  cp "$T/err" "$outs/$name.err"
}

img=$T/vm.raw
truncate -s 48M "$img"
printf 'hello' | dd of="$img" bs=1 seek=4096 conv=notrunc status=none
printf 'world' | dd of="$img" bs=1 seek=$((40 << 20)) conv=notrunc status=none

# The replication, in the background to look at the command lines.
$AZPREP replicate -v --container vms --name vm --state "$state" \
  --cacert "$CACERT" --cycles 3 --interval 6 "$img" \
  >"$outs/replicate.out" 2>"$outs/replicate.err" &
rpid=$!
for i in 1 2 3 4 5 6; do
  sleep 2
  assert_no_token_argv
done
wait "$rpid" || { cat "$outs/replicate.err"; fail "replicate failed"; }
n=$(token_count spn_secret)
echo "service principal tokens: $n"
[ "$n" -ge 2 ] || fail "the token was not renewed during the run ($n)"
assert_contains "$outs/replicate.err" 'Entra ID: a token from a service principal'
[ "$(blobtool digest vms vm-disk0.vhd - $((48 << 20)))" = \
  "$(blobtool filedigest "$img" $((48 << 20)))" ] || fail "content"

vfy () {   # vfy NAME: azprep verify, which must pass
  run 0 "$1" $AZPREP verify --state "$state" --cacert "$CACERT" vm
}
unset AZURE_CLIENT_SECRET
export AZURE_CLIENT_CERTIFICATE_PATH=$SPN_PEM
vfy cert
[ "$(token_count spn_cert)" -ge 1 ] || fail "no certificate sign-in"
AZPREP_AUTH=WORKLOAD AZURE_FEDERATED_TOKEN_FILE=$FEDERATED vfy workload
[ "$(token_count workload)" -ge 1 ] || fail "no workload identity sign-in"
AZPREP_AUTH= AZCOPY_AUTO_LOGIN_TYPE=MSI \
  IDENTITY_ENDPOINT="http://127.0.0.1:$TOKEN_PORT/msi" \
  IDENTITY_HEADER=id-header-value vfy msi
[ "$(token_count msi)" -ge 1 ] || fail "no managed identity sign-in"
AZPREP_AUTH=AZCLI vfy cli
[ "$(token_count cli)" -ge 1 ] || fail "no Azure CLI sign-in"
[ "$(sort -u "$T/az.args")" = \
  "account get-access-token --resource https://storage.azure.com/ -o json" ] ||
  fail "az ran with $(cat "$T/az.args")"
curl -sf "http://127.0.0.1:$TOKEN_PORT/cli" | json_get /dev/stdin d.accessToken \
  >"$T/token.file"
AZPREP_AUTH=TOKENFILE AZPREP_ACCESS_TOKEN_FILE=$T/token.file vfy tokenfile

# Failures: each says what to do, none shows a secret.
sleep 9   # the token file's token has expired now
run 1 tokenfile-expired env AZPREP_AUTH=TOKENFILE \
  AZPREP_ACCESS_TOKEN_FILE="$T/token.file" \
  $AZPREP verify --state "$state" --cacert "$CACERT" vm
assert_contains "$T/err" 'access token file expired at .*was not renewed'
run 1 wrong-secret env AZURE_CLIENT_SECRET=not-the-secret \
  $AZPREP verify --state "$state" --cacert "$CACERT" vm
assert_contains "$T/err" 'service principal sign-in: .*HTTP 401.*invalid_client'
assert_not_contains "$T/err" 'not-the-secret'
run 1 unknown env AZPREP_AUTH=DEVICE \
  $AZPREP verify --state "$state" --cacert "$CACERT" vm
assert_contains "$T/err" 'AZPREP_AUTH=DEVICE: unknown sign-in method'
run 1 no-tenant env -u AZURE_TENANT_ID \
  $AZPREP verify --state "$state" --cacert "$CACERT" vm
assert_contains "$T/err" 'AZURE_TENANT_ID is not set'
# Bearer needs x-ms-version 2017-11-09 or later; --api-version is
# checked.
run 1 old-version $AZPREP verify --state "$state" --cacert "$CACERT" \
  --api-version 2017-04-17 vm
assert_contains "$T/err" 'x-ms-version 2017-04-17: Entra ID sign-in needs 2017-11-09'
run 2 bad-version $AZPREP verify --state "$state" --cacert "$CACERT" \
  --api-version 2017-4-17 vm
assert_contains "$T/err" "'2017-4-17': not a storage REST API version"
run 0 version $AZPREP verify --state "$state" --cacert "$CACERT" \
  --api-version 2021-08-06 vm
# Without a sign-in method and without a key: no credentials.
run 1 none env -u AZPREP_AUTH \
  $AZPREP verify --state "$state" --cacert "$CACERT" vm
assert_contains "$T/err" 'no credentials.*AZPREP_AUTH'

assert_no_token "$outs" "$state"
echo ok
