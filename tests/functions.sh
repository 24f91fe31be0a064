# Sourced by every shell test (tests/test-*.sh).  Tests run from the
# top of the source tree with AZPREP, BUILD and IMAGES set by tests/run.
set -euo pipefail

: "${AZPREP:=$PWD/azprep}"
: "${BUILD:=$PWD/build}"
: "${IMAGES:=$BUILD/images}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}"

# A scratch directory, removed when the test ends.
T=$(mktemp -d "${TMPDIR:-/var/tmp}/azprep-test.XXXXXX")
_cleanups=()
_cleanup () {
  local c
  for c in "${_cleanups[@]}"; do eval "$c" || true; done
  rm -rf "$T"
}
trap _cleanup EXIT
# Run a command when the test ends (servers to stop, ...).
on_exit () { _cleanups+=("$*"); }

fail () { echo "FAIL: $*" >&2; exit 1; }
skip () { echo "SKIP: $*" >&2; exit 77; }

# requires CMD...: skip unless every command exists.
requires () {
  local c
  for c; do command -v "$c" >/dev/null 2>&1 || skip "$c is not installed"; done
}

# require_image NAME: path of a built test image, or skip.
require_image () {
  local p="$IMAGES/$1"
  [ -e "$p" ] || skip "test image $1 not built (make images)"
  echo "$p"
}

# expect_exit CODE CMD...: run CMD, fail unless it exits with CODE.
# Its stdout is in $T/out, its stderr in $T/err.
expect_exit () {
  local want=$1; shift
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
    fail "$* exited $rc, expected $want"
  fi
}

# assert_contains FILE REGEX [WHAT]
assert_contains () {
  grep -Eq -- "$2" "$1" || { echo "--- $1:"; cat "$1"; fail "${3:-$1} does not match /$2/"; }
}
assert_not_contains () {
  if grep -Eq -- "$2" "$1"; then echo "--- $1:"; cat "$1"; fail "${3:-$1} matches /$2/"; fi
}

# jq-like lookups without jq: json_get FILE EXPR, EXPR in node syntax on
# the parsed document "d", e.g. json_get out.json 'd.os.distro'.
json_get () {
  node -e '
    const fs = require("fs");
    const d = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const v = eval(process.argv[2]);
    console.log(typeof v === "string" ? v : JSON.stringify(v));
  ' "$1" "$2"
}

# A checksum of a file, to prove a disk was not changed: CRC-32 and
# size (cksum).  It catches any accidental change, which is all a test
# needs, and coreutils computes it with carry-less multiplication at
# several GB/s, where sha256sum took 10-30 s per multi-GiB test disk.
sum_of () { cksum < "$1" | tr ' ' '-'; }
