#!/usr/bin/env bash
# test-migrate on a Windows guest (the Windows developer's phony Windows
# Server 2022 image): hydrated through the bridge, its SYSTEM hive in
# the copy blob differs from the replica's (read back with the SDK and
# ntfscat, no appliance) as the report's registry changes say, the
# replica is unchanged, the VM definition says Windows.
source tests/functions.sh
requires nbdkit sfdisk ntfscat node
img=$(require_image win2022-bios.img)
source tests/azurite.sh
mig () { node tests/node/migtool.js "$@"; }
[ -e build/nbdkit-azblob.so ] || skip "the nbdkit plugin is not built"
$AZPREP replicate --help >/dev/null 2>&1 || skip "azprep replicate is not built"
azurite_start
state=$T/state

cp --sparse=always "$img" "$T/src.img"
expect_exit 0 $AZPREP replicate --name win --container vms --state "$state" \
  --cycles 1 "$T/src.img"
replica_sum=$(mig sha256 vms win-disk0.vhd)

rc=0
$AZPREP test-migrate --state "$state" --vnet v --subnet s \
  --hybrid-benefit --output-dir "$T" win >"$T/out" 2>"$T/err" || rc=$?
cat "$T/out" "$T/err"
rep=$T/win-Test.report.json
if [ "$rc" = 3 ] && grep -q 'MiB free, the fixups need' "$T/err"; then
  # The phony images are tiny: azprep check's free-space rule refuses
  # them.  A refusal must leave the replica as it was, mark the copy
  # refused and write no VM definition.
  [ "$(json_get "$rep" d.status)" = refused ] || fail "refusal not reported"
  [ "$(mig meta vms win-disk0-test.vhd azprephydration)" = refused ] ||
    fail "the refused copy is not marked refused"
  [ ! -e "$T/win-Test.template.json" ] || fail "a refused VM got a template"
  [ "$(mig sha256 vms win-disk0.vhd)" = "$replica_sum" ] ||
    fail "the replica changed"
  skip "$(basename "$img") has too little free space for azprep check: \
refusal checked, the hydrated registry not read back"
fi
[ "$rc" = 0 ] || fail "test-migrate exited $rc"
json_get "$rep" d.status | grep -Eqx 'ready|warnings' || fail "status"
[ "$(json_get "$rep" 'd.changes.filter(c => c.kind == "registry").length')" -gt 0 ] ||
  fail "no registry change"
t=$T/win-Test.template.json
node tests/node/arm-validate.js "$t" "$T/win-Test.parameters.json" ||
  fail "template does not validate"
vm='d.resources.find(r => r.type == "Microsoft.Compute/virtualMachines")'
[ "$(json_get "$t" "$vm.properties.storageProfile.osDisk.osType")" = Windows ] ||
  fail "osType"
[ "$(json_get "$t" "$vm.properties.licenseType")" = Windows_Server ] ||
  fail "licenseType"
[ "$(mig sha256 vms win-disk0.vhd)" = "$replica_sum" ] ||
  fail "the replica changed"

# The SYSTEM hive, from the copy and from the replica.
mig download vms win-disk0-test.vhd "$T/copy.vhd"
mig download vms win-disk0.vhd "$T/replica.vhd"
hive () {   # hive DISK OUT: the SYSTEM hive of whichever partition has it
  local p
  for p in $(sfdisk -J "$1" | json_get /dev/stdin \
      'd.partitiontable.partitions.map(p => p.start + ":" + p.size).join(" ")'); do
    dd if="$1" of="$T/part" bs=512 skip="${p%:*}" count="${p#*:}" status=none
    ntfscat -f "$T/part" /Windows/System32/config/SYSTEM >"$2" 2>/dev/null &&
      [ -s "$2" ] && return 0
  done
  return 1
}
hive "$T/copy.vhd" "$T/SYSTEM.copy" || fail "no SYSTEM hive in the copy"
hive "$T/replica.vhd" "$T/SYSTEM.replica" || fail "no SYSTEM hive in the replica"
cmp -s "$T/SYSTEM.copy" "$T/SYSTEM.replica" &&
  fail "the copy's SYSTEM hive was not changed"
read_b=$(json_get "$rep" 'd.disks[0].bridge.bytes_read')
disk=$(json_get "$rep" 'd.disks[0].blob_size')
echo "bridge read $read_b of $disk"
[ "$read_b" -lt "$disk" ] || fail "the bridge read the whole disk"
echo ok
