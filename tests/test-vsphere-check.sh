#!/usr/bin/env bash
# check --vms with the VM list discover writes: the simulated VM's disk
# is checked in place over the datastore endpoint (libguestfs on the
# nbdkit bridge, as inspect does), read-only, fetching a small part of
# the disk.  One appliance.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
requires nbdkit curl mkfs.ext4
nbdkit --filter=stats null --dump-plugin >/dev/null 2>&1 ||
  skip "nbdkit stats filter missing"
vcsim_start
vcsim_test_disk "$T/disk.img"
vcsim_put "$T/disk.img" DC0_C0_RP0_VM0
size=$(stat -c %s "$T/disk.img")
before=$(sum_of "$T/disk.img")

expect_exit 0 "$AZPREP" discover --vcenter "$VCSIM_BASE" \
  --vm DC0_C0_RP0_VM0 --vms-file "$T/vms.json"
rc=0
# -v: the per-VM messages (the temporary snapshot) reach stderr.
AZPREP_NBDKIT_STATS="$T/stats" "$AZPREP" check -v --json \
  --vsphere-allow-http --vms "$T/vms.json" \
  >"$T/check.json" 2>"$T/err" || rc=$?
cat "$T/err"
# Ready, ready with warnings or not ready: checked, in any case.
case $rc in 0|3|4) ;; *) cat "$T/check.json"; fail "check exited $rc";; esac
json_get "$T/check.json" 'JSON.stringify(d)' | grep -q DC0_C0_RP0_VM0 ||
  fail "the report does not name the VM"
json_get "$T/check.json" 'JSON.stringify(d)' | grep -qi debian ||
  fail "the guest was not recognised"

read=$(awk '/^read:/ { for (i = 2; i < NF; i++) if ($(i+1) ~ /^(B|KiB|MiB|GiB),?$/) {
  u = $(i+1); m = u ~ /^GiB/ ? 1073741824 : u ~ /^MiB/ ? 1048576 : u ~ /^KiB/ ? 1024 : 1;
  printf "%d", $i * m; exit } }' "$T/stats")
echo "check fetched $read bytes of $size"
[ -n "$read" ] && [ "$read" -gt 0 ] || fail "no bytes read? $(cat "$T/stats")"
[ "$read" -lt $((size / 5)) ] || fail "check read $read bytes of $size"

# The VM runs: its disk was read from a temporary snapshot, removed
# after, and never live (the simulator refuses such a read, as ESXi does).
assert_contains "$T/err" 'the VM is running: reading its disk from the temporary snapshot azprep-cycle-'
assert_contains "$T/err" 'snapshot azprep-cycle-[0-9]+ removed'
[ "$(vcsim_stats locked_refusals)" = 0 ] || fail "check read the live disk"
# Read-only: the disk on the datastore is unchanged.
vcsim_get DC0_C0_RP0_VM0 "$T/after.img"
[ "$(sum_of "$T/after.img")" = "$before" ] || fail "the disk was modified"
! pgrep -f "nbdkit.*$VCSIM_HOST" >/dev/null || fail "nbdkit still running"
