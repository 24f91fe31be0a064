#!/usr/bin/env bash
# A first run of replicate that fails after creating a blob (here: disk
# 1's name is taken by a foreign blob, refused after disk 0's blob was
# created and leased) leaves a journal: once the cause is gone, the same
# command carries on with the blob this job created instead of refusing
# it.  A blob of another job of the same name (another state directory)
# is still refused.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img
azurite_start

small_source "$T/a.raw"
small_source "$T/b.raw"
blobtool create-page vms vm-disk1.vhd 67109376

expect_exit 3 "$AZPREP" replicate --container vms --name vm \
  --state "$T/state" "$T/a.raw" "$T/b.raw"
assert_contains "$T/err" 'vm-disk1.vhd: the blob exists and was not created'
[ -e "$T/state/vm.json" ] || fail "no journal after the first run created a blob"
[ "$(json_get <(blobtool props vms vm-disk0.vhd) 'd.metadata.azprep_job')" = vm ] ||
  fail "disk 0's blob was not created by the first run"

# The foreign blob removed: the rerun completes, with both blobs.
blobtool delete vms vm-disk1.vhd
expect_exit 0 "$AZPREP" replicate --container vms --name vm \
  --state "$T/state" "$T/a.raw" "$T/b.raw"
expect_exit 0 "$AZPREP" verify --state "$T/state" vm

# The same job name from another state directory: not this job's blobs.
expect_exit 3 "$AZPREP" replicate --container vms --name vm \
  --state "$T/state2" "$T/a.raw" "$T/b.raw"
assert_contains "$T/err" 'not created by this azprep job'
