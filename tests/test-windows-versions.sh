#!/usr/bin/env bash
# Every other phony Windows version (Server 2012, 2012 R2, 2016, 2025,
# Windows 10, 11, and Windows 10 1709 whose SYSTEM hive comes from a real
# install; with AZPREP_TESTS_FULL=1 also 2022 BIOS, whose
# release test-windows-fix.sh fixes on UEFI): fix, read every hive back,
# compare with the expected dump, hivexsh opens them.  2012/2012 R2: the
# MSFT1000 Enum copy when the source keys exist, a plain warning when
# not.  Windows 10's BCD has no {emssettings} object (a warning).  One
# appliance per guest, one for the read-back.
source tests/lib/functions.sh
source tests/lib/windows-functions.sh

guests=(win2012-bios win2012r2-uefi win2016-uefi win2025-uefi
        win10-bios win11-uefi win10-1709-stock-bios)
[ "${AZPREP_TESTS_FULL:-0}" = 1 ] && guests+=(win2022-bios)
for g in "${guests[@]}"; do
  img=$(win_image "$g")
  expect_exit 0 "$AZPREP" fix --json "$img"
  cp "$T/out" "$T/$g.json"
  [ "$(json_get "$T/$g.json" d.status)" = fixed ] || fail "$g: not fixed"
done

has () {  # has GUEST ID: the fix found at least one ID finding
  [ "$(json_get "$T/$1.json" \
    "d.findings.filter(f => f.id === '$2').length")" -ge 1 ]
}
has win2012-bios windows-2012-msft1000 || fail "2012: no MSFT1000 warning"
assert_contains "$T/win2012-bios.json" 'Enum\\\\ACPI\\\\MSFT1000'
assert_contains "$T/win2012-bios.json" 'Enum\\\\ACPI\\\\MSFT1002'
has win2012r2-uefi windows-msft1000-no-source \
  || fail "2012 R2: no warning that the Enum keys are missing"
has win2016-uefi windows-2012-msft1000 && fail "2016 warned as 2012"
# Client editions: the serial console needs a capability (next step).
has win11-uefi windows-next-sac || fail "11: no EMS-SAC next step"
has win2025-uefi windows-next-sac && fail "2025 is not a client edition"
# No {emssettings}: EMS is on, its port and speed are a next step.
has win10-bios windows-bcd-no-ems || fail "10: no warning for the missing {emssettings}"
has win11-uefi windows-bcd-no-ems && fail "11 has {emssettings}"

win_readback "${guests[@]}"
for g in "${guests[@]}"; do
  win_compare "$g"
done
