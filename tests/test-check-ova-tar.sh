#!/usr/bin/env bash
# azprep check --ova on hostile tar archives, built header by header
# (tests/tools/mktar.py): malformed pax records ("1 xyz" once read past
# its buffer), GNU long names, base-256 and octal sizes, sizes past the
# end, bad checksums, a member or an .ovf twice.  Each is one clear
# error (or a finding naming the member), under valgrind: no invalid
# read, and the archive's descriptor closed on every error path.  Good
# pax and GNU long names are still read.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires python3 valgrind qemu-img

sed -e 's/@DISK@/disk1.img/' -e 's/@FIRMWARE@/efi/' "$D/template.ovf" \
  > "$T/vm.ovf"
qemu-img create -q -f raw "$T/disk1.img" 1M
OVF="name=vm.ovf,file=$T/vm.ovf"
tarf () { python3 tests/tools/mktar.py "$T/$1" "${@:2}"; }

# vg ARGS...: azprep under valgrind; a memory error exits 99, and the
# descriptors open at exit are listed in $T/vg.
vg () {
  valgrind -q --error-exitcode=99 --track-fds=yes --log-file="$T/vg" \
    "$AZPREP" "$@"
}
# refused NAME REGEX ENTRY...: the archive of ENTRYs is refused, REGEX
# on stderr; no memory error, the archive not left open (valgrind,
# slow: once per error path, not for every variant).
declare -A seen
refused () {
  local name=$1 re=$2 run=vg; shift 2
  tarf "$name" "$@"
  [ -z "${seen[$re]:-}" ] || run="$AZPREP"
  seen[$re]=1
  : > "$T/vg"
  expect_exit 1 $run check --ova "$T/$name"
  assert_contains "$T/err" "$name: $re"
  assert_not_contains "$T/vg" "Open file descriptor [0-9]+: .*$name" \
    "$name: the archive left open"
  assert_contains "$T/out" "COULD NOT CHECK"
}

n=0
# "1 xyz" first: it read past its buffer (valgrind sees it every time).
for rec in '1 xyz' '1 ' '3 a\n' '4 =x\n' '99 path=x\n' '10 path=xy' \
           '12 size=-1\n' '13 size=1x1\n' '12 path=a\x00b\n' \
           '18446744073709551617 size=1\n' 'x\n' ' 5 a=\n'; do
  n=$((n + 1))
  refused "pax$n.ova" "malformed pax extended header at byte 512" \
    "type=x,name=pax,data=$rec" "$OVF"
done
refused paxsize.ova "tar member at byte 1024 runs past the end" \
  "type=x,name=pax,data=22 size=9999999999999\n" "$OVF"
refused longL.ova "tar extended header of 70000 bytes: refused" \
  "type=L,name=././@LongLink,data=$(head -c 70000 /dev/zero | tr '\0' a)" \
  "$OVF"
refused emptyL.ova "tar long name at byte 512 is empty or too long" \
  "type=L,name=././@LongLink,data=\x00" "$OVF"
refused b256.ova "tar member at byte 0 runs past the end" \
  "$OVF,b256=1099511627776"
refused b256neg.ova "tar member at byte 0 runs past the end" \
  "$OVF,rawsize=ffffffffffffffffffffffff"
refused b256max.ova "tar member at byte 0 runs past the end" \
  "$OVF,rawsize=80ffffffffffffffffffffff"
refused octal.ova "tar member at byte 0 runs past the end" \
  "$OVF,rawsize=$(printf '12x' | xxd -p)000000000000000000"
refused sum.ova "not an OVA: bad tar header at byte 0" "$OVF,sum=bad"
refused cut.ova "tar member at byte 0 runs past the end" \
  "$OVF,header=only,end=no"
refused twoovf.ova "more than one .ovf member" "$OVF" \
  "name=other.ovf,file=$T/vm.ovf"
refused nomember.ova "not an OVA: no tar members" "name=dir/,type=5"
# A partial header after the members is the end, as for tar.
tarf partial.ova "$OVF" "name=disk1.img,file=$T/disk1.img,end=no"
head -c 100 /dev/zero >> "$T/partial.ova"
expect_exit 3 "$AZPREP" check --json --ova "$T/partial.ova"
[ "$(json 'd.vms[0].name')" = uefi-vm ] || fail "partial: the OVF"

# The disk twice: which copy counts differs between tools, so neither.
tarf twice.ova "$OVF" "name=disk1.img,file=$T/disk1.img" \
  "name=./disk1.img,file=$T/disk1.img"
expect_exit 3 "$AZPREP" check --json --ova "$T/twice.ova"
json 'd.vms[0].findings[0].message' |
  grep -q '"disk1.img" is in the OVA more than once' || fail "twice"

# Good extended headers: the .ovf's name from a pax path, the disk's
# from a GNU long name, a directory with a pax size before them (the
# size is the directory's, not the next member's).
long=$(printf 'd%.0s' $(seq 200))
sed -e "s/@DISK@/$long.img/" -e 's/@FIRMWARE@/efi/' "$D/template.ovf" \
  > "$T/long.ovf"
tarf good.ova "type=x,name=pax,data=12 size=512\n" \
  "type=5,name=dir/,data=$(head -c 512 /dev/zero | tr '\0' z)" \
  "type=x,name=pax,data=17 path=./vm.ovf\n" "name=ignored,file=$T/long.ovf" \
  "type=L,name=././@LongLink,data=$long.img\x00" \
  "name=short,file=$T/disk1.img"
expect_exit 3 "$AZPREP" check --json --ova "$T/good.ova"
[ "$(json 'd.vms[0].descriptor.disks[0].path')" = "$T/good.ova/$long.img" ] ||
  fail "good: long names"
assert_not_contains "$T/out" "not a member" "good: the disk member found"
echo "$n malformed pax records and 14 other hostile archives refused"
