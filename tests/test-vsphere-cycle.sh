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

# Read in place (what inspect and check do), by datastore path too.
expect_exit 0 "$BUILD/vsphere-cycle" --vsphere-allow-http --open \
  "vsphere://127.0.0.1:$port/DC0/%5BLocalDS_0%5D%20DC0_H0_VM1/disk1.vmdk?http=1" \
  "$T/disk.img"
assert_contains "$T/out" '^ok$'
expect_exit 0 "$BUILD/vsphere-cycle" --vsphere-allow-http --open "$uri" "$T/disk.img"
assert_contains "$T/err" 'DC0_H0_VM1: the VM is powered on'

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
