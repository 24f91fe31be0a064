#!/usr/bin/env bash
# azprep check --ovf on an OVA: a tar holding the .ovf and its disk,
# read in place (nothing is extracted); a damaged member is an
# unreadable disk named OVA/MEMBER; a member missing, a descriptor-only
# VMDK, an archive cut short and not a tar are each said clearly.  (A
# good OVA, with streamOptimized VMDKs, is the fleet test's "good".)
# No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires qemu-img tar

make_ova
TMPDIR="$T/tmp" && mkdir "$TMPDIR" && export TMPDIR
expect_exit 3 "$AZPREP" check --json --ovf "$T/vm.ova"
unset TMPDIR
[ "$(json 'd.vms[0].descriptor.kind')" = ova ] || fail "ova: kind"
[ "$(json 'd.vms[0].findings[0].id')" = disk-unreadable ] || fail "ova: disk finding"
[ "$(json 'd.vms[0].findings[0].object')" = "$T/vm.ova/disk1.qcow2" ] ||
  fail "ova: the finding names the member"
[ -z "$(ls "$T/tmp")" ] || fail "ova: temporary directory left behind"
# A member the OVF names but the archive lacks; a descriptor-only VMDK
# (its extent is another file); an archive cut short; not a tar.
(cd "$T/ova" && tar -cf ../nodisk.ova vm.ovf)
expect_exit 3 "$AZPREP" check --json --ovf "$T/nodisk.ova"
json 'd.vms[0].findings[0].message' | grep -q '"disk1.qcow2" is not a member of the OVA' ||
  fail "ova: missing member"
printf '# Disk DescriptorFile\nversion=1\n' > "$T/ova/disk1.qcow2"
truncate -s 4096 "$T/ova/disk1.qcow2"
(cd "$T/ova" && tar -cf ../desc.ova vm.ovf disk1.qcow2)
expect_exit 3 "$AZPREP" check --json --ovf "$T/desc.ova"
json 'd.vms[0].findings[0].message' | grep -q 'VMDK descriptor whose extents are other files' ||
  fail "ova: descriptor-only VMDK"
head -c 3000 "$T/desc.ova" > "$T/cut.ova"
bad_ovf "$T/cut.ova" "cut.ova: tar member at byte [0-9]+ runs past the end of the archive"
echo notatar > "$T/bad.ova"
bad_ovf "$T/bad.ova" "not an OVF descriptor|not well-formed"
head -c 1024 /dev/urandom > "$T/rnd.ova"
printf 'ustar' | dd of="$T/rnd.ova" bs=1 seek=257 conv=notrunc status=none
bad_ovf "$T/rnd.ova" "rnd.ova: not an OVA: bad tar header at byte 0"
