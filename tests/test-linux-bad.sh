#!/usr/bin/env bash
# azprep fix on bad Linux guests: an unknown distribution, no kernel, no
# initramfs tool, a tool that fails, an fstab that does not parse, a
# full root file system, a damaged and a read-only root file system.
# Each: a clear error naming the guest file, file system or tool, the
# documented exit code, and the disk unchanged (checksum).
source tests/lib/functions.sh
P=$BUILD/images
for b in bad_distro bad_nokernel bad_notool bad_tool bad_fstab bad_full; do
  [ -e "$P/phony-$b.img" ] || skip "phony-$b.img not built (make images)"
done

# bad NAME EXIT REGEX: fix a copy, expect EXIT and REGEX on stderr, and
# the disk byte for byte as it was.
bad () {
  [ -e "$T/$1.img" ] || cp --sparse=always "$P/phony-$1.img" "$T/$1.img"
  local before; before=$(sum_of "$T/$1.img")
  expect_exit "$2" "$AZPREP" fix "$T/$1.img"
  assert_contains "$T/err" "$3" "$1: stderr"
  [ "$(sum_of "$T/$1.img")" = "$before" ] || fail "$1: the disk was changed"
  [ ! -e "$T/$1.img.azprep-undo" ] || fail "$1: an undo journal was left"
}

bad bad_distro 3 'refused: /etc/os-release: distribution .* is not supported'
bad bad_nokernel 3 'refused: /boot: no installed kernel'
bad bad_notool 3 'refused: /usr/sbin: no initramfs tool in the guest'
bad bad_tool 1 '/usr/bin/dracut \(run in the guest\) failed: .*failing as /etc/azprep-stub-fail asks'
assert_contains "$T/err" 'kernel 5\.14\.0-.*: rebuilding /boot/initramfs-.*\.img with /usr/bin/dracut failed; nothing was committed'
# libguestfs inspection (augeas) refuses it before any fixup runs; azprep's
# own parser says "/etc/fstab: line N cannot be parsed" when it gets there.
bad bad_fstab 1 '/etc/fstab.*(line 2 cannot be parsed|augeas parse failure)'
bad bad_full 1 '(No space left on device|ENOSPC)'
assert_contains "$T/err" 'nothing was committed'

# A damaged root file system (errors recorded in the superblock, as
# tune2fs -E force_fsck or the kernel leave it) and a read-only one (the
# ext4 read-only feature): refused before anything is written, naming
# the file system, where it is mounted and the disk.  Made from copies
# of a good guest (root: partition 1, at 1 MiB).
fs_bad () {     # NAME TUNE2FS-OPTION...: $T/NAME.img
  local n=$1; shift
  cp --sparse=always "$P/phony-ubuntu2204.img" "$T/$n.img"
  tune2fs "$@" "$T/$n.img?offset=1048576" >/dev/null 2>&1 ||
    fail "tune2fs $* on $n.img failed"
}
fs_bad fs_errors -E force_fsck
bad fs_errors 3 "refused: /: /dev/sda1 \(mounted on /, disk $T/fs_errors\.img\): the ext4 file system has errors recorded \(state: clean with errors\)"
assert_contains "$T/err" 'fsck'
fs_bad fs_readonly -O read-only
bad fs_readonly 3 "refused: /: /dev/sda1 \(mounted on /, disk $T/fs_readonly\.img\): the ext4 file system has the read-only feature"
