#!/usr/bin/env bash
# azprep check --shard I/N and --vm-index I check a part of a fleet;
# --merge puts the parts' JSON reports together: the JSON, JUnit and
# HTML reports are byte for byte those of one machine checking the
# whole fleet, whatever the order of the shard files.  A shard that is
# missing leaves its VMs "not checked"; a file that is not a report, a
# VM in two shards or one not in the fleet is an error.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
source tests/lib/check-fleet.sh
requires xmllint qemu-img
shard_fleet
F=$T/shards.json

expect_exit 1 "$AZPREP" check --vms "$F" --json --junit "$T/one.xml" \
  --html "$T/one.html"
cp "$T/out" "$T/one.json"
[ "$(json 'd.vms.length')" = 6 ] || fail "the whole fleet: not 6 VMs"

# Three shards: every third VM from I.
for i in 0 1 2; do
  rc=0
  "$AZPREP" check --vms "$F" --json --shard $i/3 >"$T/s$i.json" 2>/dev/null ||
    rc=$?
  [ $rc = 1 ] || [ $rc = 3 ] || fail "shard $i: exit $rc"
done
[ "$(json_get "$T/s1.json" 'd.vms.map(v => v.name).join(",")')" = \
  'fine,vm-<script>&"x"' ] || fail "shard 1/3: not VMs 1 and 4"
expect_exit 1 "$AZPREP" check --merge --vms "$F" --json \
  --junit "$T/m.xml" --html "$T/m.html" "$T/s2.json" "$T/s0.json" "$T/s1.json"
cmp "$T/one.json" "$T/out" || fail "merged JSON differs from one machine's"
cmp "$T/one.xml" "$T/m.xml" || fail "merged JUnit differs"
cmp "$T/one.html" "$T/m.html" || fail "merged HTML differs"
# The text report and the exit code too.
expect_exit 1 "$AZPREP" check --vms "$F"
cp "$T/out" "$T/one.txt"
expect_exit 1 "$AZPREP" check --merge --vms "$F" "$T"/s[012].json
cmp "$T/one.txt" "$T/out" || fail "merged text report differs"

# --vm-index: one VM; per-VM reports merge the same way.
for i in 0 1 2 3 4 5; do
  "$AZPREP" check --vms "$F" --json --vm-index $i >"$T/v$i.json" \
    2>/dev/null || true
done
[ "$(json_get "$T/v5.json" 'd.vms.map(v => v.name).join(",")')" = efi ] ||
  fail "--vm-index 5 is not efi"
expect_exit 1 "$AZPREP" check --merge --vms "$F" --json "$T"/v[0-5].json
cmp "$T/one.json" "$T/out" || fail "--vm-index reports merged differ"
expect_exit 2 "$AZPREP" check --vms "$F" --vm-index 6
assert_contains "$T/err" "past the fleet's last VM"

# Without --vms: the files' order.
expect_exit 1 "$AZPREP" check --merge --json "$T/s1.json" "$T/s0.json"
[ "$(json 'd.vms.map(v => v.name).join(",")')" = \
  'fine,vm-<script>&"x",broken,vm-missing' ] || fail "merge order"

# A shard missing: its VMs are not checked (an error result each).
expect_exit 1 "$AZPREP" check --merge --vms "$F" --json "$T/s0.json" \
  "$T/s2.json"
[ "$(json 'd.vms.filter(v => v.verdict == "error" && /in no shard/.test(v.error)).map(v => v.name).join(",")')" = \
  'fine,vm-<script>&"x"' ] || fail "the missing shard's VMs"
node tests/tools/check-schema.js "$T/out" >/dev/null ||
  fail "schema: a merge with a shard missing"

# Hostile inputs: errors naming the file and what is wrong.
expect_exit 1 "$AZPREP" check --merge "$T/s0.json" "$T/s0.json"
assert_contains "$T/err" "VM broken is in two reports"
printf '{"schema": 1, "vms": [{"name": "x"}]}' > "$T/bad1.json"
expect_exit 1 "$AZPREP" check --merge "$T/bad1.json"
assert_contains "$T/err" "bad1.json: a VM without a name or a known verdict"
printf '[1, 2]' > "$T/bad2.json"
expect_exit 1 "$AZPREP" check --merge "$T/bad2.json"
assert_contains "$T/err" "bad2.json: not a report of 'azprep check --json'"
head -c 300 "$T/s0.json" > "$T/cut.json"
expect_exit 1 "$AZPREP" check --merge "$T/cut.json"
assert_contains "$T/err" "cut.json: not a report"
printf '[{"name": "other", "disks": ["x"]}]' > "$T/other.json"
expect_exit 1 "$AZPREP" check --merge --vms "$T/other.json" "$T/s0.json"
assert_contains "$T/err" "in a report but not in the fleet"
expect_exit 1 "$AZPREP" check --merge "$T/nonexistent.json"
assert_contains "$T/err" "nonexistent.json: No such file"

# Usage errors.
expect_exit 2 "$AZPREP" check --merge
expect_exit 2 "$AZPREP" check --merge --shard 0/2 "$T/s0.json"
expect_exit 2 "$AZPREP" check --vms "$F" --shard 2/2
expect_exit 2 "$AZPREP" check --vms "$F" --shard 1
expect_exit 2 "$AZPREP" check --vms "$F" --shard 0/1 --vm-index 0
expect_exit 2 "$AZPREP" check --shard 0/2 disk.img
echo "check --shard/--vm-index/--merge: same reports as one machine"
