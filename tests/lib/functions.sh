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

# skip REASON: a prerequisite of the test is missing (a tool, a test
# image, a build product, the simulators): say which and exit 77.  CI
# (CI=true) installs and builds every prerequisite (.ci/install-deps,
# make check), so there a missing one is a failure, not a skip.
skip () {
  _missing_in_ci "$*"
  echo "SKIP: $*" >&2
  exit 77
}
# not_checked REASON: a part of a test is left out because what it
# needs is missing, said on stdout; a failure in CI, as skip is.
not_checked () {
  _missing_in_ci "$*"
  echo "$*"
}
_missing_in_ci () {
  [ "${CI:-}" = true ] || return 0
  echo "FAIL: prerequisite missing in CI: $1" >&2
  exit 1
}

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

# expect_exit_watched CODE CMD...: expect_exit, and meanwhile append the
# command lines of CMD and of every process under it, and the
# environments of its children, to $T/procs (NUL as newline; "== PID"
# before each), ten times a second: what the process list shows, and
# what a child could pass on or dump (assert_secret_absent on it).
expect_exit_watched () {
  local want=$1; shift
  local rc=0 pid
  "$@" >"$T/out" 2>"$T/err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    _dump_procs "$pid" >> "$T/procs"
    sleep 0.1
  done
  wait "$pid" || rc=$?
  if [ "$rc" != "$want" ]; then
    echo "--- stdout"; cat "$T/out"; echo "--- stderr"; cat "$T/err"
    fail "$* exited $rc, expected $want"
  fi
}
_dump_procs () {
  local p
  for p in $(ps -e -o pid=,ppid= | awk -v r="$1" '
      { par[$1] = $2 }
      END { for (p in par) { q = p; n = 0
              while (q != r && q > 1 && n++ < 64) q = par[q]
              if (q == r) print p } }'); do
    echo "== $p"
    { tr '\0' '\n' < "/proc/$p/cmdline"; } 2>/dev/null || true
    # CMD's own environment holds the secrets until its main takes them.
    [ "$p" = "$1" ] ||
      { tr '\0' '\n' < "/proc/$p/environ"; } 2>/dev/null || true
  done
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

# For the real Debian guests' "before" boots.  grub_serial_console DEV
# [ARGS]: guestfish commands that mount DEV (a guest's root, writable)
# and add console=ttyS0 (and ARGS) to the kernel lines of its grub.cfg,
# nothing else, so that boot-test sees why the unfixed guest fails.
# Then check_serial_console checks the edit was made.
grub_serial_console () {
  cat <<EOT
mount $1 /
download /boot/grub/grub.cfg $T/con.cfg
! sed -i -E 's/^([[:space:]]*linux[[:space:]].*) quiet\$/\1 console=ttyS0,115200n8${2:+ $2}/' $T/con.cfg
upload $T/con.cfg /boot/grub/grub.cfg
EOT
}
check_serial_console () {
  grep -Eq '^[[:space:]]*linux[[:space:]].*console=ttyS0' "$T/con.cfg" ||
    fail "con.cfg: the serial console was not added"
}
# split_readback FILE: the output of one guestfish read-back, cut at
# its "==== NAME" lines into $T/NAME.rb.
split_readback () {
  awk -v d="$T" '/^==== /{ f = d "/" $2 ".rb"; next } f { print > f }' "$1"
}
# assert_initrd_hv INITRD WHAT: the Hyper-V drivers are in INITRD, as
# our own reader (tests/tools/initrd-ls) lists it.
assert_initrd_hv () {
  tests/tools/initrd-ls "$1" > "$1.list"
  for m in hv_vmbus hv_storvsc hv_netvsc; do
    assert_contains "$1.list" "/$m\.ko" "$2 initrd $m"
  done
}
