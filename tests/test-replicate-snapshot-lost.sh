#!/usr/bin/env bash
# A lost reply to Snapshot Blob strands no snapshot and loses no
# recovery point (issue 16 F8).  Through a proxy that forwards the
# snapshot request and closes the connection without the reply:
# - every retry refused: the snapshot the lost request took (found by
#   its metadata) is the cycle's recovery point;
# - the retry answered: the first snapshot is an orphan, deleted;
# - the run fails after its snapshot (Set Blob Metadata refused): the
#   rerun's cycle end deletes the orphan.
# Each time the blob has exactly the snapshots the journal lists, plus
# a snapshot someone else took of it, which is never deleted.
source tests/lib/functions.sh
source tests/lib/azurite.sh
azurite_start
# One proxy port for the whole test: the journal names the blob by URL.
pport=$(_free_port)
export AZURITE_CONNECTION_STRING=$AZURE_STORAGE_CONNECTION_STRING  # blobtool
export AZURE_STORAGE_CONNECTION_STRING=$(connection_string \
  "http://127.0.0.1:$pport/$AZURITE_ACCOUNT")

small_source "$T/a.raw"
rep () { "$AZPREP" replicate --container vms --name vm --state "$T/state" \
           --keep 2 "$T/a.raw"; }
via_proxy () {
  faultproxy_stop
  faultproxy_start --port "$pport" "$@"
  expect_exit "$want" rep
  faultproxy_stop
  [ "$(json_get "$PROXY_STATS" 'd.lost + d.then')" -ge 1 ] ||
    fail "the proxy injected no fault ($*)"
  faultproxy_start --port "$pport"
}
# points N: the journal lists N points, and the blob has exactly these
# snapshots besides the foreign one ($foreign).
points () {
  blobtool list vms >"$T/list.json"
  node -e '
    const fs = require("fs");
    const [list, journal, n, foreign] = process.argv.slice(1);
    const j = JSON.parse(fs.readFileSync(journal, "utf8")).disks[0].snapshots;
    const s = JSON.parse(fs.readFileSync(list, "utf8"))
      .filter((b) => b.name === "vm-disk0.vhd" && b.snapshot)
      .map((b) => b.snapshot);
    if (foreign && !s.includes(foreign)) {
      console.error("the foreign snapshot was deleted"); process.exit(1);
    }
    const ours = s.filter((x) => x !== foreign).sort();
    if (j.length !== Number(n) || JSON.stringify(ours) !== JSON.stringify([...j].sort())) {
      console.error("journal " + JSON.stringify(j) + ", blob " + JSON.stringify(ours));
      process.exit(1);
    }' "$T/list.json" "$T/state/vm.json" "$1" "${foreign:-}" ||
    fail "$2: the blob's snapshots are not the journal's"
}

faultproxy_start --port "$pport"
# 1. The reply lost, every retry refused: the lost request's snapshot
#    is the initial copy's recovery point.
want=0 via_proxy --match comp=snapshot --lose 1 --then 409
assert_contains "$T/err" 'its reply was lost): it is the recovery point'
points 1 "reply lost, retries refused"
[ "$(json_get <(blobtool props vms vm-disk0.vhd) 'd.metadata.snap')" = \
  "$(json_get "$T/state/vm.json" 'd.disks[0].snapshots[0]')" ] ||
  fail "the blob's metadata does not name the adopted recovery point"
expect_exit 0 "$AZPREP" verify --state "$T/state" vm

# Someone else's snapshot of the blob (it copies the blob's metadata,
# this job's name and id included): never this job's to delete.
foreign=$(blobtool snapshot vms vm-disk0.vhd)

# 2. The reply lost, the retry answered: the first snapshot is deleted.
printf 'more' | dd of="$T/a.raw" bs=1 seek=8388608 conv=notrunc status=none
want=0 via_proxy --match comp=snapshot --lose 1
points 2 "reply lost, retry answered"

# 3. The run fails after its snapshot; the rerun ends the cycle with its
#    own, and the orphan is deleted; --keep 2 still holds.
printf 'again' | dd of="$T/a.raw" bs=1 seek=16777216 conv=notrunc status=none
want=1 via_proxy --match comp=metadata --lose 0 --then 409
[ "$(json_get "$T/state/vm.json" 'd.disks[0].open')" = true ] ||
  fail "the failed cycle is not open in the journal"
expect_exit 0 rep
points 2 "run failed after its snapshot, then rerun"
expect_exit 0 "$AZPREP" verify --state "$T/state" vm
