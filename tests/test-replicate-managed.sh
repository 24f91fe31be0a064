#!/usr/bin/env bash
# A managed-disk style target: --to-file, a file holding a blob URL
# with a SAS (the blob exists with size V+512; only Put Page is
# allowed), no key anywhere: no recovery points, a delta that zeroes
# data writes zeros, verify.  The SAS signature and the key never
# appear in output, logs, the journal, or the command line or
# environment of azprep and its children; a SAS on --to is refused.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start
source tests/lib/managed.sh

blobtool create-page disks md-1 $((V + 512))
sas=$(blobtool sas-url disks md-1 rw)
sig=$(sas_sig "$sas")

# The SAS URL is in a file (as az disk grant-access prints it); no
# account credentials at all.  On the command line it is refused.
unset AZURE_STORAGE_CONNECTION_STRING
(umask 077; echo "$sas" > "$T/to")
expect_exit 2 "$AZPREP" replicate --to "$sas" --name md --state "$T/state" \
  "$img"
assert_contains "$T/err" 'to-file'
expect_exit 2 "$AZPREP" verify --to "$sas" --state "$T/state" md
assert_contains "$T/err" 'to-file'
[ ! -e "$T/state/md.json" ] || fail "a refused --to wrote a journal"
expect_exit_watched 0 "$AZPREP" replicate --to-file "$T/to" --name md \
  --state "$T/state" --json -v "$img"
cp "$T/out" "$T/rep.out"; cp "$T/err" "$T/rep.err"
assert_contains "$T/rep.out" '"kind":"initial"'
[ "$(json_get "$T/state/md.json" 'd.disks[0].managed')" = true ] || fail "not managed"
[ "$(json_get "$T/state/md.json" 'd.disks[0].snapshots.length')" = 0 ] ||
  fail "snapshots on a managed disk"

# A delta that zeroes data writes zeros (no clear on managed disks).
qemu-io -f qcow2 -c 'write -z 1M 1M' "$img" >/dev/null
expect_exit_watched 0 "$AZPREP" replicate --to-file "$T/to" --name md \
  --state "$T/state" --json "$img"
cp "$T/out" "$T/rep2.out"
expect_exit_watched 0 "$AZPREP" verify --to-file "$T/to" --state "$T/state" md
cp "$T/out" "$T/rep3.out"; cp "$T/err" "$T/rep3.err"

# Independent check with the SDK (account key from the connection string).
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$AZURITE_ENDPOINT")
qemu-img convert -O raw "$img" "$T/v.raw"
[ "$(blobtool digest disks md-1 - $V)" = "$(blobtool filedigest "$T/v.raw" $V)" ] ||
  fail "managed target differs from the source"

# Neither the key nor the SAS signature is ever shown or journaled.
grep -q "^== " "$T/procs" || fail "no process was watched"
assert_sas_absent "$sig" "$T"/rep* "$T/state"/* "$T/procs"
assert_secret_absent "$AZURITE_KEY" "the account key" "$T"/rep* "$T/state"/*
