#!/usr/bin/env bash
# discover against VMware's vCenter simulator: text, JSON, the VM list
# file for check --vms, --vm filtering, wrong password, unknown VM,
# credentials file; the password never shows up in any output.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
requires curl node
vcsim_start

export VSPHERE_PASSWORD=pass
# Plain http must be asked for: the simulator here speaks http.
expect_exit 0 "$AZPREP" discover --vcenter "$VCSIM_BASE"
assert_contains "$T/out" '^DC0_H0_VM0$'
assert_contains "$T/out" '^DC0_C0_RP0_VM1$'
assert_contains "$T/out" 'power state: +poweredOn'
assert_contains "$T/out" 'firmware: +bios'
assert_contains "$T/out" 'disk 0: +1\.0 MiB thin flat on pvscsi, persistent'
assert_contains "$T/out" 'file: +\[LocalDS_0\] DC0_H0_VM0/disk1.vmdk'
assert_contains "$T/out" 'datastore: +LocalDS_0 \([0-9.]+ GiB free\)'
assert_contains "$T/out" "uri: +vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0\\?http=1"
assert_contains "$T/out" 'nic 0: +e1000 00:0c:29:[0-9a-f:]+ on DC0_DVPG0'
assert_contains "$T/out" 'host: +DC0_H0 \(datacenter DC0\)'
assert_not_contains "$T/out" 'pass'
assert_not_contains "$T/err" 'pass'

# JSON, one VM, and the VM list file.
expect_exit 0 "$AZPREP" discover --vcenter "$VCSIM_BASE" --json \
  --vm DC0_H0_VM1 --vms-file "$T/vms.json"
cp "$T/out" "$T/d.json"
[ "$(json_get "$T/d.json" 'd.vms.length')" = 1 ] || fail "--vm did not filter"
[ "$(json_get "$T/d.json" 'd.vms[0].name')" = DC0_H0_VM1 ] || fail "name"
[ "$(json_get "$T/d.json" 'd.vms[0].cpus')" = 1 ] || fail "cpus"
[ "$(json_get "$T/d.json" 'd.vms[0].memory_mb')" = 32 ] || fail "memory"
[ "$(json_get "$T/d.json" 'd.vms[0].cbt')" = false ] || fail "cbt"
[ "$(json_get "$T/d.json" 'd.vms[0].disks[0].capacity')" = 1048576 ] ||
  fail "capacity"
[ "$(json_get "$T/d.json" 'd.vms[0].disks[0].controller')" = pvscsi ] ||
  fail "controller"
[ "$(json_get "$T/d.json" 'd.vms[0].disks[0].provisioning')" = thin ] ||
  fail "provisioning"
json_get "$T/d.json" 'd.vms[0].instance_uuid' | grep -Eq '^[0-9a-f-]{36}$' ||
  fail "instance uuid"
json_get "$T/d.json" 'd.vms[0].disks[0].datastore_free' | grep -Eq '^[0-9]+$' ||
  fail "datastore free space"
[ "$(json_get "$T/vms.json" 'd.length')" = 1 ] || fail "vms file length"
[ "$(json_get "$T/vms.json" 'd[0].name')" = DC0_H0_VM1 ] || fail "vms name"
[ "$(json_get "$T/vms.json" 'd[0].disks[0]')" = \
  "vsphere://$VCSIM_HOST/DC0/DC0_H0_VM1/0?http=1" ] || fail "vms disk URI"
[ "$(json_get "$T/vms.json" 'Object.keys(d[0]).sort().join(",")')" = \
  disks,format,host,name ] || fail "vms file keys"
[ "$(json_get "$T/vms.json" 'd[0].host')" = DC0_H0 ] || fail "vms file host"

# Credentials from a file instead of the environment.
printf 'user=user\npassword=pass\n' > "$T/creds"
chmod 600 "$T/creds"
VSPHERE_USER= VSPHERE_PASSWORD= expect_exit 0 "$AZPREP" discover \
  --vcenter "$VCSIM_BASE" --credentials "$T/creds" --vm DC0_H0_VM0
assert_contains "$T/out" '^DC0_H0_VM0$'

# No credentials at all.
VSPHERE_USER= VSPHERE_PASSWORD= expect_exit 1 "$AZPREP" discover \
  --vcenter "$VCSIM_BASE"
assert_contains "$T/err" 'set VSPHERE_USER and VSPHERE_PASSWORD'

# Wrong password: a clear message, the password nowhere.
VSPHERE_PASSWORD='s3cret-wrong' expect_exit 1 "$AZPREP" discover \
  --vcenter "$VCSIM_BASE"
assert_contains "$T/err" "$VCSIM_HOST: login failed: wrong user name or password"
assert_not_contains "$T/err" 's3cret'
assert_not_contains "$T/out" 's3cret'

# Unknown VM.
expect_exit 1 "$AZPREP" discover --vcenter "$VCSIM_BASE" --vm no-such-vm
assert_contains "$T/err" "$VCSIM_HOST: no VM named 'no-such-vm'"

# https against a plain http server: an error, no silent downgrade.
expect_exit 1 "$AZPREP" discover --vcenter "https://$VCSIM_HOST"
# Credentials in the URL are refused.
expect_exit 1 "$AZPREP" discover --vcenter "http://user:pass@$VCSIM_HOST"
assert_contains "$T/err" 'credentials do not belong in the URL'
assert_not_contains "$T/err" 'pass'
expect_exit 2 "$AZPREP" discover
expect_exit 0 "$AZPREP" discover --help
assert_contains "$T/out" 'VSPHERE_USER'
