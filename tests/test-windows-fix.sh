#!/usr/bin/env bash
# azprep fix on phony VMware-born Windows guests: every seeded trap is
# fixed, every hive value is read back and compared with the expected
# dump, every hive still opens in hivexsh, the changes are reported, and
# a second fix changes nothing.  BIOS (System Reserved \Boot\BCD) and
# UEFI (ESP \EFI\Microsoft\Boot\BCD); ControlSet002 on win2019-bios,
# which also carries Group Policy (with a firewall rule blocking RDP),
# an antivirus and a local Block rule, and is fixed with --generation 2
# (a BIOS guest: warning).  win2022-uefi-nopolicy is win2022-uefi
# without the Remote Desktop policy key (issue 14: fix refused it).
# test-windows-versions.sh does the same for every other version.
source tests/lib/functions.sh
source tests/lib/windows-functions.sh

guests=(win2019-bios win2022-uefi win2022-uefi-nopolicy)

# --generation takes 1 or 2 (fix and check), before any appliance.
expect_exit 2 "$AZPREP" fix --generation 3 "$T/none.img"
assert_contains "$T/err" 'generation must be 1 or 2'
expect_exit 2 "$AZPREP" check --generation=0 "$T/none.img"
assert_contains "$T/err" 'generation must be 1 or 2'

for g in "${guests[@]}"; do
  img=$(win_image "$g")
  gen=; [ "$g" = win2019-bios ] && gen=--generation=2
  expect_exit 0 "$AZPREP" fix --json $gen --report "$T/$g.report" "$img"
  cp "$T/out" "$T/$g.json"
  [ "$(json_get "$T/$g.json" d.status)" = fixed ] || fail "$g: not fixed"
done

# The change records name the inspected control set, never
# CurrentControlSet, and carry before/after.
assert_contains "$T/win2019-bios.json" 'HKLM\\\\SYSTEM\\\\ControlSet002\\\\Services\\\\storvsc\\\\Start'
assert_not_contains "$T/win2019-bios.json" 'CurrentControlSet'
[ "$(json_get "$T/win2019-bios.json" \
  'd.changes.find(c => c.object.endsWith("storvsc\\Start")).before')" = 3 ] \
  || fail "storvsc Start before is not 3"
[ "$(json_get "$T/win2022-uefi.json" \
  'd.changes.find(c => c.object.endsWith("partmgr\\Parameters\\SanPolicy")).after')" = 1 ] \
  || fail "SanPolicy after is not 1"
# Warnings and next steps on the guest that has them.
for id in windows-group-policy windows-antivirus windows-rdp-firewall-block \
          windows-rdp-firewall-policy-block windows-gen2-bios \
          windows-next-vmware-tools windows-next-azure-agent windows-next-chkdsk; do
  [ "$(json_get "$T/win2019-bios.json" \
    "d.findings.filter(f => f.id === '$id').length")" -ge 1 ] \
    || fail "win2019-bios: no $id finding"
done
# The Block rules: the local one and the domain's, by name; the
# domain's Allow rule is not reported.
[ "$(json_get "$T/win2019-bios.json" \
  "d.findings.filter(f => f.id.startsWith('windows-rdp-firewall') && f.id.endsWith('block')).map(f => f.object).sort().join(' ')")" \
  = 'HKLM\SOFTWARE\Policies\Microsoft\WindowsFirewall\FirewallRules\{3A1F6C2E-0B7D-4E51-9F0A-6D2C8B4E1A73} HKLM\SYSTEM\ControlSet002\Services\SharedAccess\Parameters\FirewallPolicy\FirewallRules\AzprepTest-Block-RDP' ] \
  || fail "win2019-bios: the Block rule findings"
for id in windows-group-policy windows-rdp-firewall-policy-block \
          windows-gen2-bios windows-gen1-uefi windows-bcd-no-ems; do
  [ "$(json_get "$T/win2022-uefi.json" \
    "d.findings.filter(f => f.id === '$id').length")" = 0 ] \
    || fail "win2022-uefi: $id without its cause"
done
# The next steps are findings, never changes.
assert_not_contains "$T/win2019-bios.json" '"kind":\s*"(agent|chkdsk)'

WIN_ORIG=1 win_readback "${guests[@]}"
# Each hive fix wrote kept its original beside it (NAME.azprep-orig):
# a valid hive that is not the fixed one.
for g in "${guests[@]}"; do
  for h in SYSTEM SOFTWARE BCD; do
    echo quit | hivexsh "$T/$g.$h.orig" >/dev/null 2>&1 \
      || fail "$g: the $h backup is not a hive"
    ! cmp -s "$T/$g.$h" "$T/$g.$h.orig" || fail "$g: the $h backup is the fixed hive"
  done
done
for g in win2019-bios win2022-uefi; do
  win_compare "$g"
done
# Without the policy key: fixed to the very hives of the guest that had
# it (its name aside); the key is created for the values that must go
# in it, fDenyTSConnections among them.
[ "$(json_get "$T/win2022-uefi-nopolicy.json" \
  'd.changes.filter(c => c.object.includes("\\Terminal Services\\")).map(c => c.object.replace(/.*\\/, "") + ":" + c.before + ">" + c.after).sort().join(" ")')" \
  = 'KeepAliveEnable:null>1 KeepAliveInterval:null>1 fDenyTSConnections:null>0 fDisableAutoReconnect:null>0' ] \
  || fail "win2022-uefi-nopolicy: the policy key's changes"
win_dump win2022-uefi-nopolicy | sed 's/win2022-uefi-nopolicy/win2022-uefi/g' \
  > "$T/win2022-uefi-nopolicy.dump"
diff -u "$T/win2022-uefi.dump" "$T/win2022-uefi-nopolicy.dump" \
  || fail "win2022-uefi-nopolicy: hives differ from win2022-uefi's after fix"

# A second fix changes nothing, and leaves the disk as it was; asked
# for generation 1, the UEFI guest is a warning.
img="$T/win2022-uefi.img"
before=$(sum_of "$img")
expect_exit 0 "$AZPREP" fix --generation 1 "$img"
assert_contains "$T/out" 'nothing to change'
assert_contains "$T/out" 'warning: /dev/sda2: generation 1 requested for a UEFI guest'
[ "$(sum_of "$img")" = "$before" ] || fail "second fix changed the disk"

# The inspection's Windows section shows the fixed state.
expect_exit 0 "$AZPREP" inspect --json "$img"
j="$T/out"
[ "$(json_get "$j" d.windows.control_set)" = ControlSet001 ] || fail "control set"
[ "$(json_get "$j" d.windows.san_policy)" = 1 ] || fail "san_policy"
[ "$(json_get "$j" \
  'd.windows.storage_drivers.find(x => x.name === "storvsc").start')" = 0 ] \
  || fail "storvsc start"
[ "$(json_get "$j" \
  'd.windows.storage_drivers.find(x => x.name === "storvsc").start_override')" = false ] \
  || fail "storvsc StartOverride"
[ "$(json_get "$j" d.windows.rdp.deny_connections)" = 0 ] || fail "rdp deny"
[ "$(json_get "$j" d.windows.hibernation.fast_startup)" = 0 ] || fail "fast startup"
[ "$(json_get "$j" d.windows.hibernation.hiberfil)" = clean ] || fail "hiberfil"
[ "$(json_get "$j" d.windows.hives.system_clean)" = true ] || fail "hive clean"
[ "$(json_get "$j" d.windows.bcd.path)" = /EFI/Microsoft/Boot/BCD ] || fail "bcd path"
[ "$(json_get "$j" d.windows.bcd.device)" = /dev/sda1 ] || fail "bcd device"
[ "$(json_get "$j" d.windows.bcd.ems)" = true ] || fail "bcd ems"
