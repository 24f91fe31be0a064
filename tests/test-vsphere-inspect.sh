#!/usr/bin/env bash
# inspect a simulated VM's disk in place, over vCenter's datastore
# endpoint (HTTPS with a self-signed CA), read-only, through the nbdkit
# bridge: the guest is recognised, far fewer bytes are fetched than the
# disk holds, and the disk on the datastore is unchanged.  One appliance.
source tests/functions.sh
source tests/vcsim.sh
requires curl nbdkit mkfs.ext4
nbdkit curl --dump-plugin >/dev/null 2>&1 || skip "nbdkit curl plugin missing"
nbdkit --filter=stats null --dump-plugin >/dev/null 2>&1 ||
  skip "nbdkit stats filter missing"

vcsim_ca "$T/ca"
vcsim_start "$T/ca/server.pem" "$T/ca/server.key"
case $VCSIM_URL in https://*) ;; *) fail "vcsim did not start with TLS";; esac
vcsim_test_disk "$T/disk.img"
vcsim_put "$T/disk.img" DC0_H0_VM0
before=$(sum_of "$T/disk.img")
size=$(stat -c %s "$T/disk.img")

# discover over TLS: verified with --cacert, refused without it, and
# --insecure only when asked.
expect_exit 0 "$AZPREP" discover --vcenter "https://$VCSIM_HOST" \
  --cacert "$T/ca/ca.pem" --vm DC0_H0_VM0 --vms-file "$T/vms.json"
assert_contains "$T/out" "uri: +vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0\\?cacert=$T/ca/ca.pem"
expect_exit 1 "$AZPREP" discover --vcenter "https://$VCSIM_HOST"
assert_contains "$T/err" "$VCSIM_HOST: RetrieveServiceContent: the server's TLS certificate is not trusted"
expect_exit 0 "$AZPREP" discover --vcenter "https://$VCSIM_HOST" --insecure \
  --vm DC0_H0_VM0
assert_contains "$T/out" "uri: +vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0\\?insecure=1"

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

# The URI discover wrote in the VM list.
uri=$(json_get "$T/vms.json" 'd[0].disks[0]')
AZPREP_NBDKIT_STATS="$T/stats" expect_exit 0 "$AZPREP" inspect --json "$uri"
cp "$T/out" "$T/inspect.json"
assert_contains "$T/err" 'DC0_H0_VM0: the VM is powered on'
[ "$(json_get "$T/inspect.json" 'd.os.distro')" = debian ] ||
  fail "guest not recognised"
[ "$(json_get "$T/inspect.json" 'd.os.hostname')" = vcsimguest ] ||
  fail "hostname"
[ "$(json_get "$T/inspect.json" 'd.disks[0].size')" = "$size" ] ||
  fail "disk size"

# Bytes fetched over HTTPS (nbdkit's stats): well under the disk size.
read_bytes=$(awk '/^read:/ { for (i = 1; i <= NF; i++)
  if ($i ~ /B,?$/ && $(i-1) ~ /^[0-9.]+$/) { print $(i-1), $i; exit } }' \
  "$T/stats")
echo "read over HTTPS: $read_bytes of $size bytes"
bytes=$(awk -v s="$read_bytes" 'BEGIN { split(s, a, " "); u = a[2];
  m = u ~ /^GiB/ ? 1073741824 : u ~ /^MiB/ ? 1048576 : u ~ /^KiB/ ? 1024 : 1;
  printf "%d", a[1] * m }')
[ "$bytes" -gt 0 ] || fail "no bytes read? $(cat "$T/stats")"
[ "$bytes" -lt $((size / 5)) ] || fail "read $bytes bytes of a $size-byte disk"

# Read-only: the disk on the datastore is unchanged.
curl -sS --cacert "$T/ca/ca.pem" -o "$T/after.img" \
  "$VCSIM_BASE/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0"
[ "$(sum_of "$T/after.img")" = "$before" ] || fail "the disk was modified"
# No bridge left behind.
! pgrep -f "nbdkit.*$VCSIM_HOST" >/dev/null || fail "nbdkit still running"
