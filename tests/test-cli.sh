#!/usr/bin/env bash
# The command line: help, version, usage errors and their exit codes,
# the manual.  No appliance.
source tests/lib/functions.sh

expect_exit 0 "$AZPREP" --help
assert_contains "$T/out" '^Commands:'
mapfile -t cmds < <(sed -n '/^Commands:/,/^$/p' "$T/out" | awk 'NF>1 {print $1}')
[ ${#cmds[@]} -ge 2 ] || fail "too few commands listed"

# Every command: --help exits 0 with a Usage line; an unknown option
# exits 2 with a pointer to --help.
for c in "${cmds[@]}"; do
  expect_exit 0 "$AZPREP" "$c" --help
  assert_contains "$T/out" "^Usage: azprep $c" "$c --help"
  expect_exit 2 "$AZPREP" "$c" --no-such-option
  assert_contains "$T/err" "Try 'azprep $c --help'" "$c usage error"
  # Every command is in the manual.
  grep -q "^=head2 azprep $c\b" build/azprep.pod || fail "$c is not in the manual"
done

expect_exit 0 "$AZPREP" --version
assert_contains "$T/out" '^azprep [0-9]+\.[0-9]+'
expect_exit 2 "$AZPREP"
expect_exit 2 "$AZPREP" no-such-command
assert_contains "$T/err" "unknown command 'no-such-command'"

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

# The fixups list: names are [a-z0-9-], every one has a heading.
expect_exit 0 "$AZPREP" fix --list --json
node -e '
  const l = JSON.parse(require("fs").readFileSync(process.argv[1]));
  for (const f of l) {
    if (!/^[a-z0-9-]+$/.test(f.name)) throw new Error("bad name " + f.name);
    if (!f.heading) throw new Error("no heading for " + f.name);
  }' "$T/out"
expect_exit 2 "$AZPREP" fix --only no-such-fixup x.img

# The manual is well-formed and renders.
podchecker build/azprep.pod >/dev/null 2>&1 || fail "podchecker"
man -l build/azprep.1 >/dev/null 2>&1 || [ ! -x /usr/bin/man ] || fail "man"
