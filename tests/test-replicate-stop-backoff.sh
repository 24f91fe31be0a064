#!/usr/bin/env bash
# SIGTERM while every request fails (a proxy faulting each one) and
# replicate is sleeping between retries: it stops within a second or
# so, not after the minutes of back-off left (each retry waits up to
# 30 s, ten tries).
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img
azurite_start
faultproxy_start --every 1

small_source "$T/vm.raw"
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  "$AZPREP" replicate --container vms --name s --state "$T/state" -v \
  "$T/vm.raw" >"$T/out" 2>"$T/err" &
pid=$!
on_exit "kill -9 $pid 2>/dev/null"
# Into the back-off: four retries seen (the next waits 4 to 8 s, the
# ones after up to 30 s).
for i in $(seq 1 200); do
  [ "$(grep -c retrying "$T/err")" -ge 4 ] && break
  sleep 0.1
done
[ "$(grep -c retrying "$T/err")" -ge 4 ] || { cat "$T/err"; fail "no retries"; }
kill -TERM $pid
for i in $(seq 1 50); do
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
if kill -0 $pid 2>/dev/null; then
  cat "$T/err"
  fail "replicate still waiting out its back-off 5 s after SIGTERM"
fi
rc=0; wait $pid || rc=$?
[ $rc = 1 ] || { cat "$T/err"; fail "exit $rc after SIGTERM, expected 1"; }
assert_contains "$T/err" 'stopped'
