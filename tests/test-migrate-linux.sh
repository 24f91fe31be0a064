#!/usr/bin/env bash
# test-migrate on the Debian guest against Azurite: the copy of the
# recovery point is hydrated where it lies (the fixups' changes read back
# from the copy blob with the SDK and debugfs), the replica and its
# recovery point are unchanged byte for byte and no request wrote to
# them (Azurite's request log), the bridge moved far less than the disk.
# One appliance (the hydration).  The life cycle around it (replication
# going on, cleanup-test, migrate, complete, failures) is
# test-migrate-lifecycle.sh's.
# All of it signs in with Microsoft Entra ID (tests/lib/oauth.sh: a
# service principal, tokens that live 20 s, Azurite over HTTPS with
# --oauth basic): no storage key in azprep's environment, the bridge
# renews its token through a file during the hydration, and no token
# reaches the output, the report, the journal or a command line.
source tests/lib/functions.sh
requires nbdkit qemu-img debugfs sfdisk node
img=$(require_image debian-bios.img)
source tests/lib/azurite.sh
source tests/lib/migrate-functions.sh
source tests/lib/oauth.sh
migrate_setup --oauth 20 --log "$T/azurite-requests.log"
state=$T/state
outs=$T/outs
mkdir -p "$outs"

cp --sparse=always "$img" "$T/src.img"
expect_exit 0 $AZPREP replicate --name deb --container vms --state "$state" \
  --cacert "$CACERT" --cycles 1 "$T/src.img"
cp "$T/out" "$outs/replicate.out"; cp "$T/err" "$outs/replicate.err"
rp1=$(json_get "$state/deb.json" 'd.disks[0].snapshots.slice(-1)[0]')
replica_sum=$(mig sha256 vms deb-disk0.vhd)
rp1_sum=$(mig sha256 vms deb-disk0.vhd "$rp1")

# No network: refused before touching anything.
expect_exit 2 $AZPREP test-migrate --state "$state" --cacert "$CACERT" deb
assert_contains "$T/err" -- '--vnet and --subnet'

log_mark=$(wc -l < "$T/azurite-requests.log")
# In the background, to look at the command lines (azprep's, nbdkit's)
# while the bridge serves.
tokens_before=$(token_count spn_secret)
$AZPREP test-migrate --state "$state" --cacert "$CACERT" --vnet v \
  --subnet s --location westeurope --output-dir "$T" deb >"$T/out" 2>"$T/err" &
tm=$!
while kill -0 "$tm" 2>/dev/null; do
  assert_no_token_argv
  grep -q 'token-file=' "$T/cmdlines" && seen_bridge=1
  sleep 5
done
wait "$tm" || { cat "$T/out" "$T/err"; fail "test-migrate failed"; }
cat "$T/out"
cp "$T/out" "$outs/test-migrate.out"; cp "$T/err" "$outs/test-migrate.err"
[ -n "${seen_bridge:-}" ] || fail "no nbdkit with token-file= seen"
echo "tokens issued during test-migrate: $(($(token_count spn_secret) - tokens_before))"
[ "$(token_count spn_secret)" -gt $((tokens_before + 1)) ] ||
  fail "the token was not renewed during the hydration"
expect_exit 0 $AZPREP verify --state "$state" --cacert "$CACERT" deb
cp "$T/out" "$outs/verify.out"; cp "$T/err" "$outs/verify.err"
rep=$T/deb-Test.report.json
assert_contains "$outs/test-migrate.out" "recovery point $rp1"
json_get "$rep" d.status | grep -Eqx 'ready|warnings' || fail "report status"
[ "$(json_get "$rep" 'd.disks[0].recovery_point')" = "$rp1" ] || fail "point"
[ "$(json_get "$rep" 'd.disks[0].copy')" = "$AZURITE_ENDPOINT/vms/deb-disk0-test.vhd" ] ||
  fail "copy name"
node tests/tools/node/arm-validate.js "$T/deb-Test.template.json" \
  "$T/deb-Test.parameters.json" || fail "template does not validate"
[ "$(json_get "$T/deb-Test.template.json" \
  'd.resources.find(r => r.type == "Microsoft.Compute/virtualMachines").name')" = deb-Test ] ||
  fail "VM name"
nchanges=$(json_get "$rep" 'd.changes.length')
[ "$nchanges" -gt 0 ] || fail "no fixup changed anything"

# The replica and its recovery point: unchanged, byte for byte.
[ "$(mig sha256 vms deb-disk0.vhd)" = "$replica_sum" ] ||
  fail "the replica changed"
# The recovery point, byte for byte.  Azurite (3.35 at least) shares a
# page blob's range list between the source and the destination of Copy
# Blob (LokiBlobMetadataStore.startCopyFromURL copies pageRangesInOrder
# by reference, and Put Page edits that list in place), so there a write
# to the copy shows through the snapshot it was copied from: an Azurite
# bug, reproduced by migtool.js snapshot-isolation with the SDK alone.
# Real Azure Storage copies.  Where the storage isolates, the point is
# compared; where it does not, the point must read as the copy does
# (that sharing and nothing else), and the request log below proves
# azprep never wrote to the replica or its snapshots.
isolation=$(mig snapshot-isolation probe)
echo "snapshot isolation of this storage: $isolation"
if [ "$isolation" = isolated ]; then
  [ "$(mig sha256 vms deb-disk0.vhd "$rp1")" = "$rp1_sum" ] ||
    fail "the recovery point changed"
else
  [ "$(mig sha256 vms deb-disk0.vhd "$rp1")" = "$(mig sha256 vms deb-disk0-test.vhd)" ] ||
    fail "the recovery point changed, and not as Azurite's shared copy"
fi
# Every write request of test-migrate (Azurite's log: method, URL) went
# to the copy: none to the replica or a recovery point (a snapshot
# cannot be written, but a bug could target the base blob).
sed -n "$((log_mark + 1)),\$p" "$T/azurite-requests.log" |
  grep -o 'RequestMethod=[A-Z]* RequestURL=[^ ]*' |
  grep -v 'RequestMethod=\(GET\|HEAD\)' > "$T/writes"
grep -q 'deb-disk0-test\.vhd?comp=page' "$T/writes" ||
  fail "no Put Page to the copy in Azurite's log"
if grep -E '/vms/deb-disk0\.vhd([?]|$)' "$T/writes"; then
  fail "test-migrate sent a write request to the replica"
fi

# The changes are in the copy blob: read its root filesystem with
# debugfs from an SDK download, compare each changed file with the
# replica's.
blob_partition vms deb-disk0-test.vhd 1 "$T/copy-root"
blob_partition vms deb-disk0.vhd 1 "$T/replica-root"
checked=0
for f in $(json_get "$rep" \
    'd.changes.filter(c => c.kind == "file" && c.after !== null).map(c => c.object).join(" ")'); do
  debugfs -R "cat $f" "$T/copy-root" >"$T/after" 2>/dev/null
  debugfs -R "cat $f" "$T/replica-root" >"$T/before" 2>/dev/null || true
  [ -s "$T/after" ] || fail "$f: not in the copy blob"
  cmp -s "$T/after" "$T/before" && fail "$f: the copy has the replica's version"
  checked=$((checked + 1))
done
[ "$checked" -gt 0 ] || fail "no changed file to read back"
echo "read back $checked changed files from the copy blob"

# Bytes moved by the bridge: far below the disk.
read_b=$(json_get "$rep" 'd.disks[0].bridge.bytes_read')
wrote=$(json_get "$rep" 'd.disks[0].bridge.bytes_written')
disk=$(json_get "$rep" 'd.disks[0].blob_size')
echo "bridge: read $read_b, wrote $wrote, disk $disk"
echo "bridge: $(json_get "$rep" 'd.disks[0].bridge.client_writes') guest" \
  "writes in $(json_get "$rep" 'd.disks[0].bridge.writes') Put Pages;" \
  "Azurite logged $(grep -c 'deb-disk0-test\.vhd?comp=page' "$T/writes")" \
  "Put Page requests (clears included)"
[ $((read_b + wrote)) -lt $((disk / 4)) ] ||
  fail "the bridge moved $((read_b + wrote)) bytes of a $disk-byte disk"
[ "$(json_get "$rep" 'd.disks[0].bridge.writes')" -gt 0 ] || fail "no writes"
assert_no_token "$outs" "$state" "$T"/deb-Test.*

echo ok
