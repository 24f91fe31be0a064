#!/usr/bin/env bash
# The migration's life cycle against Azurite, on the phony Ubuntu 20.04
# guest (images/phony-linux: two kernels, initramfs-tools and GRUB
# stubs that log their arguments, so every Linux fixup runs and
# succeeds in a small disk).  What is tested is the life cycle; the
# fixups' results on a real guest are test-migrate-linux.sh's.
#  1. test-migrate killed (kill -9) during hydration (its appliance
#     running on the bridge): nbdkit and qemu end with it, the replica is unchanged byte for byte, the copy is marked
#     running (never deployable), no VM definition;
#  2. test-migrate failing on a storage error (its copy's lease broken
#     under the bridge, Put Page answers 412): exit 1, "the replica is
#     untouched", report status error, the copy still marked running
#     (never done: the run lost its lease, so it leaves the copy alone),
#     replica unchanged;
#  3. the same command again: starts over from the recovery point and
#     succeeds (the clear state to retry from);
#  4. replication goes on while the test copy exists (a delta cycle:
#     new recovery point, the test copy unchanged);
#  5. cleanup-test leaves only the replica and its recovery points;
#  6. migrate refuses without --source-shutdown, creating nothing;
#  7. migrate --source-shutdown: final delta cycle, final recovery
#     point, hydrated DISK-migrated.vhd (the initramfs tool's log read
#     back from the blob), production VM definition;
#  8. complete: only the migrated copy is left, its lease broken (said
#     so: migrate's lease id is not kept, so it cannot be released), the
#     journal is gone; complete refuses before a migration.
# The job's state is in a state container (--state-container) and the
# local --state directory is wiped before every command, as if each ran
# on another host: nothing is read from local files.  migrate holds the
# job's lease for its whole run (a replicate meanwhile is refused, exit
# 6), its final cycle runs under it; complete deletes the job's state
# blobs (status --all no longer lists it).  The local state directory's
# path is test-migrate-linux's and -windows's (test-migrate),
# test-migrate-state-container's (complete, host-side).
# Two full hydrations (3 and 7), two cut short (1 and 2).
source tests/lib/functions.sh
requires nbdkit node pgrep sfdisk debugfs
img=$(require_image phony-ubuntu2004.img)
source tests/lib/azurite.sh
source tests/lib/migrate-functions.sh
migrate_setup
state=$T/state
sc=(--state-container state --state "$state")
wipe () { rm -rf "$state"; }
# cj EXPR: json_get on the journal in the state container.
cj () {
  blobtool cat state jobs/deb/journal.json >"$T/cj.json"
  json_get "$T/cj.json" "$1"
}
net=(--vnet v --subnet s --location westeurope)
kernels=(5.4.0-150-generic 5.4.0-148-generic)

cp --sparse=always "$img" "$T/src.img"
expect_exit 0 $AZPREP replicate --name deb --container vms "${sc[@]}" \
  --cycles 1 "$T/src.img"
replica_sum=$(mig sha256 vms deb-disk0.vhd)
unchanged () {   # unchanged WHEN: the replica is as replicated
  [ "$(mig sha256 vms deb-disk0.vhd)" = "$replica_sum" ] ||
    fail "$1: the replica changed"
}

# complete refuses before any migration, and deletes nothing.
wipe
expect_exit 3 $AZPREP complete "${sc[@]}" deb
assert_contains "$T/err" 'run azprep migrate first'
[ "$(cj d.name)" = deb ] || fail "complete removed the journal"

# bridge_up [SUFFIX]: the bridge serves the copy (default the test copy).
bridge_up () {
  pgrep -f "url=$AZURITE_ENDPOINT/vms/deb-disk0-${1:-test}.vhd" >/dev/null
}
# wait_bridge PID [SUFFIX]: until the bridge serves the copy (the
# hydration is under way).
wait_bridge () {
  local i
  for i in $(seq 1 600); do
    bridge_up "${2:-test}" && return 0
    kill -0 "$1" 2>/dev/null || fail "azprep ended before the bridge started"
    sleep 0.1
  done
  fail "the bridge did not start"
}
# The bridge's socket: the appliance's qemu names it.
bridge_sock () {
  pgrep -af "url=$AZURITE_ENDPOINT/vms/deb-disk0-test.vhd" |
    grep -o -- '-U [^ ]*' | head -1 | cut -d' ' -f2
}
appliance_up () { pgrep -f "qemu.*$1" >/dev/null; }

# 1. kill -9 during hydration, once the appliance (qemu) is running on
#    the bridge: nbdkit and qemu end with azprep.
wipe
$AZPREP test-migrate "${sc[@]}" "${net[@]}" --output-dir "$T" deb \
  >"$T/tm1.out" 2>&1 &
pid=$!
wait_bridge $pid
sock=$(bridge_sock)
[ -n "$sock" ] || fail "no bridge socket on nbdkit's command line"
for i in $(seq 1 1200); do
  appliance_up "$sock" && break
  kill -0 $pid 2>/dev/null || { cat "$T/tm1.out"; fail "azprep ended before the appliance ran"; }
  sleep 0.1
done
appliance_up "$sock" || fail "the appliance did not start on the bridge"
kill -9 $pid
wait $pid 2>/dev/null || true
for i in $(seq 1 300); do
  bridge_up || appliance_up "$sock" || break
  sleep 0.1
done
bridge_up && fail "nbdkit outlived azprep"
appliance_up "$sock" && fail "the appliance outlived azprep"
[ "$(mig meta vms deb-disk0-test.vhd azprephydration)" = running ] ||
  fail "the killed run's copy is not marked running"
[ ! -e "$T/deb-Test.template.json" ] || fail "a killed run wrote a template"
unchanged "kill -9"

# 2. A storage error during hydration: the copy's lease is broken under
#    the bridge, its writes fail (412); the copy held by the killed run
#    is replaced first.
wipe
$AZPREP test-migrate "${sc[@]}" "${net[@]}" --output-dir "$T" deb \
  >"$T/tm2.out" 2>"$T/tm2.err" &
pid=$!
wait_bridge $pid
mig break-lease vms deb-disk0-test.vhd
rc=0; wait $pid || rc=$?
[ "$rc" = 1 ] || { cat "$T/tm2.out" "$T/tm2.err"; fail "test-migrate exited $rc after a storage error"; }
assert_contains "$T/tm2.err" 'deb-disk0-test.vhd'
assert_contains "$T/tm2.err" 'failed; the replica is untouched; run the same command again'
cat "$T/tm2.err"
# The run lost its lease: it leaves the copy alone (another run may own
# it now), still marked running, never done.
[ "$(mig meta vms deb-disk0-test.vhd azprephydration)" = running ] ||
  fail "the failed copy is not left marked running"
[ "$(json_get "$T/deb-Test.report.json" d.status)" = error ] ||
  fail "the report does not say error"
[ ! -e "$T/deb-Test.template.json" ] || fail "a failed run wrote a template"
unchanged "storage error"

# 3. The same command again: a fresh copy of the recovery point, ready.
rp1=$(cj 'd.disks[0].snapshots.slice(-1)[0]')
wipe
expect_exit 0 $AZPREP test-migrate "${sc[@]}" "${net[@]}" \
  --output-dir "$T" deb
cat "$T/out"
json_get "$T/deb-Test.report.json" d.status | grep -Eqx 'ready|warnings' ||
  fail "the retry's report status"
[ "$(json_get "$T/deb-Test.report.json" 'd.disks[0].recovery_point')" = "$rp1" ] ||
  fail "the retry did not use the recovery point"
[ "$(mig meta vms deb-disk0-test.vhd azprephydration)" = done ] ||
  fail "the retried copy is not done"
[ -e "$T/deb-Test.template.json" ] || fail "the retry wrote no template"
unchanged "test-migrate"

# 4. Replication goes on while the test copy exists.
copy_sum=$(mig sha256 vms deb-disk0-test.vhd)
printf 'delta' | dd of="$T/src.img" bs=1 conv=notrunc status=none \
  seek=$(( $(stat -c %s "$T/src.img") - 4096 ))
wipe
expect_exit 0 $AZPREP replicate --name deb --container vms "${sc[@]}" \
  --cycles 1 "$T/src.img"
[ "$(cj 'd.disks[0].snapshots.length')" -ge 2 ] ||
  fail "the delta cycle made no new recovery point"
[ "$(mig sha256 vms deb-disk0-test.vhd)" = "$copy_sum" ] ||
  fail "the delta cycle changed the test copy"
replica_sum=$(mig sha256 vms deb-disk0.vhd)

# 5. cleanup-test: the replica and its recovery points, nothing else.
wipe
expect_exit 0 $AZPREP cleanup-test "${sc[@]}" deb
assert_contains "$T/out" 'deleted .*/vms/deb-disk0-test.vhd'
mig names vms >"$T/names"
assert_not_contains "$T/names" '^deb-disk0-test'
[ "$(grep -cvE '^deb-disk0\.vhd(@.*)?$' "$T/names")" = 0 ] ||
  { cat "$T/names"; fail "cleanup-test left more than the replica"; }
[ "$(grep -c '^deb-disk0\.vhd@' "$T/names")" -ge 2 ] ||
  { cat "$T/names"; fail "cleanup-test removed recovery points"; }
unchanged "cleanup-test"

# 6. migrate without the shutdown flag: refused, nothing created.
wipe
expect_exit 3 $AZPREP migrate "${sc[@]}" "${net[@]}" --output-dir "$T" deb
assert_contains "$T/err" 'refused.*--source-shutdown'
mig names vms >"$T/names2"
cmp -s "$T/names" "$T/names2" || fail "a refused migrate changed the container"
[ ! -e "$T/deb.report.json" ] || fail "a refused migrate wrote a report"

# 7. migrate: final cycle, final point, hydrated migrated copy.
#    It holds the job's lease all along: a replicate from elsewhere
#    during the hydration is refused, naming migrate.
cycles_before=$(cj 'd.disks[0].cycles')
points_before=$(cj 'd.disks[0].snapshots.length')
wipe
$AZPREP migrate --source-shutdown "${sc[@]}" "${net[@]}" --output-dir "$T" \
  deb >"$T/mig.out" 2>"$T/mig.err" &
pid=$!
wait_bridge $pid migrated
expect_exit 6 $AZPREP replicate --name deb --container vms \
  --state-container state --state "$T/other" --cycles 1 "$T/src.img"
assert_contains "$T/err" "replicate deb: refused: the job is held by worker $(hostname)/$pid "
rc=0; wait $pid || rc=$?
cat "$T/mig.out"
[ $rc = 0 ] || { cat "$T/mig.err"; fail "migrate exited $rc"; }
cp "$T/mig.out" "$T/out"
[ "$(cj 'd.disks[0].cycles')" -gt "$cycles_before" ] ||
  fail "no final delta cycle"
[ "$(cj 'd.disks[0].snapshots.length')" -gt "$points_before" ] ||
  fail "no final recovery point"
last=$(cj 'd.disks[0].snapshots.slice(-1)[0]')
# The final cycle wrote the replica under migrate's lease and let go of
# it; migrate let go of the job.
mig props vms deb-disk0.vhd >"$T/props"
assert_contains "$T/props" '"leaseState":"available"'
expect_exit 0 $AZPREP status "${sc[@]}" deb
assert_contains "$T/out" "worker $(hostname)/$pid \\(last held it; the job is free\\)"
[ "$(json_get "$T/deb.report.json" 'd.disks[0].recovery_point')" = "$last" ] ||
  fail "not the final recovery point"
json_get "$T/deb.report.json" d.status | grep -Eqx 'ready|warnings' || fail "status"
[ "$(mig meta vms deb-disk0-migrated.vhd azprephydration)" = done ] ||
  fail "the migrated copy is not done"
node tests/tools/node/arm-validate.js "$T/deb.template.json" "$T/deb.parameters.json" ||
  fail "production template does not validate"
[ "$(json_get "$T/deb.template.json" \
  'd.resources.find(r => r.type == "Microsoft.Compute/virtualMachines").name')" = deb ] ||
  fail "the production VM is not named deb"
# The fixups ran on the migrated copy: the guest's initramfs tool was
# called once per kernel there (its log, read from the blob).
blob_partition vms deb-disk0-migrated.vhd 1 "$T/m-root"
debugfs -R "cat /var/log/azprep-stub.log" "$T/m-root" >"$T/stub.log" 2>/dev/null
for k in "${kernels[@]}"; do
  assert_contains "$T/stub.log" "^update-initramfs '-u' '-k' '$k'$" "initramfs $k"
done
assert_contains "$T/stub.log" '^update-grub$' "update-grub"
migrated_sum=$(mig sha256 vms deb-disk0-migrated.vhd)

# 8. complete: the migrated copy and nothing else.
wipe
expect_exit 0 $AZPREP complete "${sc[@]}" deb
assert_contains "$T/out" 'Install the Azure VM agent'
assert_contains "$T/out" 'Azure Backup'
mig names vms >"$T/names"
[ "$(cat "$T/names")" = deb-disk0-migrated.vhd ] ||
  { cat "$T/names"; fail "complete left more than the migrated copy"; }
[ "$(mig sha256 vms deb-disk0-migrated.vhd)" = "$migrated_sum" ] ||
  fail "complete changed the migrated copy"
assert_contains "$T/out" '^kept .*/vms/deb-disk0-migrated\.vhd \(its lease broken\)$'
mig props vms deb-disk0-migrated.vhd >"$T/props"
assert_contains "$T/props" '"leaseState":"broken"'
blobtool list state >"$T/state.json"
[ "$(json_get "$T/state.json" 'd.length')" = 0 ] ||
  { cat "$T/state.json"; fail "the job's state is still in the container"; }
expect_exit 0 $AZPREP status --all "${sc[@]}"
assert_contains "$T/out" "no replication jobs in"
echo ok
