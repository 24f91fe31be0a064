#!/usr/bin/env bash
# Every other phony Windows version (Server 2012, 2012 R2, 2016, 2022
# BIOS, 2025, Windows 10, 11): fix, read every hive back, compare with
# the expected dump, hivexsh opens them.  2012/2012 R2: the MSFT1000
# Enum copy when the source keys exist, a plain warning when not.  Each
# guest costs an appliance (a minute or more under TCG), so this runs
# only with AZPREP_TESTS_FULL=1; test-windows-fix.sh covers BIOS and
# UEFI on every run.
source tests/functions.sh
source tests/windows-functions.sh

[ "${AZPREP_TESTS_FULL:-0}" = 1 ] \
  || skip "set AZPREP_TESTS_FULL=1 (7 appliance launches)"

guests=(win2012-bios win2012r2-uefi win2016-uefi win2022-bios win2025-uefi
        win10-bios win11-uefi)
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

win_readback "${guests[@]}"
for g in "${guests[@]}"; do
  win_compare "$g"
done
