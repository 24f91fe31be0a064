#!/usr/bin/env bash
# azprep check --vms, the default --jobs: the cores, at most the GiB
# available less one, as -v says.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires qemu-img

make_fleet
expect_exit 3 "$AZPREP" check -v --vms "$T/fleet.txt"
read -r jobs cores mib < <(sed -n 's/.*debug: --jobs \([0-9]*\): \([0-9]*\) cores, \([0-9]*\) MiB of memory available$/\1 \2 \3/p' "$T/err")
[ -n "$jobs" ] || fail "-v does not say how --jobs was chosen"
[ "$cores" = "$(getconf _NPROCESSORS_ONLN)" ] || fail "--jobs: $cores cores"
avail=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
[ $((mib - avail)) -lt 1024 ] && [ $((avail - mib)) -lt 1024 ] ||
  fail "--jobs: $mib MiB available, /proc/meminfo says $avail"
want=$(( cores < mib / 1024 - 1 ? cores : mib / 1024 - 1 ))
[ "$want" -ge 1 ] || want=1
[ "$jobs" = "$want" ] || fail "--jobs $jobs, expected $want ($cores cores, $mib MiB)"
