#!/usr/bin/env bash
# azprep replicate takes no credential options on the command line
# (where ps would show them): --account-key is a usage error.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img

img=$T/vm.raw
small_source "$img"

expect_exit 2 "$AZPREP" replicate --container vms --account-key xyz "$img"

# A state directory writable by others (or owned by another user) is
# refused: its journals decide what is read and written.
mkdir -m 0777 "$T/open-state"
chmod 0777 "$T/open-state"
expect_exit 1 "$AZPREP" replicate --container vms --name x \
  --state "$T/open-state" "$img"
assert_contains "$T/err" 'state directory .*open-state: refused: writable by group or others'
expect_exit 1 "$AZPREP" status --state "$T/open-state" x
assert_contains "$T/err" 'writable by group or others'
