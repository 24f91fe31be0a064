#!/usr/bin/env bash
# vCenter over HTTPS with a self-signed CA: discover verifies it with
# --cacert, refuses it without, skips verification only with --insecure
# (and writes no insecure=1 into the URIs); insecure=1 or http=1 in a
# URI is refused unless --vsphere-insecure / --vsphere-allow-http is on
# the command line, which alone skips verification, with a warning;
# a disk is read in place through the nbdkit bridge over HTTPS (bytes
# compared over NBD); the refusals of inspect and fix that need no
# appliance (untrusted certificate, unknown VM, disk index, wrong
# password, writing).  The appliance path is test-vsphere-check.sh.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
requires curl nbdkit mkfs.ext4
nbdkit curl --dump-plugin >/dev/null 2>&1 || skip "nbdkit curl plugin missing"

vcsim_ca "$T/ca"
vcsim_start "$T/ca/server.pem" "$T/ca/server.key"
case $VCSIM_URL in https://*) ;; *) fail "vcsim did not start with TLS";; esac
vcsim_test_disk "$T/disk.img"
vcsim_put "$T/disk.img" DC0_H0_VM0
before=$(sum_of "$T/disk.img")

# discover over TLS: verified with --cacert, refused without it, and
# --insecure only when asked.
expect_exit 0 "$AZPREP" discover --vcenter "https://$VCSIM_HOST" \
  --cacert "$T/ca/ca.pem" --vm DC0_H0_VM0 --vms-file "$T/vms.json"
assert_contains "$T/out" "uri: +vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0\\?cacert=$T/ca/ca.pem"
expect_exit 1 "$AZPREP" discover --vcenter "https://$VCSIM_HOST"
assert_contains "$T/err" "$VCSIM_HOST: RetrieveServiceContent: the server's TLS certificate is not trusted"
expect_exit 0 "$AZPREP" discover --vcenter "https://$VCSIM_HOST" --insecure \
  --vm DC0_H0_VM0
assert_contains "$T/out" "uri: +vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0\$"
assert_contains "$T/err" 'TLS certificate not verified'

# A URI cannot lower security: refused, naming the flag.
expect_exit 1 "$AZPREP" inspect "vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0?insecure=1"
assert_contains "$T/err" 'insecure=1 in a URI is refused.*--vsphere-insecure'
expect_exit 1 "$AZPREP" inspect "vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0?http=1"
assert_contains "$T/err" 'http=1 in a URI is refused.*--vsphere-allow-http'
# The flag alone skips verification, with a warning (no CA given: the
# login works and the unknown VM is what fails).
expect_exit 1 "$AZPREP" inspect --vsphere-insecure \
  "vsphere://$VCSIM_HOST/DC0/nope/0"
assert_contains "$T/err" 'TLS certificate not verified \(--vsphere-insecure\)'
assert_contains "$T/err" "no VM named 'nope' in datacenter DC0"

# Without the CA: TLS verification fails, clearly (no appliance).
expect_exit 1 "$AZPREP" inspect "vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0"
assert_contains "$T/err" 'TLS certificate is not trusted'
# Unknown VM and a disk index out of range (no appliance either).
expect_exit 1 "$AZPREP" inspect \
  "vsphere://$VCSIM_HOST/DC0/nope/0?cacert=$T/ca/ca.pem"
assert_contains "$T/err" "no VM named 'nope' in datacenter DC0"
expect_exit 1 "$AZPREP" inspect \
  "vsphere://$VCSIM_HOST/DC0_H0_VM0/3?cacert=$T/ca/ca.pem"
assert_contains "$T/err" 'VM DC0_H0_VM0 has 1 disk'
# Wrong password through a URI.
VSPHERE_PASSWORD=wrong expect_exit 1 "$AZPREP" inspect \
  "vsphere://$VCSIM_HOST/DC0_H0_VM0/0?cacert=$T/ca/ca.pem"
assert_contains "$T/err" 'login failed: wrong user name or password'
# fix would write: refused.
expect_exit 1 "$AZPREP" fix \
  "vsphere://$VCSIM_HOST/DC0_H0_VM0/0?cacert=$T/ca/ca.pem"
assert_contains "$T/err" 'read-only'

# The URI discover wrote in the VM list: read in place over HTTPS, the
# bytes are the image's, nothing is written.
uri=$(json_get "$T/vms.json" 'd[0].disks[0]')
make -s "$BUILD/vsphere-cycle" >/dev/null || fail "cannot build vsphere-cycle"
expect_exit 0 "$BUILD/vsphere-cycle" --open "$uri" "$T/disk.img"
assert_contains "$T/out" '^ok$'
# (The running VM's disk is locked: the test looks at the datastore.)
vcsim_get DC0_H0_VM0 "$T/after.img"
[ "$(sum_of "$T/after.img")" = "$before" ] || fail "the disk was modified"
# No bridge left behind.
! pgrep -f "nbdkit.*$VCSIM_HOST" >/dev/null || fail "nbdkit still running"
# --vsphere-insecure reaches the bridge too (nbdkit sslverify=false).
expect_exit 0 "$BUILD/vsphere-cycle" --vsphere-insecure --open \
  "vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0?insecure=1" "$T/disk.img"
assert_contains "$T/out" '^ok$'
