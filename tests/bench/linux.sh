#!/usr/bin/env bash
# azprep fix on the real Debian guest (BIOS + data disk) vs
# virt-v2v -i disk GUEST -o null on a copy of the same guest, same run,
# same TCG setting.  Both rebuild the initramfs with the guest's own
# update-initramfs in the appliance.  Target: azprep at most 0.5x.
# Alternating, each on a fresh copy (tests/bench/functions.sh; a fix is
# minutes under TCG: BENCH_RUNS=3 pairs take a while).  Then azprep's
# phases (tests/bench/phases.sh on its fix --json reports).
source tests/bench/functions.sh
disk="$IMAGES/debian-bios.img" data="$IMAGES/debian-bios-data.img"
[ -f "$disk" ] || { echo "  skipped: $disk not built (make images)"; exit 0; }
command -v virt-v2v >/dev/null ||
  { echo "  skipped: virt-v2v not installed (.ci/apt-packages)"; exit 0; }
guestfish --ro -a "$disk" run >/dev/null 2>&1 || true   # warm the cache
v2v_prep () { cp --sparse=always "$disk" "$B/v.img"; }
v2v () { virt-v2v -i disk "$B/v.img" -o null; }
fix_prep () {
  cp --sparse=always "$disk" "$B/a.img"
  cp --sparse=always "$data" "$B/a-data.img"
}
runs=0
fix () {
  runs=$((runs + 1))
  "$AZPREP" fix --json "$B/a.img" "$B/a-data.img" >"$B/fix.$runs.json"
}
bench_pair "fix (Debian 12, initramfs-tools, BIOS) / virt-v2v" "<=" 0.5 \
  v2v fix
# Where azprep's time goes: the phases of its fix runs (fix --json).
echo "  azprep's phases, median of $runs runs (spread):"
bash tests/bench/phases.sh "$B"/fix.*.json ||
  echo "  (the phases could not be read)"
