#!/usr/bin/env bash
# azprep fix on the phony Server 2022 guests (BIOS: the BCD on System
# Reserved; UEFI: on the ESP) against a bare "guestfish -a DISK -i run"
# (launch, inspect, mount) of the same disk, in the same run.  The two
# alternate, three pairs per guest, each fix on a fresh copy; the
# medians are compared, so that a load change in the middle of the run
# weighs on both sides.  Target: at most 1.5x.  Not a test.
source tests/bench/functions.sh

# fix_fresh SRC: a fresh copy, then azprep fix on it.
fix_fresh () {
  cp --sparse=always "$1" "$B/fix.img"
  "$AZPREP" fix "$B/fix.img"
}

for fw in bios uefi; do
  src="$IMAGES/windows/win2022-$fw.img"
  [ -e "$src" ] || { echo "  skipped: $src not built (make images)"; continue; }
  cp --sparse=always "$src" "$B/peer.img"
  guestfish --ro -a "$B/peer.img" run >/dev/null 2>&1 || true  # warm the cache
  g=() f=()
  for i in 1 2 3; do
    wall t guestfish --ro -a "$B/peer.img" -i exit
    g+=("$t")
    wall t fix_fresh "$src"
    f+=("$t")
  done
  med () { printf '%s\n' "$@" | sort -n | sed -n 2p; }
  report "fix (Server 2022, $fw) vs guestfish -i" "$(med "${f[@]}")" \
    "$(med "${g[@]}")" 1.5
done
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg)"
