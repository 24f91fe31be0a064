#!/usr/bin/env bash
# azprep replicate takes no credential options on the command line
# (where ps would show them): --account-key is a usage error.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img

img=$T/vm.raw
small_source "$img"

expect_exit 2 "$AZPREP" replicate --container vms --account-key xyz "$img"
