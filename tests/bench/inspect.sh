#!/usr/bin/env bash
# azprep inspect on the Debian guest vs a bare read-only appliance
# launch (guestfish --ro -a DISK run).  Target: at most 1.3x.
source tests/bench/functions.sh
disk="$IMAGES/debian-bios.img" data="$IMAGES/debian-bios-data.img"
[ -f "$disk" ] || { echo "  skipped: $disk not built (make images)"; exit 0; }
# Warm the appliance cache so neither side pays for building it.
guestfish --ro -a "$disk" run >/dev/null 2>&1 || true
median3 peer guestfish --ro -a "$disk" -a "$data" run
median3 ours "$AZPREP" inspect --json "$disk" "$data"
report "inspect (Debian, 2 disks)" "$ours" "$peer" 1.3
