#!/usr/bin/env bash
# Hostile disks: each gets a one-line error naming the disk and the
# reason, the documented exit code, no crash, and its bytes unchanged.
source tests/lib/functions.sh
requires qemu-img guestfish

# name|expected exit|regex the error must match
cases=(
  "bad/zero.img|1|no operating system found"
  "bad/random.img|1|no operating system found"
  "bad/truncated.qcow2|1|not a readable disk image"
  "bad/no-os.img|1|no operating system found \\(filesystems"
  "bad/two-os.img|1|2 operating systems found"
  "bad/luks-root.img|3|LUKS-encrypted"
)
for c in "${cases[@]}"; do
  IFS='|' read -r name want re <<<"$c"
  img=$(require_image "$name")
  before=$(sum_of "$img")
  for cmd in inspect "fix --dry-run"; do
    # Appliances are expensive: fix only where it fails before launch.
    [ "$cmd" = inspect ] || [ "$name" = bad/truncated.qcow2 ] || continue
    # shellcheck disable=SC2086
    expect_exit "$want" "$AZPREP" $cmd "$img"
    grep -v '^azprep: rolled back' "$T/err" > "$T/err1"
    [ "$(wc -l < "$T/err1")" -eq 1 ] ||
      { cat "$T/err"; fail "$name: error is not one line"; }
    assert_contains "$T/err1" "^azprep: error: .*$(basename "$img"): .*$re" "$name"
    assert_not_contains "$T/err1" 'Segmentation|Aborted|AddressSanitizer'
  done
  [ "$(sum_of "$img")" = "$before" ] || fail "$name was changed"
done
