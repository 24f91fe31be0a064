#!/usr/bin/env bash
# The disk arguments: inspect and fix need one (a usage error); a
# missing disk, a directory, a bad --format are runtime errors naming
# it, said in one line before any appliance.
source tests/lib/functions.sh

# Commands on disks need a disk.
expect_exit 2 "$AZPREP" inspect
expect_exit 2 "$AZPREP" fix
# A missing disk is a runtime error naming it, before any appliance.
expect_exit 1 "$AZPREP" inspect "$T/nonexistent.img"
assert_contains "$T/err" "nonexistent.img: No such file"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "error is not one line"
expect_exit 1 "$AZPREP" inspect --format=bogus "$T"
expect_exit 1 "$AZPREP" inspect "$T"
assert_contains "$T/err" "is a directory"
