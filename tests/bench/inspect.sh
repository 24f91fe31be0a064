#!/usr/bin/env bash
# azprep inspect on the Debian guest (2 disks) vs a bare read-only
# appliance launch (guestfish --ro -a DISK -a DATA run), alternating
# (tests/bench/functions.sh).  Target: at most 1.1x.
source tests/bench/functions.sh
disk="$IMAGES/debian-bios.img" data="$IMAGES/debian-bios-data.img"
[ -f "$disk" ] || { echo "  skipped: $disk not built (make images)"; exit 0; }
# Warm the appliance cache so neither side pays for building it.
guestfish --ro -a "$disk" run >/dev/null 2>&1 || true
peer () { guestfish --ro -a "$disk" -a "$data" run; }
ours () { "$AZPREP" inspect --json "$disk" "$data"; }
bench_pair "inspect (Debian, 2 disks) / bare launch" "<=" 1.1 peer ours
