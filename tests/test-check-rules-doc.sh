#!/usr/bin/env bash
# azprep check --list: every rule id is documented in the manual.
source tests/lib/functions.sh
source tests/lib/check-desc.sh

expect_exit 0 "$AZPREP" check --list --json
for id in $(json 'd.filter(r => r.kind == "rule").map(r => r.id).join(" ")'); do
  grep -q "^=item B<$id>" prep/check.pod || fail "rule $id is not documented in prep/check.pod"
done
