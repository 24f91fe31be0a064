#!/usr/bin/env bash
# Disk locks (issue 16 F9): fix holds the disk exclusively; commands that
# only read hold it shared, and roll an interrupted fix back only when
# nobody else has the disk.  A command started while a fix commits must
# not take the fix's journal for a dead one and write the disk under it.
# flock(1) plays the other run.  No appliance is launched: every
# command is told the raw disk is qcow2, so one that gets past its
# locks (and its roll-back) stops at the disk probe.
source tests/lib/functions.sh
requires flock qemu-img

disk=$T/disk.img
undo=$disk.azprep-undo
head -c 1048576 /dev/zero | tr '\0' A > "$disk"
orig=$(sum_of "$disk")
# A complete undo journal: what a fix leaves while it writes the disk
# (its phase 2), holding the original bytes of one cluster ("B"s).
make_journal () {
  { printf 'AZPREP-UNDO-1\n1048576\n0 512\n'
    head -c 512 /dev/zero | tr '\0' B
    printf 'end\n'; } > "$undo"
}
holder=
hold () {                       # hold -x|-s: another run holds the disk
  # One process that holds the lock and is killed with it.
  ( exec 9<"$disk"; flock "$1" 9; exec sleep 600 ) &
  holder=$!
  for _ in $(seq 1 50); do
    flock -n "$( [ "$1" = -x ] && echo -s || echo -x)" "$disk" true \
      2>/dev/null || return 0
    sleep 0.1
  done
  fail "flock $1 did not take the disk"
}
release () { kill "$holder"; wait "$holder" 2>/dev/null || true; }
on_exit '[ -z "$holder" ] || kill "$holder" 2>/dev/null'
untouched () {
  [ "$(sum_of "$disk")" = "$orig" ] || fail "the disk was written: $1"
  [ -f "$undo" ] || fail "the fix's undo journal was removed: $1"
}

# 1. A fix holds the disk (and its journal is live): check, inspect and
# another fix refuse, naming the disk; nothing rolled back.
make_journal
hold -x
for cmd in inspect check "fix --dry-run" fix; do
  rc=0
  # shellcheck disable=SC2086
  "$AZPREP" $cmd --format qcow2 "$disk" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" != 0 ] || fail "$cmd ran on a disk a fix holds"
  untouched "$cmd while a fix holds the disk"
  cat "$T/out" >> "$T/err"
  assert_contains "$T/err" "disk.img: an azprep fix is writing this disk|disk.img: another azprep command is using this disk" "$cmd"
done
release

# 2. Readers hold it (a check runs): fix refuses; a reader that finds a
# dead fix's journal refuses to roll back under the others.
hold -s
expect_exit 1 "$AZPREP" fix --format qcow2 "$disk"
assert_contains "$T/err" "disk.img: another azprep command is using this disk"
untouched "fix while a check holds the disk"
rc=0
"$AZPREP" inspect --format qcow2 "$disk" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" != 0 ] || fail "inspect rolled back under another reader"
assert_contains "$T/err" "interrupted fix must be rolled back first"
untouched "inspect while a check holds the disk"
release

# 3. Alone, a reader rolls the dead fix back, as before.
"$AZPREP" inspect --format qcow2 "$disk" >"$T/out" 2>"$T/err" || true
assert_contains "$T/err" "disk.img: rolled back an interrupted fix"
[ ! -e "$undo" ] || fail "journal left after the roll-back"
[ "$(head -c 512 "$disk" | tr -d B | wc -c)" = 0 ] ||
  fail "the roll-back did not write the journal's bytes"

# 4. The locks go with the command: nothing holds the disk now.
flock -n -x "$disk" true || fail "an azprep command left the disk locked"
