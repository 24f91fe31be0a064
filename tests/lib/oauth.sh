# Sourced by the tests that sign in with Microsoft Entra ID (after
# tests/lib/functions.sh and tests/lib/azurite.sh).
#
#   oauth_start LIFETIME [AZURITE_START ARGS]
#
# starts Azurite over HTTPS (a CA made here) with --oauth basic, and the
# local Entra ID (tests/tools/node/tokenserver.js: an authority, a
# managed identity endpoint and the CLI's reply) issuing tokens that
# live LIFETIME seconds; puts a fake az on PATH; and leaves azprep an
# environment without any storage key: AZPREP_AUTH=SPN with a client
# secret, AZURE_STORAGE_BLOB_ENDPOINT the Azurite account.  The SDK
# tools (blobtool, mig) still use the account key from
# AZURITE_CONNECTION_STRING.  Sets CACERT (the CA file, for --cacert),
# TOKEN_PORT, TOKEN_STATS (JSON counters), TOKEN_LOG (every token
# issued, for assert_no_token), SPN_PEM (a client certificate with its
# key, registered with the authority) and FEDERATED (a federated token
# file the authority accepts).

oauth_start () {
  local lifetime=$1 i
  shift
  requires openssl
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
    -subj "/CN=azprep test CA" -keyout "$T/ca.key" -out "$T/ca.pem" \
    2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$T/key.pem" -out "$T/req.pem" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext.cnf"
  openssl x509 -req -in "$T/req.pem" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
    -CAcreateserial -days 2 -extfile "$T/ext.cnf" -out "$T/cert.pem" \
    2>/dev/null
  CACERT=$T/ca.pem
  export NODE_EXTRA_CA_CERTS=$CACERT
  azurite_start --cert "$T/cert.pem" --key "$T/key.pem" --oauth "$@"
  AZURITE_CONNECTION_STRING=$AZURE_STORAGE_CONNECTION_STRING
  unset AZURE_STORAGE_CONNECTION_STRING AZURE_STORAGE_KEY \
    AZURE_STORAGE_ACCOUNT AZURE_STORAGE_SAS_TOKEN
  export AZURE_STORAGE_BLOB_ENDPOINT=$AZURITE_ENDPOINT

  # The service principal's certificate (PEM: certificate and key).
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=client1" \
    -keyout "$T/spn.key" -out "$T/spn.crt" 2>/dev/null
  SPN_PEM=$T/spn.pem
  cat "$T/spn.crt" "$T/spn.key" >"$SPN_PEM"
  FEDERATED=$T/federated.jwt
  printf 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2EifQ.fed%s\n' \
    "$RANDOM$RANDOM" >"$FEDERATED"

  TOKEN_STATS=$T/token-stats.json
  TOKEN_LOG=$T/tokens.log
  : >"$TOKEN_LOG"
  node "$PWD/tests/tools/node/tokenserver.js" "$T/token.port" \
    "$TOKEN_STATS" "$TOKEN_LOG" "$lifetime" --cert "$T/spn.crt" \
    --federated "$FEDERATED" >"$T/tokenserver.log" 2>&1 &
  local pid=$!
  on_exit "kill $pid"
  for i in $(seq 1 100); do
    [ -s "$T/token.port" ] && break
    sleep 0.1
  done
  [ -s "$T/token.port" ] || fail "the token server did not start"
  TOKEN_PORT=$(cat "$T/token.port")

  # A fake az: the real CLI's reply shape, from the local authority.
  mkdir -p "$T/bin"
  cat >"$T/bin/az" <<AZ
#!/bin/sh
printf '%s\n' "\$*" >>"$T/az.args"
exec curl -sf "http://127.0.0.1:$TOKEN_PORT/cli"
AZ
  chmod +x "$T/bin/az"
  export PATH="$T/bin:$PATH"

  export AZPREP_AUTH=SPN AZURE_TENANT_ID=tenant1 AZURE_CLIENT_ID=client1 \
    AZURE_CLIENT_SECRET=s3cret-client-secret \
    AZURE_AUTHORITY_HOST="http://127.0.0.1:$TOKEN_PORT"
}

# token_count FLOW: how many tokens the flow (spn_secret, spn_cert,
# workload, msi, cli) issued so far.
token_count () {
  json_get "$TOKEN_STATS" "d.$1"
}

# _token_patterns: every token issued so far and its signature alone
# (a token cut in a message), one a line, for grep -F -f.
_token_patterns () {
  sed -n 's/^\(.*\)\.\([^.]*\)$/\1.\2\n\2/p' "$TOKEN_LOG" >"$T/token-patterns"
  echo 's3cret-client-secret' >>"$T/token-patterns"
}

# assert_no_token FILE|DIR...: no token issued so far (nor the client
# secret) appears in any file given or under a directory given.
assert_no_token () {
  _token_patterns
  if grep -rlF -f "$T/token-patterns" "$@"; then
    fail "a token or the client secret appears in the files above"
  fi
}

# assert_no_token_argv: no token on the command line of any process.
assert_no_token_argv () {
  local p
  _token_patterns
  for p in /proc/[0-9]*/cmdline; do
    { tr '\0' ' ' <"$p"; echo; } 2>/dev/null || true
  done >"$T/cmdlines"
  if grep -F -f "$T/token-patterns" "$T/cmdlines"; then
    fail "a token is on the command line above"
  fi
}
