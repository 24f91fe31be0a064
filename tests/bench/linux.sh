#!/usr/bin/env bash
# azprep fix on the real Debian guest (BIOS + data disk) vs
# virt-v2v -i disk GUEST -o null on a copy of the same guest, same run,
# same TCG setting.  Both rebuild the initramfs with the guest's own
# update-initramfs in the appliance.  Target: azprep at most 0.6x.
# One run each (a fix is minutes under TCG).
source tests/bench/functions.sh
disk="$IMAGES/debian-bios.img" data="$IMAGES/debian-bios-data.img"
[ -f "$disk" ] || { echo "  skipped: $disk not built (make images)"; exit 0; }
command -v virt-v2v >/dev/null ||
  { echo "  skipped: virt-v2v not installed (.ci/apt-packages)"; exit 0; }
guestfish --ro -a "$disk" run >/dev/null 2>&1 || true   # warm the cache
cp --sparse=always "$disk" "$B/a.img"
cp --sparse=always "$data" "$B/a-data.img"
cp --sparse=always "$disk" "$B/v.img"
l0=$(load)
wall ours "$AZPREP" fix "$B/a.img" "$B/a-data.img"
wall peer virt-v2v -i disk "$B/v.img" -o null
report "fix (Debian 12, initramfs-tools, BIOS)" "$ours" "$peer" 0.6
echo "  load average before: $l0, after: $(load)"
