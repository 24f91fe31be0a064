#!/usr/bin/env bash
# azprep replicate refuses a blob that it did not create (exit 3) and
# leaves it untouched (not leased).
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img
azurite_start

img=$T/vm.raw
small_source "$img"

blobtool create-page vms other-disk0.vhd 67109376
expect_exit 3 "$AZPREP" replicate --container vms --name other \
  --state "$T/state" "$img"
assert_contains "$T/err" 'not created by this azprep job'
[ "$(json_get <(blobtool props vms other-disk0.vhd) 'd.leaseState')" = available ] ||
  fail "the foreign blob was leased"
