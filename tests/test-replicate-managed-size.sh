#!/usr/bin/env bash
# A managed-disk style target (--to-file: a blob URL with a SAS) of the wrong
# size: refused (exit 3) with the size to create.  Neither the SAS
# signature nor the key is shown.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start
source tests/lib/managed.sh

blobtool create-page disks md-small $((V))
sas2=$(blobtool sas-url disks md-small rw)
unset AZURE_STORAGE_CONNECTION_STRING
(umask 077; echo "$sas2" > "$T/to")
expect_exit 3 "$AZPREP" replicate --to-file "$T/to" --name md2 --state "$T/state" "$img"
assert_contains "$T/err" "upload-size-bytes $((V + 512))"
cp "$T/err" "$T/rep3.err"

assert_sas_absent "$(sas_sig "$sas2")" "$T/rep3.err"
assert_secret_absent "$AZURITE_KEY" "the account key" "$T/rep3.err"
