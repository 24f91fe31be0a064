# Sourced by the migration tests (after tests/lib/functions.sh and
# tests/lib/azurite.sh): the independent reader and partition read-back.
# shellcheck shell=bash

# migrate_setup [--oauth LIFETIME] [ARGS]: what the migration tests
# need built (the nbdkit plugin, azprep replicate), then Azurite started
# (azurite_start ARGS; with --oauth, Entra ID sign-in and no key for
# azprep: oauth_start LIFETIME ARGS, tests/lib/oauth.sh).
migrate_setup () {
  [ -e build/nbdkit-azblob.so ] || skip "the nbdkit plugin is not built"
  $AZPREP replicate --help >/dev/null 2>&1 ||
    skip "azprep replicate is not built"
  if [ "${1:-}" = --oauth ]; then
    shift
    oauth_start "$@"
  else
    azurite_start "$@"
  fi
}

# mig ARGS...: tests/tools/node/migtool.js (@azure/storage-blob, no azprep code).
mig () {
  AZURE_STORAGE_CONNECTION_STRING=${AZURITE_CONNECTION_STRING:-${AZURE_STORAGE_CONNECTION_STRING:-}} \
    node "$PWD/tests/tools/node/migtool.js" "$@"
}

# blob_partition CONTAINER BLOB N OUT: download the blob with the SDK
# and write its partition N (from 1, MBR or GPT) to OUT, sparse, for
# debugfs or ntfscat: a read-back without an appliance.
blob_partition () {
  local disk=$T/blob_partition.vhd start size
  mig download "$1" "$2" "$disk"
  start=$(sfdisk -J "$disk" | json_get /dev/stdin "d.partitiontable.partitions[$(($3 - 1))].start")
  size=$(sfdisk -J "$disk" | json_get /dev/stdin "d.partitiontable.partitions[$(($3 - 1))].size")
  dd if="$disk" of="$4" bs=512 skip="$start" count="$size" conv=sparse \
    status=none
  rm -f "$disk"
}
