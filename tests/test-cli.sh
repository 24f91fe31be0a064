#!/usr/bin/env bash
# The command line: help, version, usage errors and their exit codes;
# every command is in the manual.  No appliance.
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
