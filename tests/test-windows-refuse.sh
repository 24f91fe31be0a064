#!/usr/bin/env bash
# Refusals: fix exits 3 and changes nothing (disk checksum) for a
# hibernated Windows (hiberfil.sys signature; ntfs-3g's silent
# read-only fallback is detected too), a BitLocker volume, a dirty hive
# (header sequence numbers differ), 32-bit Windows and Windows older
# than Server 2008 R2; a missing Hyper-V boot driver; BitLocker on the
# Windows volume itself.  win-refuse-all carries the first five at once
# (one appliance); AZPREP_TESTS_FULL=1 also runs each single-trap image.
source tests/lib/functions.sh
source tests/lib/windows-functions.sh

# refused IMAGE ID...: fix refuses with exactly these blocker ids.
refused () {
  local name=$1 img before id; shift
  img=$(win_image "$name")
  before=$(sum_of "$img")
  expect_exit 3 "$AZPREP" fix --json "$img"
  [ "$(json_get "$T/out" d.status)" = refused ] || fail "$name: not refused"
  for id; do
    [ "$(json_get "$T/out" \
      "d.findings.filter(f => f.id === '$id' && f.severity === 'blocker').length")" -ge 1 ] \
      || { cat "$T/out"; fail "$name: no $id blocker"; }
  done
  # windows-support refuses before any other fixup runs.
  [ "${ALLOW_CHANGES:-0}" = 1 ] || [ "$(json_get "$T/out" 'd.changes.length')" = 0 ] \
    || fail "$name: changes"
  [ "$(sum_of "$img")" = "$before" ] || fail "$name: the disk changed"
  assert_contains "$T/err" 'nothing was changed'
  rm -f "$img"
}

refused win-refuse-all windows-too-old windows-32bit windows-bitlocker \
  windows-hive-dirty windows-hibernated windows-ntfs-unclean
# The BitLocker object is the encrypted partition, the dirty hive's its path.
assert_contains "$T/out" '"object":\s*"/dev/sda3"'
assert_contains "$T/out" '"object":\s*"/Windows/System32/config/SYSTEM"'

# A Hyper-V boot driver missing: the other fixups ran (in the overlay),
# but nothing is committed.  The same guest has no BCD store at all: a
# warning (the serial console is not configured), not an error.
ALLOW_CHANGES=1 refused win-no-driver windows-boot-driver-missing
assert_contains "$T/out" 'storflt.sys is missing'
[ "$(json_get "$T/out" \
  "d.findings.filter(f => f.id === 'windows-bcd-not-found' && f.severity === 'warning').length")" = 1 ] \
  || fail "win-no-driver: no windows-bcd-not-found warning"

# BitLocker on C: itself: no Windows to inspect, refused (exit 3, the
# documented "refused"), not an error.
img=$(win_image win-bitlocker-root)
before=$(sum_of "$img")
expect_exit 3 "$AZPREP" fix "$img"
assert_contains "$T/err" 'BitLocker'
[ "$(sum_of "$img")" = "$before" ] || fail "win-bitlocker-root: the disk changed"
rm -f "$img"

if [ "${AZPREP_TESTS_FULL:-0}" = 1 ]; then
  refused win-hibernated windows-hibernated
  refused win-bitlocker windows-bitlocker
  refused win-dirty-hive windows-hive-dirty
  refused win-x86 windows-32bit
  refused win2008 windows-too-old
fi
