#!/usr/bin/env bash
# test-migrate on a Windows guest (the phony Windows Server 2022 BIOS
# image, images/windows): hydrated through the bridge, the copy blob's
# SYSTEM hive (read back with the SDK, ntfscat and hivexget, no
# appliance) holds the report's registry changes and the replica's does
# not, the replica is unchanged byte for byte, the bridge moved far less
# than the disk, the VM definition says Windows.  One appliance.
source tests/lib/functions.sh
requires nbdkit sfdisk ntfscat hivexget node
img=$(require_image windows/win2022-bios.img)
source tests/lib/azurite.sh
source tests/lib/migrate-functions.sh
migrate_setup
state=$T/state

cp --sparse=always "$img" "$T/src.img"
expect_exit 0 $AZPREP replicate --name win --container vms --state "$state" \
  --cycles 1 "$T/src.img"
replica_sum=$(mig sha256 vms win-disk0.vhd)

expect_exit 0 $AZPREP test-migrate --state "$state" --vnet v --subnet s \
  --location westeurope --hybrid-benefit --output-dir "$T" win
cat "$T/out" "$T/err"
rep=$T/win-Test.report.json
json_get "$rep" d.status | grep -Eqx 'ready|warnings' || fail "status"
[ "$(json_get "$rep" 'd.guest.os.type')" = windows ] || fail "not inspected as Windows"
t=$T/win-Test.template.json
node tests/tools/node/arm-validate.js "$t" "$T/win-Test.parameters.json" ||
  fail "template does not validate"
vm='d.resources.find(r => r.type == "Microsoft.Compute/virtualMachines")'
[ "$(json_get "$t" "$vm.properties.storageProfile.osDisk.osType")" = Windows ] ||
  fail "osType"
[ "$(json_get "$t" "$vm.properties.licenseType")" = Windows_Server ] ||
  fail "licenseType"
[ "$(mig sha256 vms win-disk0.vhd)" = "$replica_sum" ] ||
  fail "the replica changed"

# The SYSTEM hive of C: (partition 2), from the copy and the replica.
blob_partition vms win-disk0-test.vhd 2 "$T/copy-c"
blob_partition vms win-disk0.vhd 2 "$T/replica-c"
ntfscat -f "$T/copy-c" /Windows/System32/config/SYSTEM >"$T/SYSTEM.copy" ||
  fail "no SYSTEM hive in the copy"
ntfscat -f "$T/replica-c" /Windows/System32/config/SYSTEM >"$T/SYSTEM.replica" ||
  fail "no SYSTEM hive in the replica"
# Every SYSTEM value the report says it set, as it says, in the copy
# only ("HKLM\SYSTEM\KEY\NAME", the last change of each; after: a
# number, a string, or multi-strings joined by ";"; binary values,
# "xx,xx,...", are left out).
json_get "$rep" '[...new Map(d.changes.filter(c => c.kind == "registry" &&
      c.object.startsWith("HKLM\\SYSTEM\\"))
    .map(c => [c.object, c.after]))]
  .filter(([o, a]) => a !== null && !/^[0-9a-f]{2}(,[0-9a-f]{2})+$/.test(a))
  .map(([o, a]) => o.slice(12) + "\t" + a).join("\n")' >"$T/set"
cat "$T/set"
value () {   # value HIVE KEY NAME: multi-strings joined by ";", DWORDs
  local v       # unsigned (hivexget prints them signed)
  v=$(hivexget "$1" "\\$2" "$3" 2>/dev/null | sed '/^$/d' | paste -sd';')
  [[ $v =~ ^-[0-9]+$ ]] && v=$((v + 4294967296))
  echo "$v"
}
checked=0
while IFS=$'\t' read -r obj after; do
  [ -n "$obj" ] || continue
  key=${obj%\\*} name=${obj##*\\}
  got=$(value "$T/SYSTEM.copy" "$key" "$name")
  [ "$got" = "$after" ] || fail "$obj: \"$got\" in the copy, the report says \"$after\""
  [ "$(value "$T/SYSTEM.replica" "$key" "$name")" != "$after" ] ||
    fail "$obj: the replica has it too"
  checked=$((checked + 1))
done <"$T/set"
[ "$checked" -gt 0 ] || fail "no SYSTEM value change to read back"
echo "read back $checked registry values from the copy blob"
# storvsc boots: Start 0 (boot) in the copy, 3 in the replica.
cs=$(value "$T/SYSTEM.copy" Select Current)
[ "$(value "$T/SYSTEM.copy" "ControlSet00$cs\\Services\\storvsc" Start)" = 0 ] ||
  fail "storvsc is not a boot driver in the copy"
[ "$(value "$T/SYSTEM.replica" "ControlSet00$cs\\Services\\storvsc" Start)" = 3 ] ||
  fail "the replica's storvsc changed"

# Bytes moved by the bridge: far below the disk.
read_b=$(json_get "$rep" 'd.disks[0].bridge.bytes_read')
wrote=$(json_get "$rep" 'd.disks[0].bridge.bytes_written')
disk=$(json_get "$rep" 'd.disks[0].blob_size')
echo "bridge: read $read_b, wrote $wrote, disk $disk"
[ "$(json_get "$rep" 'd.disks[0].bridge.writes')" -gt 0 ] || fail "no writes"
[ $((read_b + wrote)) -lt $((disk / 4)) ] ||
  fail "the bridge moved $((read_b + wrote)) bytes of a $disk-byte disk"
echo ok
