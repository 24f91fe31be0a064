#!/usr/bin/env bash
# azprep check on Windows: one fleet run (two appliances) over the
# phony Windows images, each described by a .vmx with a vTPM:
#   w2022   win2022-uefi: generation 2; the Windows fixups' findings are
#           fixable warnings; none of the refusal rules fires
#   refuse  win-refuse-all (Server 2008, 32-bit, hibernated, BitLocker
#           data volume, dirty hive), the .vmx says EFI: arch-32bit,
#           os-version, hibernation, filesystem-dirty (NTFS),
#           encrypted-volume, vtpm-encryption (BitLocker + vTPM),
#           firmware-mismatch, and windows-support's non-fixable
#           blockers
# The phony C: is 64 MiB: free-space fires on both (Windows needs 200).
source tests/lib/functions.sh
requires node xmllint
W22=$(require_image windows/win2022-uefi.img)
REF=$(require_image windows/win-refuse-all.img)
sums=$(sha256sum "$W22" "$REF")

vmx () {   # FILE DISK
  cat > "$1" <<EOT
config.version = "8"
displayName = "$(basename "$1" .vmx)"
guestOS = "windows2019srvnext-64"
numvcpus = "2"
memsize = "4096"
firmware = "efi"
vtpm.present = "TRUE"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "$2"
ethernet0.present = "TRUE"
EOT
}
vmx "$T/w2022.vmx" "$W22"
vmx "$T/refuse.vmx" "$REF"
cat > "$T/fleet.json" <<EOT
[ { "name": "w2022", "vmx": "w2022.vmx" },
  { "name": "refuse", "vmx": "refuse.vmx" } ]
EOT
expect_exit 3 "$AZPREP" check --vms "$T/fleet.json" --jobs 2 --json \
  --junit "$T/out.xml"
[ "$(sha256sum "$W22" "$REF")" = "$sums" ] || fail "check changed a disk"
node tests/tools/check-schema.js "$T/out" >/dev/null || fail "the JSON does not follow the schema"
j () { json_get "$T/out" "$1"; }
vm () { echo "d.vms.find(v => v.name == '$1')"; }
ids () { j "$(vm "$1").findings.map(f => f.id + ':' + f.severity).join(' ')"; }
# finding VM ID SEVERITY FIXABLE OBJECT-REGEX
finding () {
  [ "$(j "$(vm "$1").findings.filter(f => f.id == '$2' && f.severity == '$3' && f.fixable == $4 && /$5/.test(f.object)).length > 0")" = true ] ||
    fail "$1: no $3 $2 (fixable $4) on /$5/; has: $(ids "$1")"
}
# result VM RESULT RULE...: the rules' results
result () {
  local v=$1 want=$2 id; shift 2
  for id; do
    [ "$(j "$(vm "$v").rules.find(r => r.id == '$id').result")" = "$want" ] ||
      fail "$v: rule $id is not $want: $(ids "$v")"
  done
}

[ "$(j 'd.vms.map(v => v.name + "=" + v.verdict + "/" + v.exit).join(" ")')" = \
  "w2022=not-ready/3 refuse=not-ready/3" ] || fail "verdicts"

# w2022: what the Windows fixups would change, nothing that refuses.
[ "$(j "[$(vm w2022).os.type, $(vm w2022).os.major, $(vm w2022).os.arch, $(vm w2022).firmware, $(vm w2022).azure.generation].join(' ')")" = \
  "windows 10 x86_64 uefi 2" ] || fail "w2022: OS and generation"
finding w2022 firmware-generation info false '^\/dev\/sda1$'
j "$(vm w2022).findings.find(f => f.id == 'firmware-generation').message" |
  grep -q 'UEFI boot: Azure generation 2' || fail "w2022: generation message"
finding w2022 free-space blocker false '^\/$'
j "$(vm w2022).findings.find(f => f.id == 'free-space').message" |
  grep -Eq '^[0-9]+ MiB free, the fixups need 200 MiB$' || fail "w2022: free-space message"
finding w2022 windows-boot-driver-start warning true 'storvsc'
finding w2022 windows-rdp-deny warning true 'fDenyTSConnections'
finding w2022 windows-fast-startup warning true 'HiberbootEnabled'
[ "$(j "$(vm w2022).findings.filter(f => f.severity != 'info' && !f.fixable && f.id != 'free-space').map(f => f.id).join(' ')")" = "" ] ||
  fail "w2022: findings azprep fix does not repair: $(ids w2022)"
result w2022 pass hibernation filesystem-dirty encrypted-volume \
  vtpm-encryption arch-32bit os-version os-unsupported os-unknown \
  firmware-mismatch secure-boot swap-on-os-disk fstab-network-filesystem \
  disk-size-mib os-disk-size
result w2022 fail windows-boot-drivers windows-rdp windows-fast-startup free-space

# refuse: every refusal, as check rules and as windows-support's
# blockers, none of them fixable.
[ "$(j "[$(vm refuse).os.major, $(vm refuse).os.minor, $(vm refuse).os.arch, $(vm refuse).firmware].join(' ')")" = \
  "6 0 i386 bios" ] || fail "refuse: OS"
finding refuse arch-32bit blocker false '^\/dev\/sda2$'
finding refuse os-version blocker false '^\/dev\/sda2$'
finding refuse hibernation blocker false '^\/hiberfil\.sys$'
finding refuse filesystem-dirty blocker false '^\/dev\/sda2$'
finding refuse encrypted-volume warning false '^\/dev\/sda3$'
finding refuse vtpm-encryption blocker false '^\/dev\/sda3$'
finding refuse firmware-mismatch warning false 'refuse\.vmx$'
for id in windows-32bit windows-too-old windows-bitlocker windows-hibernated windows-hive-dirty; do
  finding refuse $id blocker false .
done
j "$(vm refuse).findings.find(f => f.id == 'filesystem-dirty').message" |
  grep -q 'NTFS is hibernated' || fail "refuse: NTFS state"
result refuse fail arch-32bit os-version hibernation filesystem-dirty \
  encrypted-volume vtpm-encryption firmware-mismatch windows-support
result refuse pass secure-boot os-unsupported disk-size-mib

# JUnit: the refusals fail their testcases, fixable warnings do not.
xmllint --noout "$T/out.xml" || fail "JUnit XML is not well-formed"
x () { xmllint --xpath "$1" "$T/out.xml"; }
for id in hibernation vtpm-encryption windows-support arch-32bit; do
  [ "$(x "string(/testsuites/testsuite[@name='refuse']/testcase[@name='$id']/failure/@type)")" = blocker ] ||
    fail "junit: refuse $id is not a failure"
done
[ "$(x "count(/testsuites/testsuite[@name='w2022']/testcase[@name='windows-rdp']/failure)")" = 0 ] ||
  fail "junit: a fixable warning failed its testcase"
[ "$(x "count(/testsuites/testsuite[@name='w2022']/testcase[@name='hibernation']/failure)")" = 0 ] ||
  fail "junit: w2022 hibernation failed"
echo PASS
