#!/usr/bin/env bash
# Benchmark: azprep fix on the phony Server 2022 (BIOS) guest against a
# bare "guestfish -a DISK -i run" (launch, inspect, mount) in the same
# run.  Prints both times and the ratio.  Not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${IMAGES:=$PWD/build/images}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}"
src="$IMAGES/windows/win2022-bios.img"
[ -e "$src" ] || { echo "windows: $src not built (make images)"; exit 0; }
tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/azprep-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

now () { date +%s.%N; }
cp --sparse=always "$src" "$tmp/a.img"
cp --sparse=always "$src" "$tmp/b.img"

t0=$(now)
guestfish --ro -a "$tmp/a.img" -i exit
t1=$(now)
./azprep fix "$tmp/b.img" >/dev/null
t2=$(now)

awk -v t0="$t0" -v t1="$t1" -v t2="$t2" 'BEGIN {
  g = t1 - t0; f = t2 - t1
  printf "windows: guestfish -a DISK -i run: %.1f s\n", g
  printf "windows: azprep fix (Server 2022, BIOS): %.1f s\n", f
  printf "windows: ratio fix/guestfish: %.2f (target <= 1.5)\n", f / g
}'
