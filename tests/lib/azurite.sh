# Sourced by the replication tests (after tests/lib/functions.sh): start a
# real Azurite blob service on a free 127.0.0.1 port, stopped when the
# test ends.
#
#   azurite_start [--location DIR] [--cert CERT --key KEY] [--oauth]
#                 [--log FILE]
#
# sets AZURITE_PORT, AZURITE_PID, AZURITE_ENDPOINT (the blob endpoint
# with the account, e.g. http://127.0.0.1:PORT/devstoreaccount1) and
# exports AZURE_STORAGE_CONNECTION_STRING for the well-known Azurite
# development account (its key is public; test fixtures only).
# In memory unless --location is given.  --log FILE: Azurite's debug log
# (one line per request: method and URL), to check which blobs a
# command wrote.  azurite_stop stops it;
# azurite_restart restarts it on the same port (with --location).
# --oauth: Entra ID tokens accepted (Azurite --oauth basic; needs --cert);
# see tests/lib/oauth.sh.

AZURITE_NODE_DIR="$PWD/tests/tools/node"
AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
AZURITE_ACCOUNT=devstoreaccount1

requires node
[ -x "$AZURITE_NODE_DIR/node_modules/.bin/azurite-blob" ] ||
  skip "Azurite not installed (cd tests/tools/node && npm install)"

_free_port () {
  node -e 'const s=require("net").createServer();
    s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

_azurite_args=()
azurite_start () {
  local scheme=http
  _azurite_args=()
  local location=
  while [ $# -gt 0 ]; do
    case $1 in
      --location) location=$2; shift 2 ;;
      --cert) _azurite_args+=(--cert "$2"); scheme=https; shift 2 ;;
      --key) _azurite_args+=(--key "$2"); shift 2 ;;
      --log) _azurite_args+=(--debug "$2"); shift 2 ;;
      --oauth) _azurite_args+=(--oauth basic); shift ;;
      *) fail "azurite_start: unknown option $1" ;;
    esac
  done
  if [ -n "$location" ]; then
    _azurite_args+=(--location "$location")
  else
    _azurite_args+=(--inMemoryPersistence)
  fi
  AZURITE_PORT=${AZURITE_PORT:-$(_free_port)}
  AZURITE_SCHEME=$scheme
  AZURITE_ENDPOINT="$scheme://127.0.0.1:$AZURITE_PORT/$AZURITE_ACCOUNT"
  _azurite_launch
  on_exit azurite_stop
  export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=$scheme;AccountName=$AZURITE_ACCOUNT;AccountKey=$AZURITE_KEY;BlobEndpoint=$AZURITE_ENDPOINT;"
}

_azurite_launch () {
  "$AZURITE_NODE_DIR/node_modules/.bin/azurite-blob" \
    --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --skipApiVersionCheck \
    --silent "${_azurite_args[@]}" >"$T/azurite.log" 2>&1 &
  AZURITE_PID=$!
  local i
  for i in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_PORT") 2>/dev/null; then
      return 0
    fi
    kill -0 "$AZURITE_PID" 2>/dev/null ||
      { cat "$T/azurite.log"; fail "Azurite exited at start"; }
    sleep 0.1
  done
  fail "Azurite did not listen on port $AZURITE_PORT"
}

azurite_stop () {
  if [ -n "${AZURITE_PID:-}" ]; then
    kill "$AZURITE_PID" 2>/dev/null || true
    wait "$AZURITE_PID" 2>/dev/null || true
    AZURITE_PID=
  fi
}

azurite_restart () {
  azurite_stop
  _azurite_launch
}

# blobtool ARGS...: the independent reader/writer (@azure/storage-blob).
# Under tests/lib/oauth.sh azprep has no key but the SDK tools keep it.
blobtool () {
  AZURE_STORAGE_CONNECTION_STRING=${AZURITE_CONNECTION_STRING:-${AZURE_STORAGE_CONNECTION_STRING:-}} \
    node "$PWD/tests/tools/node/blobtool.js" "$@"
}

# faultproxy_start [--every N] [--slow MS] [--match STR [--pass N] [--lose N]
# [--then STATUS]] (see faultproxy.js): a fault-injecting proxy in
# front of Azurite; sets PROXY_PORT, PROXY_ENDPOINT and PROXY_STATS (a
# JSON file: requests, faults).
faultproxy_start () {
  PROXY_STATS=$T/proxy-stats.json
  rm -f "$T/proxy.port"
  node "$PWD/tests/tools/node/faultproxy.js" "$T/proxy.port" "$AZURITE_PORT" \
    "$PROXY_STATS" "$@" >"$T/proxy.log" 2>&1 &
  PROXY_PID=$!
  on_exit "kill $PROXY_PID"
  local i
  for i in $(seq 1 100); do
    [ -s "$T/proxy.port" ] && break
    sleep 0.1
  done
  PROXY_PORT=$(cat "$T/proxy.port")
  PROXY_ENDPOINT="http://127.0.0.1:$PROXY_PORT/$AZURITE_ACCOUNT"
}

faultproxy_stop () {
  kill "$PROXY_PID" 2>/dev/null || true
  wait "$PROXY_PID" 2>/dev/null || true
}

# The connection string for an endpoint (e.g. the proxy's).
connection_string () {
  echo "DefaultEndpointsProtocol=http;AccountName=$AZURITE_ACCOUNT;AccountKey=${2:-$AZURITE_KEY};BlobEndpoint=$1;"
}

# assert_secret_absent SECRET WHAT FILE...: fail if SECRET (an account
# key, a SAS signature) appears in any FILE (output, logs, journals).
assert_secret_absent () {
  local secret=$1 what=$2 f
  shift 2
  for f; do
    ! grep -qF -- "$secret" "$f" || fail "$what appears in $f"
  done
}

# small_source FILE: a sparse 64 MiB raw disk with 4 bytes of data at
# 1 MiB, for the tests of what replicate refuses.
small_source () {
  truncate -s 64M "$1"
  printf 'data' | dd of="$1" bs=1 seek=1048576 conv=notrunc status=none
}

# write_extents QCOW2 N STEP FIRST LEN [P]: N extents of LEN written into
# the disk, extent i at (i * STEP + FIRST) MiB filled with the byte
# P + i (P is 1 when not given).
write_extents () {
  local i cmds=()
  for i in $(seq 0 $(($2 - 1))); do
    cmds+=(-c "write -P $((i + ${6:-1})) $((i * $3 + $4))M $5")
  done
  qemu-io -f qcow2 "${cmds[@]}" "$1" >/dev/null
}
