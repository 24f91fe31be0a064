#!/usr/bin/env bash
# Bad Windows input: a clear error naming the hive and the key, exit 1,
# nothing committed (disk checksum unchanged).  Corrupted SYSTEM hive,
# missing SYSTEM hive, BCD without {bootmgr} here (one appliance each);
# AZPREP_TESTS_FULL=1 adds the truncated hive, a Start value of the
# wrong type and an absurdly large value.  test-windows-hive (C, no
# appliance) covers the same hive checks on files directly.
source tests/lib/functions.sh
source tests/lib/windows-functions.sh

# bad IMAGE REGEX: fix fails with a message matching REGEX.
bad () {
  local img before
  img=$(win_image "$1")
  before=$(sum_of "$img")
  expect_exit 1 "$AZPREP" fix "$img"
  assert_contains "$T/err" "$2"
  [ "$(sum_of "$img")" = "$before" ] || fail "$1: the disk changed"
  rm -f "$img"
}

bad win-bad-corrupt 'SYSTEM hive (/dev/sda2:)?/Windows/System32/config/SYSTEM: corrupted registry hive'
bad win-bad-nosystem 'no SYSTEM hive \(expected /Windows/System32/config/SYSTEM\)'
bad win-bad-nobootmgr 'BCD .*/EFI/Microsoft/Boot/BCD: no \{bootmgr\} object \(Objects\\\{9dea862c-5cdd-4e70-acc1-f32b344d4795\}\)'

if [ "${AZPREP_TESTS_FULL:-0}" = 1 ]; then
  bad win-bad-truncated 'SYSTEM hive /Windows/System32/config/SYSTEM: truncated'
  bad win-bad-type 'HKLM\\SYSTEM\\ControlSet001\\Services\\storvsc\\Start: wrong value type'
  bad win-bad-size 'HKLM\\SYSTEM\\ControlSet001\\Control\\Terminal Server\\WinStations\\RDP-Tcp\\SSLCertificateSHA1Hash: absurd value size'
fi
