#!/usr/bin/env bash
# A managed-disk style target: --to a blob URL with a SAS (the blob
# exists with size V+512; only Put Page is allowed), credentials from a
# file, no key anywhere.  The SAS signature and the key never appear in
# output, logs or the journal.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start

img=$T/vm.qcow2
V=$((256 * 1024 * 1024))
qemu-img create -q -f qcow2 "$img" 256M
qemu-io -f qcow2 -c 'write -P 7 1M 3M' -c 'write -P 8 200M 64k' "$img" >/dev/null
blobtool create-page disks md-1 $((V + 512))
sas=$(blobtool sas-url disks md-1 rw)
sig=$(node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).searchParams.get("sig")))' "$sas")

# The SAS URL is an argument (as az disk grant-access prints it);
# no account credentials at all.
unset AZURE_STORAGE_CONNECTION_STRING
expect_exit 0 "$AZPREP" replicate --to "$sas" --name md --state "$T/state" \
  --json -v "$img"
cp "$T/out" "$T/rep.out"; cp "$T/err" "$T/rep.err"
assert_contains "$T/rep.out" '"kind":"initial"'
[ "$(json_get "$T/state/md.json" 'd.disks[0].managed')" = true ] || fail "not managed"
[ "$(json_get "$T/state/md.json" 'd.disks[0].snapshots.length')" = 0 ] ||
  fail "snapshots on a managed disk"

# A delta that zeroes data writes zeros (no clear on managed disks).
qemu-io -f qcow2 -c 'write -z 1M 1M' "$img" >/dev/null
expect_exit 0 "$AZPREP" replicate --to "$sas" --name md --state "$T/state" \
  --json "$img"
cp "$T/out" "$T/rep2.out"
expect_exit 0 "$AZPREP" verify --to "$sas" --state "$T/state" md

# Independent check with the SDK (account key from the connection string).
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$AZURITE_ENDPOINT")
qemu-img convert -O raw "$img" "$T/v.raw"
[ "$(blobtool digest disks md-1 - $V)" = "$(blobtool filedigest "$T/v.raw" $V)" ] ||
  fail "managed target differs from the source"

# Size mismatch: refused with the size to create.
blobtool create-page disks md-small $((V))
sas2=$(blobtool sas-url disks md-small rw)
unset AZURE_STORAGE_CONNECTION_STRING
expect_exit 3 "$AZPREP" replicate --to "$sas2" --name md2 --state "$T/state" "$img"
assert_contains "$T/err" "upload-size-bytes $((V + 512))"
cp "$T/err" "$T/rep3.err"

# --container with only a container SAS, from a credentials file (a
# connection string with BlobEndpoint and SharedAccessSignature).
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$AZURITE_ENDPOINT")
blobtool create-page sasvms placeholder 512
csas=$(blobtool sas-url sasvms - racwd)
csig=$(node -e 'console.log(new URL(process.argv[1]).searchParams.get("sig"))' "$csas")
unset AZURE_STORAGE_CONNECTION_STRING
(umask 077; printf 'BlobEndpoint=%s;SharedAccessSignature=%s\n' \
   "$AZURITE_ENDPOINT" "${csas#*\?}" >"$T/creds")
expect_exit 0 "$AZPREP" replicate --container sasvms --name viasas \
  --credentials "$T/creds" --state "$T/state" -v --json --cycles 2 \
  --interval 0 "$img"
cp "$T/out" "$T/rep4.out"; cp "$T/err" "$T/rep4.err"
[ "$(grep -c '"event":"cycle"' "$T/rep4.out")" = 2 ] || fail "not 2 cycles"
# (The blob itself: Azurite refuses snapshot reads with a container SAS.)
expect_exit 0 "$AZPREP" verify --credentials "$T/creds" --state "$T/state" \
  viasas

# Neither the key nor a SAS signature is ever shown or journaled.
for f in "$T"/rep* "$T/state"/*; do
  ! grep -qF "$csig" "$f" || fail "the container SAS signature appears in $f"
  ! grep -qF "$sig" "$f" || fail "the SAS signature appears in $f"
  ! grep -qF "$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$sig")" "$f" ||
    fail "the encoded SAS signature appears in $f"
  ! grep -qF "$AZURITE_KEY" "$f" || fail "the account key appears in $f"
done
