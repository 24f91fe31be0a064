#!/usr/bin/env bash
# Sessions that last: the simulator ends sessions idle for 2 s (vCenter's
# default is 30 min) and each replication cycle takes longer than that
# (its blob is behind a slow proxy).  With a keep-alive more frequent
# than the timeout the session never lapses; with a rarer one it lapses
# mid-cycle: the client logs in again, the bridge's cookie script picks
# up the new cookie, the reads that got 401 are retried, and the
# snapshot is removed.  The password is in no process's argv or
# environment but azprep's own.  No appliance.
# tests/run: waits
source tests/lib/functions.sh
source tests/lib/vcsim.sh
VCSIM_ARGS="-idle 2" vcsim_replication_setup
faultproxy_start --slow 400
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT")
size=$((64 * 1048576))
uri="vsphere://$VCSIM_HOST/DC0/DC0_H0_VM1/0?http=1"
# Data in 16 chunks: with --parallel 1 the cycle lasts >= 6 s.
vcsim_sparse_disk "$T/disk.img" 64 64 DC0_H0_VM1
export VSPHERE_PASSWORD=pass

# cycle NAME KEEPALIVE: a new job's first cycle; checks its blob.
cycle () {
  local start end
  vcsim_ctl stats-reset
  start=$(date +%s)
  (
    # While it runs: no other process holds the password.
    sleep 3
    for p in $(pgrep -f "nbdkit|cat .*cookie" || true); do
      if tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep -qx pass ||
         tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null |
           grep -q '^VSPHERE_PASSWORD='; then
        echo "process $p ($(tr "\0" " " < /proc/$p/cmdline)) holds the password" > "$T/leak"
      fi
    done
  ) &
  local watcher=$!
  expect_exit 0 "$AZPREP" replicate --vsphere-allow-http --container vms --name "$1" \
    --state "$T/state" --parallel 1 --keepalive "$2" "$uri"
  end=$(date +%s)
  wait $watcher
  cat "$T/err"
  [ ! -e "$T/leak" ] || fail "$(cat "$T/leak")"
  echo "$1: $((end - start)) s, $(vcsim_stats sessions_expired) sessions" \
    "expired, $(vcsim_stats logins) logins"
  [ $((end - start)) -gt 4 ] || fail "$1: the cycle was not longer than the idle timeout"
  [ "$(blobtool digest vms "$1-disk0.vhd" - "$size")" = \
    "$(blobtool filedigest "$T/disk.img" "$size")" ] ||
    fail "$1: the blob differs from the disk"
  "$AZPREP" discover --vcenter "$VCSIM_BASE" --vm DC0_H0_VM1 --json \
    >"$T/d.json" || fail "discover"
  [ -z "$(json_get "$T/d.json" 'd.vms[0].snapshots.map(s => s.name).join()')" ] ||
    fail "$1: the snapshot was left behind"
  assert_contains "$T/err" 'snapshot azprep-cycle-[0-9]+ removed'
}

# A keep-alive every second: the session never lapses.
cycle kept 1
assert_not_contains "$T/err" 'the session expired'

# A keep-alive every 5 s: the session lapses (2 s) during the cycle; the
# keep-alive or the snapshot removal logs in again; the bridge carries on.
cycle relogin 5
assert_contains "$T/err" 'the session expired \(idle timeout\): logging in again'
[ "$(vcsim_stats logins)" -ge 2 ] || fail "no second login"
