#!/usr/bin/env bash
# Replication cycles on a simulated VM (tests/tools/vsphere-cycle.c): stale
# azprep snapshots removed by name, one snapshot created and removed per
# cycle, the frozen disk served read-only over NBD with the image's
# bytes, a VM with its own snapshot refused, a final cycle of a running
# VM refused without --source-shutdown.  No appliance.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
requires nbdkit curl mkfs.ext4
make -s "$BUILD/vsphere-cycle" >/dev/null ||
  fail "cannot build $BUILD/vsphere-cycle"
vcsim_start
vcsim_test_disk "$T/disk.img"
vcsim_put "$T/disk.img" DC0_H0_VM1
# Through a proxy that records cookies: the datastore requests nbdkit
# makes must carry the session cookie of a login.
vsphere_proxy_start pass "$T/cookies" "the proxy"
uri="vsphere://127.0.0.1:$port/DC0/DC0_H0_VM1/0?http=1"

# Read in place (what inspect and check do), by datastore path too: a
# running VM's disk is locked (no VM named, so no snapshot to read from):
# refused, naming the lock; powered off, it is read.
dspath="vsphere://127.0.0.1:$port/DC0/%5BLocalDS_0%5D%20DC0_H0_VM1/disk1.vmdk?http=1"
expect_exit 1 "$BUILD/vsphere-cycle" --vsphere-allow-http --open "$dspath" "$T/disk.img"
assert_contains "$T/err" 'the host refuses the read \(HTTP 500: .*locked.*DC0_H0_VM1.*\): ESXi holds the disk.s lock while its VM runs without a snapshot'
vcsim_ctl "power?vm=DC0_H0_VM1&state=off"
expect_exit 0 "$BUILD/vsphere-cycle" --vsphere-allow-http --open "$dspath" "$T/disk.img"
assert_contains "$T/out" '^ok$'
vcsim_ctl "power?vm=DC0_H0_VM1&state=on"
vcsim_ctl stats-reset
expect_exit 0 "$BUILD/vsphere-cycle" --vsphere-allow-http --open "$uri" "$T/disk.img"
[ "$(vcsim_stats locked_refusals)" = 0 ] || fail "the live disk was read"
# A running VM's disk is read from a temporary snapshot, removed after.
assert_contains "$T/err" 'the VM is running: reading its disk from the temporary snapshot azprep-cycle-[0-9]+'
assert_contains "$T/err" 'snapshot azprep-cycle-[0-9]+ removed'

# Killed while it reads from its temporary snapshot (SIGKILL: no cleanup
# of its own): its guard removes the snapshot.
"$BUILD/vsphere-cycle" --vsphere-allow-http --open-hold "$uri" "$T/disk.img" >"$T/hold" 2>&1 &
holder=$!
for i in $(seq 300); do grep -q holding "$T/hold" && break; sleep 0.1; done
grep -q holding "$T/hold" || { cat "$T/hold"; fail "--open-hold did not open"; }
kill -9 $holder
wait $holder 2>/dev/null || true
for i in $(seq 100); do
  "$AZPREP" discover --vcenter "$VCSIM_BASE" --vm DC0_H0_VM1 --json \
    >"$T/d.json" || fail "discover"
  [ -z "$(json_get "$T/d.json" 'd.vms[0].snapshots.map(s => s.name).join()')" ] &&
    break
  sleep 0.2
done
[ -z "$(json_get "$T/d.json" 'd.vms[0].snapshots.map(s => s.name).join()')" ] ||
  fail "the temporary snapshot outlived its killed reader"

expect_exit 0 "$BUILD/vsphere-cycle" --vsphere-allow-http "$uri" "$T/disk.img"
cat "$T/out" "$T/err"
assert_contains "$T/out" '^ok$'
assert_contains "$T/err" 'removing snapshot azprep-cycle-1 left by an interrupted run'
assert_contains "$T/err" 'snapshot azprep-cycle-[0-9]+ created'
assert_contains "$T/err" 'snapshot azprep-cycle-[0-9]+ removed'
assert_contains "$T/err" 'the VM has 1 snapshot of its own'
assert_contains "$T/err" 'the VM is poweredOn: a final cycle'
assert_contains "$T/err" '\-\-source-shutdown says the VM is shut down, but vCenter reports it poweredOn'

grep '^folder ' "$T/cookies" | sort | uniq -c
grep -q '^folder vmware_soap_session=.' "$T/cookies" ||
  fail "datastore requests carried no session cookie"
while read -r kind cookie; do
  [ "$kind" = folder ] || continue
  grep -qxF "set $cookie" "$T/cookies" ||
    fail "a datastore request carried '$cookie', not a login's cookie"
done < "$T/cookies"
