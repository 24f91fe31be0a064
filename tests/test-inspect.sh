#!/usr/bin/env bash
# azprep inspect on every test guest that has an expected file
# (tests/expected/inspect-NAME.json, disks listed one per line in
# tests/expected/inspect-NAME.disks, relative to $IMAGES): the JSON,
# normalized by tests/tools/normalize-inspect.js, must be what is checked in.
# The text output of the same run is checked for its main lines.
source tests/lib/functions.sh
requires node

ran=0
for exp in tests/expected/inspect-*.json; do
  name=$(basename "$exp" .json)
  disks=()
  missing=
  while read -r d; do
    [ -n "$d" ] || continue
    [ -e "$IMAGES/$d" ] || missing=$d
    disks+=("$IMAGES/$d")
  done < "tests/expected/$name.disks"
  if [ -n "$missing" ]; then
    not_checked "$name: $missing not built, not checked"
    continue
  fi
  sums=$(for d in "${disks[@]}"; do sum_of "$d"; done)
  expect_exit 0 "$AZPREP" inspect --json "${disks[@]}"
  node tests/tools/normalize-inspect.js "$T/out" > "$T/$name.json"
  diff -u "$exp" "$T/$name.json" || fail "$name: inspection differs from $exp"
  [ "$sums" = "$(for d in "${disks[@]}"; do sum_of "$d"; done)" ] ||
    fail "$name: inspect changed a disk"
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || skip "no test guest with an expected inspection is built"

# Human text: one guest, read-only as well.
if [ -e "$IMAGES/debian-bios.img" ]; then
  expect_exit 0 "$AZPREP" inspect "$IMAGES/debian-bios.img" "$IMAGES/debian-bios-data.img"
  assert_contains "$T/out" '^os:'
  assert_contains "$T/out" '^  distro: debian$'
  assert_contains "$T/out" '^  azure_generation: 1$'
else
  not_checked "no $IMAGES/debian-bios.img: the text output is not checked"
fi
