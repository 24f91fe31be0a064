#!/usr/bin/env bash
# test-migrate, cleanup-test, migrate and complete on a job whose state
# is in a container (--state-container), host-side: no appliance (the
# whole life cycle on a guest is test-migrate-lifecycle.sh's).  Every
# command runs with a --state directory that never exists: nothing is
# read from (or written to) local files.
#  - a job absent from the container, or a container that does not
#    exist: exit 1, naming the job and the container; nothing is
#    created (no journal blob, no container);
#  - --wait-lock only with --state-container, and only for the commands
#    that lock the job (migrate, complete); status and verify parse the
#    state options with the same parser, text and errors;
#  - while a replicate elsewhere holds the job, migrate and complete are
#    refused (exit 6) naming that worker, and create nothing;
#    cleanup-test is not (it locks nothing); complete --wait-lock waits
#    for the worker to let go, then runs;
#  - complete deletes the job's journal and manifest blobs, with the
#    replica: status --all --state-container no longer lists the job;
#  - complete on a local --state directory still removes the local
#    journal and manifests (the same code, the other backend);
#  - migrate's lease lost mid-run (broken from outside during its final
#    cycle, which runs under it): the cycle stops writing and migrate
#    exits 5, saying so.
#  - a job removed between migrate's (or complete's) check that it
#    exists and its lock (a complete on another host): refused as an
#    absent job (exit 1), and the lock creates nothing (no empty journal
#    blob for status --all to list).
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img
azurite_start

net=(--vnet v --subnet s --location westeurope)
none=$T/no-local-state       # never created
sc=(--state-container state --state "$none")
small_source "$T/vm.raw"
expect_exit 0 "$AZPREP" replicate --container vms --name b \
  --state-container state --state "$T/w0" "$T/vm.raw"
blobtool list state >"$T/state0.json"

# A job absent from the container: the job and the container named.
check_absent () {   # CMD...: exit 1 naming job nope and container state
  expect_exit 1 "$AZPREP" "$@" "${sc[@]}" nope
  assert_contains "$T/err" "no replication job 'nope' in the state container http[^ ]*/state \\(no jobs/nope/journal.json there"
}
check_absent test-migrate "${net[@]}" --output-dir "$T"
check_absent cleanup-test
check_absent migrate --source-shutdown "${net[@]}" --output-dir "$T"
check_absent complete --force
blobtool list state >"$T/state1.json"
cmp -s "$T/state0.json" "$T/state1.json" ||
  fail "a command on an absent job wrote to the state container"

# A state container that does not exist: said so, and not created.
check_nocontainer () {
  expect_exit 1 "$AZPREP" "$@" --state-container nosuch --state "$none" b
  assert_contains "$T/err" "no replication job 'b': the state container http[^ ]*/nosuch does not exist"
}
check_nocontainer test-migrate "${net[@]}" --output-dir "$T"
check_nocontainer cleanup-test
check_nocontainer migrate --source-shutdown "${net[@]}" --output-dir "$T"
check_nocontainer complete --force
blobtool list nosuch >"$T/nosuch" 2>&1 && fail "the container nosuch exists"
assert_contains "$T/nosuch" 'ContainerNotFound'

# --wait-lock: with --state-container, and where a lock is taken.
expect_exit 2 "$AZPREP" complete --wait-lock 5 b
assert_contains "$T/err" '--wait-lock needs --state-container'
expect_exit 2 "$AZPREP" cleanup-test --wait-lock 5 "${sc[@]}" b
assert_contains "$T/err" 'cleanup-test takes no lock on the job'
expect_exit 2 "$AZPREP" test-migrate --wait-lock 5 "${sc[@]}" "${net[@]}" b
assert_contains "$T/err" 'test-migrate takes no lock on the job'
"$AZPREP" test-migrate --help >"$T/help"
assert_contains "$T/help" '--state-container NAME  keep the job'"'"'s state'
assert_not_contains "$T/help" '--wait-lock'
"$AZPREP" complete --help >"$T/help"
assert_contains "$T/help" '--wait-lock SECS  with --state-container'
# status and verify: the same state options, parser and text.
expect_exit 2 "$AZPREP" status --wait-lock 5 --state-container state
assert_contains "$T/err" 'status takes no lock on the job'
expect_exit 2 "$AZPREP" verify --wait-lock 5 "${sc[@]}" b
assert_contains "$T/err" 'verify takes no lock on the job'
for c in status verify; do
  expect_exit 2 "$AZPREP" $c --state-container no/such b
  assert_contains "$T/err" "azprep: $c: --state-container: not a valid name"
  "$AZPREP" $c --help >"$T/help"
  assert_contains "$T/help" '--state-container NAME  keep the job'"'"'s state'
  assert_not_contains "$T/help" '--wait-lock'
done

# Another worker holds the job: a replicate waiting between cycles.
"$AZPREP" replicate --container vms --name b --state-container state \
  --state "$T/w1" --continuous --interval 3600 "$T/vm.raw" \
  >"$T/out.w1" 2>"$T/err.w1" &
holder=$!
on_exit "kill -9 $holder 2>/dev/null"
for i in $(seq 1 300); do
  "$AZPREP" status --json --state-container state b >"$T/st.json" 2>/dev/null &&
    [ "$(json_get "$T/st.json" 'd[0].held && d[0].next_cycle !== null')" = true ] &&
    break
  kill -0 $holder 2>/dev/null || { cat "$T/err.w1"; fail "the holder ended"; }
  sleep 0.2
done
[ "$(json_get "$T/st.json" 'd[0].held')" = true ] || fail "the holder holds nothing"
blobtool list state >"$T/state2.json"
expect_exit 6 "$AZPREP" migrate --source-shutdown "${sc[@]}" "${net[@]}" \
  --output-dir "$T" b
assert_contains "$T/err" "migrate b: refused: the job is held by worker $(hostname)/$holder"
assert_contains "$T/err" '--wait-lock'
[ ! -e "$T/b.report.json" ] || fail "a refused migrate wrote a report"
expect_exit 6 "$AZPREP" complete --force "${sc[@]}" b
assert_contains "$T/err" "complete b: refused: the job is held by worker $(hostname)/$holder"
blobtool list vms >"$T/vms.json"
[ "$(json_get "$T/vms.json" 'd.some(b => b.name === "b-disk0.vhd")')" = true ] ||
  fail "a refused complete deleted the replica"
# cleanup-test locks nothing: it runs (there is no test copy).
expect_exit 0 "$AZPREP" cleanup-test "${sc[@]}" b
assert_contains "$T/out" 'no test copy .*/vms/b-disk0-test.vhd'
blobtool list state >"$T/state3.json"
cmp -s <(json_get "$T/state2.json" 'd.map(b => b.name).join(" ")') \
       <(json_get "$T/state3.json" 'd.map(b => b.name).join(" ")') ||
  fail "the refused commands changed the state container"

# complete --wait-lock: waits while the worker holds the job, then runs
# once it lets go (SIGTERM: it stops cleanly between cycles).
"$AZPREP" complete --force --wait-lock 120 "${sc[@]}" b >"$T/out.c" \
  2>"$T/err.c" &
comp=$!
sleep 3
kill -0 $comp 2>/dev/null || { cat "$T/err.c"; fail "complete did not wait"; }
kill -TERM $holder
wait $holder || fail "the holder failed: $(cat "$T/err.w1")"
rc=0; wait $comp || rc=$?
[ $rc = 0 ] || { cat "$T/out.c" "$T/err.c"; fail "complete --wait-lock exited $rc"; }
assert_contains "$T/out.c" "deleted the replica .*/vms/b-disk0.vhd"
assert_contains "$T/out.c" "removed the job's journal and manifests from http[^ ]*/state"
blobtool list state >"$T/state4.json"
[ "$(json_get "$T/state4.json" 'd.length')" = 0 ] ||
  { cat "$T/state4.json"; fail "complete left the job's state in the container"; }
expect_exit 0 "$AZPREP" status --all --state-container state
assert_contains "$T/out" 'no replication jobs in http[^ ]*/state'
expect_exit 1 "$AZPREP" test-migrate "${sc[@]}" "${net[@]}" b
assert_contains "$T/err" "no replication job 'b' in the state container"
[ ! -e "$none" ] || fail "a command wrote local state in $none"

# complete on a local state directory: the journal and manifests go.
expect_exit 0 "$AZPREP" replicate --container vms --name loc \
  --state "$T/local" "$T/vm.raw"
ls "$T/local" >"$T/local.ls"
assert_contains "$T/local.ls" '^loc\.json$'
expect_exit 0 "$AZPREP" complete --force --state "$T/local" loc
[ -z "$(ls "$T/local" | grep -v '^remote$' || true)" ] ||
  { ls -l "$T/local"; fail "complete left local state"; }

# migrate's lease lost during its final cycle (every reply slowed, so
# that the cycle is caught under way).
faultproxy_start --slow 300
expect_exit 0 "$AZPREP" replicate --container vms --name c \
  --state-container state --state "$T/w0" "$T/vm.raw"
for mib in 9 21 33 45; do
  printf 'more' | dd of="$T/vm.raw" bs=1 seek=$((mib * 1048576)) \
    conv=notrunc status=none
done
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  "$AZPREP" migrate --source-shutdown --state-container state \
  --state "$T/mc" "${net[@]}" --output-dir "$T" c >"$T/out.m" 2>"$T/err.m" &
mpid=$!
on_exit "kill -9 $mpid 2>/dev/null"
for i in $(seq 1 600); do
  [ -f "$T/mc/remote/state/c.json" ] && break   # the cycle's journal
  kill -0 $mpid 2>/dev/null || { cat "$T/err.m"; fail "migrate ended early"; }
  sleep 0.1
done
child=$(pgrep -P $mpid) || fail "no final cycle under way"
kill -STOP "$child"
blobtool break-lease state jobs/c/journal.json
kill -CONT "$child"
# Never a hydration here: had the cycle ended before the break, migrate
# would go on to the copy (its bridge).
for i in $(seq 1 600); do
  kill -0 $mpid 2>/dev/null || break
  if pgrep -f "url=.*/vms/c-disk0-migrated.vhd" >/dev/null; then
    kill -9 $mpid
    fail "the final cycle ended before the lease was broken"
  fi
  sleep 0.1
done
rc=0; wait $mpid || rc=$?
cat "$T/err.m"
[ $rc = 5 ] || fail "migrate exited $rc after losing the lease, not 5"
assert_contains "$T/err.m" 'job c: the lease on its state \(http[^ ]*/state/jobs/c/journal.json\) is lost'
assert_contains "$T/err.m" 'the final delta cycle failed \(azprep replicate exited 5'
blobtool list vms >"$T/vms.json"
[ "$(json_get "$T/vms.json" 'd.some(b => b.name === "c-disk0-migrated.vhd")')" = false ] ||
  fail "migrate copied after losing the lease"
kill $PROXY_PID

# A job removed between the check that it exists and the lock: the
# command's first write after the check (the lock's) is held at a proxy
# while the journal blob is deleted (as by a complete elsewhere; the
# manifests stay), then let through.
for job in gone1 gone2; do
  expect_exit 0 "$AZPREP" replicate --container vms --name $job \
    --state-container state --state "$T/w0" "$T/vm.raw"
done
check_vanished () {   # JOB CMD...
  local job=$1 pid rc=0 i
  shift
  rm -f "$T/release"
  faultproxy_start --match "PUT /$AZURITE_ACCOUNT/state/jobs/$job/journal.json" \
    --hold "$T/release"
  AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
    "$AZPREP" "$@" "${sc[@]}" $job >"$T/out.v" 2>"$T/err.v" &
  pid=$!
  for i in $(seq 1 300); do
    [ "$(json_get "$PROXY_STATS" 'd.held')" = 1 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  [ "$(json_get "$PROXY_STATS" 'd.held')" = 1 ] ||
    { kill $pid; cat "$T/err.v"; fail "$1 $job: no lock request after the check"; }
  blobtool delete state jobs/$job/journal.json
  touch "$T/release"
  wait $pid || rc=$?
  kill $PROXY_PID
  cat "$T/err.v"
  [ $rc = 1 ] || fail "$1 on a job removed before its lock exited $rc, not 1"
  assert_contains "$T/err.v" "no replication job '$job' in the state container http[^ ]*/state \\(no jobs/$job/journal.json there"
  blobtool list state >"$T/vanished.json"
  [ "$(json_get "$T/vanished.json" "d.some(b => b.name === 'jobs/$job/journal.json')")" = false ] ||
    fail "$1 on a job removed before its lock created its journal blob"
  [ "$(json_get "$T/vanished.json" "d.some(b => b.name === 'jobs/$job/disk0.manifest')")" = true ] ||
    fail "$1 on a removed job: its manifest went"
}
check_vanished gone1 migrate --source-shutdown "${net[@]}" --output-dir "$T"
check_vanished gone2 complete --force
blobtool list vms >"$T/vms.json"
[ "$(json_get "$T/vms.json" 'd.some(b => b.name === "gone2-disk0.vhd")')" = true ] ||
  fail "complete on a job removed before its lock deleted the replica"
"$AZPREP" status --all --json --state-container state >"$T/all.json" \
  2>"$T/all.err" || true
assert_not_contains "$T/all.err" 'no replication job'
[ "$(json_get "$T/all.json" 'd.some(j => /^gone/.test(j.name))')" = false ] ||
  fail "status --all lists a removed job"
[ ! -e "$none" ] || fail "a command wrote local state in $none"
echo ok
