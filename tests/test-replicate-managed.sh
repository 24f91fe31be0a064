#!/usr/bin/env bash
# A managed-disk style target: --to-file, a file holding a blob URL
# with a SAS (the blob exists with size V+512; only Put Page is
# allowed), no key anywhere: no recovery points, a delta that zeroes
# data writes zeros, verify.  No Content-MD5 on Put Page there (as
# azcopy); the end of the upload (az disk revoke-access) is said;
# test-migrate says to revoke before a snapshot; a SAS that expires
# during the copy ends with a message saying to get a new grant-access
# URL, and the rerun with it resumes.  The SAS signature and the key
# never appear in output, logs, the journal, or the command line or
# environment of azprep and its children; a SAS on --to is refused.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start --log "$T/azurite-requests.log"
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
assert_contains "$T/rep.out" '"event":"managed-upload","disk":0,"next":"az disk revoke-access"'
assert_contains "$T/rep.err" "end the upload with 'az disk revoke-access --name DISK --resource-group GROUP'"
grep -q 'md-1?comp=page' "$T/azurite-requests.log" || fail "no Put Page logged"
if grep -i 'md-1?comp=page' "$T/azurite-requests.log" | grep -qi 'content-md5'; then
  fail "Content-MD5 sent to the managed disk"
fi
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

# test-migrate: no recovery point on a managed disk; revoke first.
expect_exit 1 "$AZPREP" test-migrate --state "$T/state" --vnet v --subnet s \
  --location westeurope md
assert_contains "$T/err" "End the upload first \('az disk revoke-access'; a disk in upload state cannot be snapshotted"

# A SAS that expires during the copy (a slow link: every reply 1.5 s
# late, one request at a time).
blobtool create-page disks md-2 $((V + 512))
faultproxy_start --slow 1500
short=$(blobtool sas-url disks md-2 rw 6)
short=${short/127.0.0.1:$AZURITE_PORT/127.0.0.1:$PROXY_PORT}
(umask 077; echo "$short" > "$T/to-short")
expect_exit 1 env -u AZURE_STORAGE_CONNECTION_STRING "$AZPREP" replicate \
  --to-file "$T/to-short" --name md2 --state "$T/state" --parallel 1 "$img"
cp "$T/err" "$T/rep-expired.err"
assert_contains "$T/err" 'PUT: HTTP 403 [A-Za-z]+: the SAS expired at .*Z: get a new one'
assert_not_contains "$T/err" 'GET: HTTP 403'
assert_contains "$T/err" "grant-access --access-level Write' URL.*run the same command again with the new URL"
[ "$(json_get "$PROXY_STATS" d.requests)" -ge 3 ] || fail "it expired before the copy"
faultproxy_stop
fresh=$(blobtool sas-url disks md-2 rw)
(umask 077; echo "$fresh" > "$T/to-fresh")
expect_exit 0 env -u AZURE_STORAGE_CONNECTION_STRING "$AZPREP" replicate \
  --to-file "$T/to-fresh" --name md2 --state "$T/state" "$img"
cp "$T/out" "$T/rep-resumed.out"; cp "$T/err" "$T/rep-resumed.err"
[ "$(blobtool digest disks md-2 - $V)" = "$(blobtool filedigest "$T/v.raw" $V)" ] ||
  fail "the resumed copy differs from the source"
assert_sas_absent "$(sas_sig "$short")" "$T"/rep* "$T/state"/*
assert_sas_absent "$(sas_sig "$fresh")" "$T"/rep* "$T/state"/*
echo ok
