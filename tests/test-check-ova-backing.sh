#!/usr/bin/env bash
# azprep check --ova on disk members that would make qemu read other
# host files: a qcow2 with a backing file or an external data file, a
# sparse VMDK whose embedded descriptor gives the extents (capacity 0,
# at the start or in a stream's footer) or names a parent.  Each is a
# blocker naming the member and why, found before any qemu-nbd or
# appliance starts; no host file's bytes are served.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires python3 qemu-img tar

printf 'HOSTSECRET-%.0s' $(seq 100) > "$T/host.bin"
truncate -s 1M "$T/host.bin"
sed -e 's/@DISK@/disk1.img/' -e 's/@FIRMWARE@/efi/' "$D/template.ovf" \
  > "$T/vm.ovf"

# member NAME FILE REASON: an OVA of vm.ovf and FILE as its disk is
# refused with REASON, no qemu-nbd left, nothing extracted.
member () {
  truncate -s %512 "$2"
  python3 tests/tools/mktar.py "$T/$1.ova" "name=vm.ovf,file=$T/vm.ovf" \
    "name=disk1.img,file=$2"
  mkdir "$T/tmp-$1"
  TMPDIR="$T/tmp-$1" expect_exit 3 "$AZPREP" check --json --ova "$T/$1.ova"
  [ "$(json 'd.vms[0].findings.filter(f => f.id == "disk-unreadable").length')" = 1 ] ||
    fail "$1: no unreadable-disk finding"
  json 'd.vms[0].findings[0].object' | grep -qF "$T/$1.ova/disk1.img" ||
    fail "$1: the finding names the member"
  json 'd.vms[0].findings[0].message' | grep -Eq "$3" ||
    { json 'd.vms[0].findings[0].message'; fail "$1: reason"; }
  # Refused before anything served it: no inspection, no NBD server.
  assert_not_contains "$T/out" '"os":\s*\{' "$1: inspected"
  [ -z "$(ls "$T/tmp-$1")" ] || fail "$1: a temporary directory is left"
  ! pgrep -f "qemu-nbd.*$T/$1.ova" >/dev/null || fail "$1: qemu-nbd running"
}

qemu-img create -q -f qcow2 -b "$T/host.bin" -F raw "$T/backing.qcow2"
member backing "$T/backing.qcow2" 'a qcow2 image with a backing file: refused'
qemu-img create -q -f qcow2 -o data_file="$T/host.bin",data_file_raw=on \
  "$T/datafile.qcow2" 1M
member datafile "$T/datafile.qcow2" 'with an external data file: refused'
python3 tests/tools/mkvmdk.py "$T/extent.vmdk" "$T/host.bin" 0
member extent "$T/extent.vmdk" 'embedded descriptor names its extents'
python3 tests/tools/mkvmdk.py "$T/relext.vmdk" "host.bin" 0
member relative-extent "$T/relext.vmdk" 'embedded descriptor names its extents'
python3 tests/tools/mkvmdk.py "$T/footer.vmdk" "$T/host.bin" 2048 footer
member footer "$T/footer.vmdk" 'embedded descriptor names its extents'
python3 tests/tools/mkvmdk.py "$T/parent.vmdk" "$T/host.bin" 2048 parent
member parent "$T/parent.vmdk" 'names a parent disk'
echo "6 hostile members refused before anything served them"
