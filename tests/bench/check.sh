#!/usr/bin/env bash
# Benchmark: azprep check.
#  1. check of the Debian guest against a bare read-only appliance launch
#     (guestfish --ro -a DISK run), in the same run.  Target: <= 1.2x.
#  2. a fleet of 8 VMs with --jobs 2 against 8 sequential single checks.
#     Target: <= 0.6x.
# Figures and ratios only: nothing passes or fails on time.
cd "$(dirname "$0")/../.."
export AZPREP="$PWD/azprep" BUILD="$PWD/build"
export IMAGES="${IMAGES:-$PWD/build/images}"
export LIBGUESTFS_CACHEDIR="${LIBGUESTFS_CACHEDIR:-$PWD/build/appliance-cache}"
source tests/lib/functions.sh
source tests/lib/check-guests.sh
requires guestfish mkfs.ext4 sfdisk

# The Debian guest of make images if it is there, else a phony one.
disk=$IMAGES/debian-bios.img
if [ ! -e "$disk" ]; then
  disk=$T/debian.img
  good_debian "$disk"
  echo "(no $IMAGES/debian-bios.img: a phony Debian guest instead)"
fi
now () { date +%s.%N; }

# Warm the appliance cache so neither side pays for building it.
guestfish --ro -a "$disk" run >/dev/null 2>&1

ratio () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
secs () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%6.1f", b - a }'; }

load () { cut -d' ' -f1-3 /proc/loadavg; }
echo "check: one guest ($(nproc) cores, load average $(load))"
t0=$(now)
guestfish --ro -a "$disk" run
t1=$(now)
"$AZPREP" check "$disk" >/dev/null 2>&1 || true
t2=$(now)
echo "  guestfish --ro run:        $(secs "$t0" "$t1") s"
echo "  azprep check:              $(secs "$t1" "$t2") s  (ratio $(ratio "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")")x, target <= 1.2x)"

# Eight VMs: copies of the guest (sparse).
mkdir "$T/fleet"
: > "$T/fleet/fleet.txt"
for i in 1 2 3 4 5 6 7 8; do
  cp --sparse=always "$disk" "$T/fleet/vm$i.img"
  echo "vm$i vm$i.img" >> "$T/fleet/fleet.txt"
done
echo "check: 8 VMs (load average $(load))"
t3=$(now)
for i in 1 2 3 4 5 6 7 8; do
  "$AZPREP" check "$T/fleet/vm$i.img" >/dev/null 2>&1 || true
done
t4=$(now)
echo "  8 sequential checks:       $(secs "$t3" "$t4") s"
"$AZPREP" check --vms "$T/fleet/fleet.txt" --jobs 2 >/dev/null 2>&1 || true
t5=$(now)
echo "  --vms, --jobs 2:           $(secs "$t4" "$t5") s  (ratio $(ratio "$(secs "$t3" "$t4")" "$(secs "$t4" "$t5")")x, target <= 0.6x)"
echo "(load average at the end: $(load))"
