#!/usr/bin/env bash
# Build the phony Windows test images: real partition tables and real
# NTFS/FAT filesystems holding the directory layout, hives and BCD that
# libguestfs inspection and azprep look at, but no Windows binaries.
#
#   images/windows/build.sh OUTDIR PHONY [NAME...]
#
# PHONY is the built images/windows/phony.c.  Hives are made from .reg
# text (system.reg.in, software.reg.in, bcd.reg.in) merged with
# hivexregedit into an empty hive that "phony hive" generates.  NTFS is
# made without an appliance: mkntfs and ntfs-3g on a loop device at the
# partition's offset; the ESP with mkfs.vfat --offset and mtools.  Needs
# root (losetup, FUSE).  See images/windows/README.md for the set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 phony=$2
shift 2
names=("$@")
mkdir -p "$out"

MiB=1048576
work=$(mktemp -d "${TMPDIR:-/var/tmp}/azprep-winimg.XXXXXX")
loop= mnt="$work/mnt"
mkdir -p "$mnt"
cleanup () {
  mountpoint -q "$mnt" && umount "$mnt"
  [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

# version NAME: the CurrentVersion values, as .reg lines.
version () {
  local product cur build type=Server major=
  case $1 in
    2008)   product="Windows Server 2008 Standard" cur=6.0 build=6002 ;;
    2012)   product="Windows Server 2012 Standard" cur=6.2 build=9200 ;;
    2012r2) product="Windows Server 2012 R2 Standard" cur=6.3 build=9600 ;;
    2016)   product="Windows Server 2016 Standard" cur=6.3 build=14393 major=1 ;;
    2019)   product="Windows Server 2019 Standard" cur=6.3 build=17763 major=1 ;;
    2022)   product="Windows Server 2022 Standard" cur=6.3 build=20348 major=1 ;;
    2025)   product="Windows Server 2025 Standard" cur=6.3 build=26100 major=1 ;;
    10)     product="Windows 10 Pro" cur=6.3 build=19045 type=Client major=1 ;;
    10-1709) product="Windows 10 Pro" cur=6.3 build=16299 type=Client major=1 ;;
    11)     product="Windows 10 Pro" cur=6.3 build=22631 type=Client major=1 ;;
    *) echo "unknown version $1" >&2; exit 1 ;;
  esac
  printf '"ProductName"="%s"\n"CurrentVersion"="%s"\n' "$product" "$cur"
  printf '"CurrentBuildNumber"="%s"\n"CurrentBuild"="%s"\n' "$build" "$build"
  printf '"InstallationType"="%s"\n"EditionID"="%s"\n' "$type" \
    "$( [ $type = Server ] && echo ServerStandard || echo Professional)"
  if [ -n "$major" ]; then
    printf '"CurrentMajorVersionNumber"=dword:0000000a\n'
    printf '"CurrentMinorVersionNumber"=dword:00000000\n'
  fi
}

# subst FILE VAR=VALUE...: replace @VAR@ lines/words in a template.
subst () {
  local f=$1; shift
  local kv k v
  grep -v "^;" "$f" > "$work/subst" || true
  for kv; do
    k=${kv%%=*} v=${kv#*=}
    K="@$k@" V="$v" perl -0pi -e 's/\Q$ENV{K}\E/$ENV{V}/g' "$work/subst"
  done
  cat "$work/subst"
}

# hive OUT PREFIX REGFILE: an empty hive with the .reg merged in.
hive () {
  "$phony" hive "$1"
  if [ -n "$2" ]; then
    hivexregedit --merge "$1" --prefix "$2" "$3"
  else
    hivexregedit --merge "$1" "$3"
  fi
}

# ntfs IMG START_MIB SIZE_MIB LABEL: format and mount at $mnt.
ntfs () {
  loop=$(losetup -f --show -o $(($2 * MiB)) --sizelimit $(($3 * MiB)) "$1")
  mkntfs -q -Q -F -L "$4" -p $(($2 * 2048)) -H 255 -S 63 "$loop" >/dev/null
  ntfs-3g "$loop" "$mnt"
}
ntfs_done () {
  umount "$mnt"
  losetup -d "$loop"
  loop=
}

# build NAME VERSION FIRMWARE [TRAP...]
build () {
  local name=$1 ver=$2 fw=$3; shift 3
  local cs=1 arch=AMD64 pe=pe64 san='"SanPolicy"=dword:00000003'
  local storvsc=dword:00000003 enum= block= uninst= gpo= bootmgr=yes
  local hiber=clean bitlocker= dirty= system=yes corrupt= truncate=
  local big= nodriver= noems= nobcd= rootlocker= gpofw= nopolicy= stock= t
  for t; do
    case $t in
      cs2) cs=2 ;;
      x86) arch=x86 pe=pe32 ;;
      nosan) san= ;;
      enum) enum=$(printf '%s\n' \
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\@CS@\\Enum\\ACPI]" "" \
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\@CS@\\Enum\\ACPI\\VMBus]" "" \
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\@CS@\\Enum\\ACPI\\VMBus\\0]" \
        '"Service"="vmbus"' '"ConfigFlags"=dword:00000000' "" \
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\@CS@\\Enum\\ACPI\\VMBus\\0\\Device Parameters]" \
        '"FirmwareIdentified"=dword:00000001' "" \
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\@CS@\\Enum\\ACPI\\Hyper_V_Gen_Counter_V1]" "" \
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\@CS@\\Enum\\ACPI\\Hyper_V_Gen_Counter_V1\\0]" \
        '"Service"="gencounter"' "") ;;
      block) block='"AzprepTest-Block-RDP"="v2.31|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=3389|Name=Block RDP|"' ;;
      av) uninst=$(printf '%s\n' "" \
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{6C1A3D5E-0000-4A5B-9C1D-2E3F4A5B6C7D}]" \
        '"DisplayName"="Symantec Endpoint Protection"' \
        '"UninstallString"="MsiExec.exe /X{6C1A3D5E-0000-4A5B-9C1D-2E3F4A5B6C7D}"') ;;
      gpo) gpo=$(printf '%s\n' "" \
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy]" "" \
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\History]" "" \
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Group Policy\\History\\{31B2F340-016D-11D2-945F-00C04FB984F9}]" \
        '"DisplayName"="Default Domain Policy"' "")
        # The domain's firewall rules (GPO store): one blocks RDP.
        gpofw=$(printf '%s\n' "" \
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall]" "" \
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules]" \
        '"{3A1F6C2E-0B7D-4E51-9F0A-6D2C8B4E1A73}"="v2.31|Action=Block|Active=TRUE|Dir=In|Protocol=6|LPort=3389|Name=Block RDP (domain)|"' \
        '"{7C9E2B14-5D3A-4F86-A1B0-2E4D6F8A0C35}"="v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=443|Name=Web (domain)|"') ;;
      hibernated) hiber=HIBR ;;
      bitlocker) bitlocker=yes ;;
      dirty) dirty=yes ;;
      nosystem) system= ;;
      corrupt) corrupt=yes ;;
      truncated) truncate=yes ;;
      nobootmgr) bootmgr= ;;
      badtype) storvsc='"3"' ;;
      bigvalue) big=yes ;;
      nodriver) nodriver=yes ;;
      noems) noems=yes ;;
      nobcd) nobcd=yes ;;
      nopolicy) nopolicy=yes ;;
      stock) stock=yes ;;
      bitlockerroot) rootlocker=yes ;;
      *) echo "unknown trap $t" >&2; exit 1 ;;
    esac
  done
  local img="$out/$name.img" tmp="$out/$name.img.tmp"
  local sys="$work/SYSTEM" soft="$work/SOFTWARE" bcd="$work/BCD"

  subst "$here/system.reg.in" ENUM="$enum" BLOCKRULE="$block" \
    SANPOLICY="$san" STORVSC_START="$storvsc" CS="ControlSet00$cs" \
    N="0000000$cs" ARCH="$arch" HOSTNAME="$name" > "$work/system.reg"
  hive "$sys" 'HKEY_LOCAL_MACHINE\SYSTEM' "$work/system.reg"
  if [ -n "$stock" ]; then
    # SYSTEM from a real Windows 10 1709 install instead (the extracts of
    # tests/data/windows, README there): its keys and firewall rules.
    local data="$here/../../tests/data/windows"
    hive "$sys" "" "$data/regipy-win10-1709-system.reg"
    hivexregedit --merge "$sys" "$data/regipy-win10-1709-rdp-rules.reg"
  fi
  if [ -n "$big" ]; then
    # A 300 KB REG_BINARY where a 20-byte certificate hash belongs.
    { printf 'Windows Registry Editor Version 5.00\n\n'
      printf '[\\ControlSet00%s\\Control\\Terminal Server\\WinStations\\RDP-Tcp]\n' "$cs"
      printf '"SSLCertificateSHA1Hash"=hex:'
      head -c 300000 /dev/zero | od -An -v -tx1 | tr -s ' \n' ',' \
        | sed 's/^,//; s/,$//'
      printf '\n'; } > "$work/big.reg"
    hivexregedit --merge "$sys" "$work/big.reg"
  fi
  version "$ver" > "$work/version"
  subst "$here/software.reg.in" VERSION="$(cat "$work/version")" \
    UNINSTALL="$uninst" GPO="$gpo" GPOFW="$gpofw" > "$work/software.reg"
  # No Remote Desktop policy key, as on a stock install: drop its section.
  [ -n "$nopolicy" ] && perl -0pi -e \
    's/^\[[^\]\n]*\\Terminal Services\]\n(?:[^\[\n].*\n)*//mg' \
    "$work/software.reg"
  hive "$soft" 'HKEY_LOCAL_MACHINE\SOFTWARE' "$work/software.reg"
  local bm=
  [ -n "$bootmgr" ] && bm=$(subst "$here/bcd-bootmgr.reg.in" \
    BOOTMGR_PATH="$( [ "$fw" = uefi ] && echo '\\EFI\\Microsoft\\Boot\\bootmgfw.efi' || echo '\\bootmgr')")
  subst "$here/bcd.reg.in" BOOTMGR="$bm" \
    WINLOAD="$( [ "$fw" = uefi ] && echo winload.efi || echo winload.exe)" \
    > "$work/bcd.reg"
  # No {emssettings} object: drop its sections.
  [ -n "$noems" ] && perl -0pi -e \
    's/^\[\\Objects\\\{0ce4991b[^\]]*\]\n(?:[^\[\n].*\n|\n)*//mg' "$work/bcd.reg"
  hive "$bcd" "" "$work/bcd.reg"
  [ -n "$dirty" ] && "$phony" dirty "$sys"
  # Corrupt: the first hive bin's magic overwritten.
  [ -n "$corrupt" ] && printf 'XXXX' | dd of="$sys" bs=1 seek=4096 conv=notrunc status=none
  [ -n "$truncate" ] && truncate -s 6000 "$sys"

  rm -f "$tmp"
  truncate -s 64M "$tmp"
  if [ "$fw" = uefi ]; then
    sfdisk -q -X gpt "$tmp" <<'PT'
start=2048, size=32768, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"
start=34816, size=61440, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"
start=96256, size=32768, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Data"
PT
    mkfs.vfat -n ESP --offset 2048 "$tmp" 16384 >/dev/null 2>&1
    export MTOOLS_SKIP_CHECK=1
    local m="$tmp@@$MiB"
    mmd -i "$m" ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot ::/EFI/Boot
    [ -n "$nobcd" ] || mcopy -i "$m" "$bcd" ::/EFI/Microsoft/Boot/BCD
    printf 'phony bootmgfw.efi' > "$work/efi"
    mcopy -i "$m" "$work/efi" ::/EFI/Microsoft/Boot/bootmgfw.efi
    mcopy -i "$m" "$work/efi" ::/EFI/Boot/bootx64.efi
  else
    sfdisk -q "$tmp" <<'PT'
start=2048, size=32768, type=7, bootable
start=34816, size=61440, type=7
start=96256, size=32768, type=7
PT
    ntfs "$tmp" 1 16 "System Reserved"
    mkdir -p "$mnt/Boot"
    [ -n "$nobcd" ] || cp "$bcd" "$mnt/Boot/BCD"
    printf 'phony bootmgr' > "$mnt/bootmgr"
    ntfs_done
  fi

  ntfs "$tmp" 17 30 "Windows"
  mkdir -p "$mnt/Windows/System32/config" "$mnt/Windows/System32/drivers" \
    "$mnt/Windows/Temp" "$mnt/Program Files/VMware/VMware Tools" "$mnt/Users"
  [ -n "$system" ] && cp "$sys" "$mnt/Windows/System32/config/SYSTEM"
  cp "$soft" "$mnt/Windows/System32/config/SOFTWARE"
  "$phony" "$pe" "$mnt/Windows/System32/cmd.exe"
  for d in vmbus storvsc storflt intelide atapi pvscsi vmrawdsk vmmouse vmci; do
    [ -n "$nodriver" ] && [ $d = storflt ] && continue
    printf 'phony %s driver' "$d" > "$mnt/Windows/System32/drivers/$d.sys"
  done
  { if [ "$hiber" = HIBR ]; then printf 'HIBR'; else printf '\0\0\0\0'; fi
    head -c 4092 /dev/zero; } > "$mnt/hiberfil.sys"
  touch "$mnt/autoexec.bat"
  ntfs_done

  # A data volume; with the trap, a BitLocker signature in its boot
  # sector ("-FVE-FS-" as OEM id), which is what blkid looks for.
  ntfs "$tmp" 47 16 "Data"
  ntfs_done
  if [ -n "$bitlocker" ]; then
    printf -- '-FVE-FS-' | dd of="$tmp" bs=1 seek=$((47 * MiB + 3)) \
      conv=notrunc status=none
  fi
  # C: itself BitLocker-encrypted: its boot sector's OEM id.
  if [ -n "$rootlocker" ]; then
    printf -- '-FVE-FS-' | dd of="$tmp" bs=1 seek=$((17 * MiB + 3)) \
      conv=notrunc status=none
  fi
  mv "$tmp" "$img"
}

# The set (see README.md): every version once, 2022 on both firmwares.
all=(
  "win2012-bios 2012 bios enum"
  "win2012r2-uefi 2012r2 uefi"
  "win2016-uefi 2016 uefi nosan"
  "win2019-bios 2019 bios cs2 gpo av block"
  "win2022-bios 2022 bios"
  "win2022-uefi 2022 uefi"
  "win2022-uefi-nopolicy 2022 uefi nopolicy"
  "win2025-uefi 2025 uefi"
  "win10-bios 10 bios noems"
  "win11-uefi 11 uefi"
  "win10-1709-stock-bios 10-1709 bios stock nopolicy"
  "win-hibernated 2022 bios hibernated"
  "win-bitlocker 2022 bios bitlocker"
  "win-dirty-hive 2022 bios dirty"
  "win-x86 10 bios x86"
  "win2008 2008 bios"
  "win-refuse-all 2008 bios x86 bitlocker dirty hibernated"
  "win-no-driver 2022 uefi nodriver nobcd"
  "win-bitlocker-root 2022 bios bitlockerroot"
  "win-bad-corrupt 2022 bios corrupt"
  "win-bad-truncated 2022 bios truncated"
  "win-bad-nosystem 2022 bios nosystem"
  "win-bad-nobootmgr 2022 uefi nobootmgr"
  "win-bad-type 2022 bios badtype"
  "win-bad-size 2022 bios bigvalue"
)
for spec in "${all[@]}"; do
  set -- $spec
  if [ ${#names[@]} -eq 0 ] || [[ " ${names[*]} " == *" $1 "* ]]; then
    echo "  WINIMG $1"
    build "$@"
  fi
done
