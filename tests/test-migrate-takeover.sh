#!/usr/bin/env bash
# Two test-migrates of one job: the one started last takes the copy
# over, and the earlier one, paused meanwhile, writes nothing into it
# (issue 19's fencing: nothing is written under a lease this run does
# not hold).  On the phony Ubuntu guest (test-migrate-lifecycle's):
#  1. test-migrate #1 is paused (SIGSTOP on its process group: azprep
#     and its bridges) once its copy is made, leased, marked running and
#     its bridges serve it, before its appliance starts;
#  2. test-migrate #2 of the same job replaces the copy (breaks #1's
#     lease, deletes, copies the recovery point again, leases it under
#     its own id) and is killed (SIGKILL on its group) once its bridges
#     serve it, before its appliance starts: the copy is #2's, leased;
#  3. #1 resumes: its appliance (the only one of the test) runs the
#     fixups on the copy through its bridges, whose writes get 412, its
#     marks too; it exits 1 saying another run took the copy over; the
#     copy's bytes, metadata, ETag and lease are as #2 left them (read
#     with the SDK); #1 wrote no report and no template; the replica is
#     unchanged; no bridge is left;
#  4. cleanup-test deletes the copy (breaking #2's lease).
# Before the fix the copy's lease id was derived from its URL, the same
# for both runs: #1 wrote into #2's copy and marked it.
source tests/lib/functions.sh
requires nbdkit node pgrep setsid
img=$(require_image phony-ubuntu2004.img)
source tests/lib/azurite.sh
source tests/lib/migrate-functions.sh
migrate_setup
st=(--state "$T/state")
net=(--vnet v --subnet s --location westeurope)
copy=deb-disk0-test.vhd

cp --sparse=always "$img" "$T/src.img"
expect_exit 0 $AZPREP replicate --name deb --container vms "${st[@]}" \
  --cycles 1 "$T/src.img"
replica_sum=$(mig sha256 vms deb-disk0.vhd)

# start N: test-migrate #N in a process group of its own (setsid execs
# azprep: its pid is the group's id), output in $T/oN.
start () {
  mkdir -p "$T/o$1"
  setsid $AZPREP test-migrate "${st[@]}" "${net[@]}" --output-dir "$T/o$1" \
    deb >"$T/tm$1.out" 2>"$T/tm$1.err" &
  pid=$!
  on_exit "kill -9 -- -$pid 2>/dev/null"
  local i
  for i in $(seq 1 100); do   # until setsid has made the group
    [ "$(ps -o pgid= -p $pid | tr -d ' ')" = "$pid" ] && return 0
    sleep 0.05
  done
  fail "test-migrate #$1 does not lead its process group"
}
# at_bridge N PID: until test-migrate #N has leased and marked its copy
# and its bridges serve it (it says it launches the appliance next).
at_bridge () {
  local i
  for i in $(seq 1 3000); do
    grep -q 'hydrating through the bridge: launching the appliance' \
      "$T/tm$1.err" && return 0
    kill -0 "$2" 2>/dev/null ||
      { cat "$T/tm$1.err"; fail "test-migrate #$1 ended before its bridge"; }
    sleep 0.1
  done
  fail "test-migrate #$1 did not reach its bridge"
}
bridges () { pgrep -f "url=$AZURITE_ENDPOINT/vms/$copy" || true; }

# 1. #1 paused at its bridge.
start 1
pid1=$pid
at_bridge 1 $pid1
kill -STOP -- -$pid1
[ -n "$(bridges)" ] || fail "#1's bridge is not running"
[ "$(mig meta vms $copy azprephydration)" = running ] ||
  fail "#1's copy is not marked running"

# 2. #2 takes the copy over, then dies without an appliance.
start 2
pid2=$pid
at_bridge 2 $pid2
kill -9 -- -$pid2
wait $pid2 2>/dev/null || true
assert_not_contains "$T/tm2.err" 'error'
mig props vms $copy >"$T/props2"
assert_contains "$T/props2" '"leaseState":"leased"'
assert_contains "$T/props2" '"azprephydration":"running"'
copy_sum=$(mig sha256 vms $copy)

# 3. #1 resumes: refused on every write and mark, exit 1, said so.
kill -CONT -- -$pid1
rc=0; wait $pid1 || rc=$?
cat "$T/tm1.err"
[ $rc = 1 ] || { cat "$T/tm1.out"; fail "the superseded test-migrate exited $rc, not 1"; }
assert_contains "$T/tm1.err" \
  "$copy: another run took the copy over \\(it broke this run's lease"
assert_contains "$T/tm1.err" \
  'deb-Test: failed: another run took the copies over .*the replica is untouched'
mig props vms $copy >"$T/props1"
cmp "$T/props2" "$T/props1" ||
  { cat "$T/props2" "$T/props1"; fail "#1 changed the copy's metadata or lease"; }
[ "$(mig sha256 vms $copy)" = "$copy_sum" ] ||
  fail "#1 wrote into the copy #2 took over"
[ ! -e "$T/o1/deb-Test.report.json" ] || fail "#1 wrote its report"
[ ! -e "$T/o1/deb-Test.template.json" ] || fail "#1 wrote a template"
[ -z "$(bridges)" ] || fail "a bridge outlived its test-migrate"
[ "$(mig sha256 vms deb-disk0.vhd)" = "$replica_sum" ] ||
  fail "the replica changed"

# 4. cleanup-test deletes the copy, whose lease no live run holds.
expect_exit 0 $AZPREP cleanup-test "${st[@]}" deb
mig names vms >"$T/names"
assert_not_contains "$T/names" "^$copy"
[ "$(mig sha256 vms deb-disk0.vhd)" = "$replica_sum" ] ||
  fail "cleanup-test changed the replica"
echo ok
