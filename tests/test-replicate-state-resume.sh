#!/usr/bin/env bash
# azprep replicate --state-container: a worker killed (SIGKILL) in the
# middle of a delta; another run with a wiped local state directory (as
# on another host) waits for the dead worker's lease to expire, resumes
# the open cycle from the state container and finishes it: the blob and
# the new recovery point read back identical to the source (SDK), and
# the delta's data sent by both runs stays under 1.2x the data changed.
# status --all --state-container shows the job from anywhere (text and
# JSON), and the state container's cost per cycle is reported.
# tests/run: waits
source tests/lib/functions.sh
source tests/lib/azurite.sh
source tests/lib/continuous.sh

faultproxy_start --slow 150
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT")
img=$T/b.qcow2
V=$((512 * MiB))
qemu-img create -q -f qcow2 "$img" 512M
write_extents "$img" 12 40 1 1M
rep=("$AZPREP" replicate --container vms --name b --state-container state
     --lease-seconds 15 --json --parallel 1 "$img")
vhd_bytes () { json_get "$PROXY_STATS" 'd.vhd_page_bytes'; }
cjournal () {   # the journal in the state container
  blobtool cat state jobs/b/journal.json >"$T/cj.json"
  json_get "$T/cj.json" "$1"
}

# --- the initial copy on "host 1" -----------------------------------
expect_exit 0 "${rep[@]}" --state "$T/h1"
assert_contains "$T/out" '"event":"cycle","disk":0,"kind":"initial","cycle":1'
# The state container's requests and bytes of the cycle.
assert_contains "$T/out" '"event":"state","container":"'
grep '"event":"state"' "$T/out" >"$T/state.json"
[ "$(json_get "$T/state.json" 'd.requests')" -gt 0 ] ||
  fail "no state container requests counted"
[ "$(cjournal 'd.disks[0].cycles')" = 1 ] || fail "journal blob: cycles"
# No local journal outside the cache, and the manifest is a page blob.
[ ! -e "$T/h1/b.json" ] || fail "a local journal was written"
blobtool props state jobs/b/disk0.manifest >"$T/mprops"
[ "$(json_get "$T/mprops" 'd.type')" = PageBlob ] ||
  fail "the manifest is not a page blob"

# --- a delta, killed mid-cycle ----------------------------------------
change_32_mib
p0=$(vhd_bytes)
"${rep[@]}" --state "$T/h1" >"$T/out.k" 2>"$T/err.k" &
pid=$!
running=$pid
for i in $(seq 1 600); do
  [ -f "$T/h1/remote/state/b.json" ] &&
    [ "$(json_get "$T/h1/remote/state/b.json" 'd.disks[0].open')" = true ] &&
    [ "$(json_get "$T/h1/remote/state/b.json" 'd.disks[0].cycle_bytes')" \
        -ge $((8 * MiB)) ] && break
  kill -0 $pid 2>/dev/null || { cat "$T/err.k"; fail "the delta ended early"; }
  sleep 0.1
done
children=$(pgrep -P $pid || true)
kill -9 $pid $children 2>/dev/null || true
wait $pid 2>/dev/null || true
running=
partial=$(( $(vhd_bytes) - p0 ))
echo "killed after $partial bytes of the delta reached the blob"
[ "$partial" -gt 0 ] && [ "$partial" -lt $((32 * MiB)) ] ||
  fail "the kill did not land mid-delta ($partial bytes)"
# Not marked done: the cycle is open in the state container.
[ "$(cjournal 'd.disks[0].open')" = true ] || fail "the cycle is not open"
[ "$(cjournal 'd.disks[0].cycles')" = 1 ] || fail "the cycle was counted"

# --- "host 2": no local state at all -----------------------------------
# Another host name too where a UTS namespace can be had (root).
host1=$(hostname)
if unshare -u true 2>/dev/null; then
  host2=host2-$$
  as_host2=(unshare -u sh -c 'hostname "$0" && exec "$@"' "$host2")
else
  echo "no UTS namespace here: host 2 keeps this host's name"
  host2=$host1
  as_host2=()
fi
rm -rf "$T/h1"
s0=$SECONDS
expect_exit 0 "${as_host2[@]}" "${rep[@]}" --state "$T/h2" --wait-lock 60
if [ "$host2" != "$host1" ]; then
  # A local path: said so; read here, with digests.
  assert_contains "$T/err" "the job last ran on host $host1, this is $host2"
fi
echo "resumed after waiting $((SECONDS - s0)) s (dead worker's lease)"
assert_contains "$T/out" '"event":"cycle","disk":0,"kind":"delta","cycle":2'
total=$(( $(vhd_bytes) - p0 ))
echo "the delta sent $total bytes in all for $((32 * MiB)) changed"
[ "$total" -ge $((32 * MiB)) ] || fail "less than the change was sent"
[ "$total" -le $((32 * MiB * 12 / 10)) ] ||
  fail "the resume re-sent too much: $total bytes for $((32 * MiB))"

export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$AZURITE_ENDPOINT")
now=$(img_digest "$img" $V)
[ "$(blobtool digest vms b-disk0.vhd - $V)" = "$now" ] ||
  fail "blob differs from the source"
s=$(snap_of_cycle vms b-disk0.vhd 2)
[ "$(blobtool digest vms b-disk0.vhd "$s" $V)" = "$now" ] ||
  fail "recovery point 2 differs from the source"
[ "$(cjournal 'd.disks[0].snapshots[1]')" = "$s" ] ||
  fail "the journal blob does not list recovery point 2"
[ "$(json_get "$T/cj.json" 'd.disks[0].open')" = false ] ||
  fail "the cycle is still open"

# --- status --all from a third place, no local state -----------------
HOME=$T/h3 XDG_STATE_HOME= expect_exit 0 "$AZPREP" status --all \
  --state-container state
cat "$T/out"
assert_contains "$T/out" "worker $host2/"
assert_contains "$T/out" 'last held it; the job is free'
assert_contains "$T/out" "last recovery point: $s \\(2 kept\\), lag [0-9]+ s"
assert_contains "$T/out" 'state idle, 2 cycle\(s\)'
assert_contains "$T/out" "its source is on host $host2 only"
[ ! -e "$T/h3" ] || fail "status created local state"
HOME=$T/h3 expect_exit 0 "$AZPREP" status --all --state-container state \
  --json
cp "$T/out" "$T/st.json"
[ "$(json_get "$T/st.json" 'd.length')" = 1 ] || fail "status: one job"
[ "$(json_get "$T/st.json" 'd[0].name')" = b ] || fail "status: name"
[ "$(json_get "$T/st.json" 'd[0].held')" = false ] || fail "status: held"
json_get "$T/st.json" 'd[0].worker' | grep -q "^$host2/[0-9]*$" ||
  fail "status: worker"
[ "$(json_get "$T/st.json" 'd[0].host')" = "$host2" ] || fail "status: host"
[ "$(json_get "$T/st.json" 'd[0].disks[0].last_recovery_point')" = "$s" ] ||
  fail "status: recovery point"
[ "$(json_get "$T/st.json" 'd[0].disks[0].lag >= 0')" = true ] ||
  fail "status: lag"
[ "$(json_get "$T/st.json" 'd[0].disks[0].host_only')" = true ] ||
  fail "status: host_only"
[ "$(json_get "$T/st.json" 'd[0].disks[0].bytes_sent >= 32 * 1048576')" \
    = true ] || fail "status: bytes"
[ "$(json_get "$T/st.json" 'd[0].disks[0].error')" = null ] ||
  fail "status: error"
# verify reads the job from the container too.
expect_exit 0 "$AZPREP" verify --state-container state b
assert_contains "$T/out" 'matches'
