#!/usr/bin/env bash
# azprep fix on the phony Server 2022 guests (BIOS: the BCD on System
# Reserved; UEFI: on the ESP) against a bare "guestfish -a DISK -i exit"
# (launch, inspect, mount) of the same disk, alternating, each fix on a
# fresh copy (tests/bench/functions.sh).  Target: at most 0.7x.  Not a
# test.
source tests/bench/functions.sh

for fw in bios uefi; do
  src="$IMAGES/windows/win2022-$fw.img"
  [ -e "$src" ] || { echo "  skipped: $src not built (make images)"; continue; }
  cp --sparse=always "$src" "$B/peer.img"
  guestfish --ro -a "$B/peer.img" run >/dev/null 2>&1 || true  # warm the cache
  mount_only () { guestfish --ro -a "$B/peer.img" -i exit; }
  fix_prep () { cp --sparse=always "$src" "$B/fix.img"; }
  fix () { "$AZPREP" fix "$B/fix.img"; }
  bench_pair "fix (Server 2022, $fw) / guestfish -i" "<=" 0.7 mount_only fix
done
