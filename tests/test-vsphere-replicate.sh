#!/usr/bin/env bash
# replicate from a vsphere:// disk (the simulator's datastore endpoint) to
# a real Azurite: each cycle creates a VM snapshot, reads the frozen disk
# in place and removes the snapshot; the blob holds the disk's bytes; a
# second cycle after the disk changed sends a delta; no snapshot is left.
# No appliance.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
source tests/lib/azurite.sh
requires nbdkit curl mkfs.ext4
vcsim_start
azurite_start
vcsim_test_disk "$T/disk.img"
vcsim_put "$T/disk.img" DC0_H0_VM1
size=$(stat -c %s "$T/disk.img")
uri="vsphere://$VCSIM_HOST/DC0/DC0_H0_VM1/0?http=1&quiesce=1"
rep () { "$AZPREP" replicate --container vms --name vm1 --state "$T/state" \
           --vsphere-allow-http --json "$uri"; }
snapshots () {
  "$AZPREP" discover --vcenter "$VCSIM_BASE" --vm DC0_H0_VM1 --json \
    >"$T/d.json" || fail "discover"
  json_get "$T/d.json" 'd.vms[0].snapshots.map(s => s.name).join(",")'
}

expect_exit 0 rep
cat "$T/err"
assert_contains "$T/err" 'DC0_H0_VM1: snapshot azprep-cycle-[0-9]+ created'
assert_contains "$T/err" 'DC0_H0_VM1: snapshot azprep-cycle-[0-9]+ removed'
assert_contains "$T/out" '"event":"cycle"'
[ -z "$(snapshots)" ] || fail "snapshots left: $(snapshots)"
want=$(blobtool filedigest "$T/disk.img" "$size")
[ "$(blobtool digest vms vm1-disk0.vhd - "$size")" = "$want" ] ||
  fail "the blob does not hold the disk's bytes"

# The disk changes (a new file in the guest): the next cycle sends a
# delta, from a new snapshot, removed again.
echo changed > "$T/disk-root/etc/motd"
mkfs.ext4 -q -F -d "$T/disk-root" "$T/disk.img" || fail "mkfs"
vcsim_put "$T/disk.img" DC0_H0_VM1
expect_exit 0 rep
cat "$T/err"
[ "$(grep -c 'snapshot azprep-cycle-[0-9]* created' "$T/err")" = 1 ] ||
  fail "not one snapshot for the cycle"
assert_contains "$T/err" 'snapshot azprep-cycle-[0-9]+ removed'
sent=$(grep '"event":"cycle"' "$T/out" | tail -1 | node -e '
  let s = ""; process.stdin.on("data", d => s += d)
    .on("end", () => console.log(JSON.parse(s).bytes_sent))')
echo "delta: sent $sent bytes of $size"
[ "$sent" -lt $((size / 2)) ] || fail "the delta sent $sent bytes"
want=$(blobtool filedigest "$T/disk.img" "$size")
[ "$(blobtool digest vms vm1-disk0.vhd - "$size")" = "$want" ] ||
  fail "the blob does not hold the changed disk"
[ -z "$(snapshots)" ] || fail "snapshots left: $(snapshots)"

# migrate's final cycle: vCenter says the VM is still on, whatever
# --source-shutdown claims: refused before anything is sent.
expect_exit 3 "$AZPREP" migrate --source-shutdown --state "$T/state" \
  --vsphere-allow-http --vnet v --subnet s --location westeurope \
  --output-dir "$T" vm1
assert_contains "$T/err" \
  'DC0_H0_VM1: --source-shutdown says the VM is shut down, but vCenter reports it poweredOn'
[ -z "$(snapshots)" ] || fail "snapshots left: $(snapshots)"
