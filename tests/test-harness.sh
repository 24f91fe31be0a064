#!/usr/bin/env bash
# The harness itself (tests/run, tests/lib/functions.sh): on a copy of
# both in a scratch tree with fake tests, the closing line and the exit
# status count a pass, a failure, a skip, a skip without a reason, a
# skip in CI (a failure) and the tests not started before TEST_DEADLINE
# (failures, each named).  No appliance: a stub guestfish stands in.
source tests/lib/functions.sh

R=$T/tree
mkdir -p "$R/tests/lib" "$T/bin"
cp tests/run "$R/tests/run"
cp tests/lib/functions.sh "$R/tests/lib/functions.sh"
printf '#!/bin/sh\nexit 0\n' > "$T/bin/guestfish"
chmod +x "$T/bin/guestfish"

# fake NAME BODY: a test in the scratch tree.
fake () {
  printf '#!/usr/bin/env bash\nsource tests/lib/functions.sh\n%s\n' "$2" \
    > "$R/tests/test-$1.sh"
}
# harness OUT [VAR=VALUE...]: run the copied tests/run, its output in
# OUT and its exit status in $T/OUT.rc; the outer run's CI and deadline
# do not leak in.
harness () {
  local out=$1 rc=0; shift
  env -u CI -u TEST_DEADLINE -u TEST_JOBS PATH="$T/bin:$PATH" "$@" \
    "$R/tests/run" > "$T/$out" 2>&1 || rc=$?
  echo "$rc" > "$T/$out.rc"
  echo "--- $out (exit $rc)"; cat "$T/$out"
}
# closing OUT LINE RC: the last line of OUT is LINE, its exit status RC.
closing () {
  [ "$(tail -1 "$T/$1")" = "$2" ] ||
    fail "$1: closing line '$(tail -1 "$T/$1")', expected '$2'"
  [ "$(cat "$T/$1.rc")" = "$3" ] ||
    fail "$1: exit $(cat "$T/$1.rc"), expected $3"
}

fake a-pass 'true'
fake b-skip 'skip "no frobnicator here"'
harness plain
closing plain "1 passed, 0 failed, 1 skipped" 0
assert_contains "$T/plain" '^PASS: tests/test-a-pass\.sh '
assert_contains "$T/plain" '^SKIP: tests/test-b-skip\.sh: no frobnicator here$'

# In CI a missing prerequisite fails, saying which; a unit test's own
# exit 77 with its reason is still a skip.
mkdir -p "$R/build/unit"
printf '#!/bin/sh\necho "SKIP: runs elsewhere" >&2\nexit 77\n' \
  > "$R/build/unit/test-live"
chmod +x "$R/build/unit/test-live"
harness ci CI=true
closing ci "1 passed, 1 failed, 1 skipped" 1
assert_contains "$T/ci" '^SKIP: build/unit/test-live: runs elsewhere$'
assert_contains "$T/ci" '^FAIL: tests/test-b-skip\.sh \(exit 1,'
assert_contains "$T/ci" 'FAIL: prerequisite missing in CI: no frobnicator here'
assert_contains "$T/ci" '^failed: tests/test-b-skip\.sh$'
rm -r "$R/build/unit"

# A failure; an exit 77 that gives no reason is a failure too.
fake c-fail 'fail "wrong answer"'
fake d-mute 'exit 77'
harness failing
closing failing "1 passed, 2 failed, 1 skipped" 1
assert_contains "$T/failing" '^FAIL: tests/test-c-fail\.sh \(exit 1,'
assert_contains "$T/failing" 'FAIL: wrong answer'
assert_contains "$T/failing" '^FAIL: tests/test-d-mute\.sh: exit 77 \(skip\) without'
rm "$R/tests/test-c-fail.sh" "$R/tests/test-d-mute.sh"

# The deadline passes while the first test runs (one at a time): the
# others are not started, each is a named failure.
fake a-pass 'while [ "$(date +%s)" -lt "$DEADLINE" ]; do sleep 0.2; done'
deadline=$(( $(date +%s) + 5 ))
harness late TEST_JOBS=1 TEST_DEADLINE=$deadline DEADLINE=$deadline
closing late "1 passed, 1 failed, 0 skipped" 1
assert_contains "$T/late" '^PASS: tests/test-a-pass\.sh '
assert_contains "$T/late" '^FAIL: tests/test-b-skip\.sh: not run: the time budget \(TEST_DEADLINE\) ran out$'
assert_not_contains "$T/late" '^SKIP'
echo PASS
