#!/usr/bin/env bash
# Benchmark: check (or inspect, before check exists) of a simulated VM's
# disk read in place over vCenter's datastore endpoint, against the same
# command on the same image as a local file, in the same run; and the
# bytes fetched over HTTP against the disk's size.  Targets: at most
# 1.5x the local time, well under 20% of the disk fetched.
cd "$(dirname "$0")/../.."
export AZPREP="$PWD/azprep" BUILD="$PWD/build"
export LIBGUESTFS_CACHEDIR="${LIBGUESTFS_CACHEDIR:-$PWD/build/appliance-cache}"
source tests/lib/functions.sh
source tests/lib/vcsim.sh
requires nbdkit curl mkfs.ext4

cmd=inspect
if "$AZPREP" check --help >/dev/null 2>&1; then cmd=check; fi
vcsim_start
vcsim_test_disk "$T/disk.img"
vcsim_put "$T/disk.img" DC0_H0_VM0
size=$(stat -c %s "$T/disk.img")
uri="vsphere://$VCSIM_HOST/DC0/DC0_H0_VM0/0?http=1"

now () { date +%s.%N; }
t0=$(now)
"$AZPREP" $cmd "$T/disk.img" >/dev/null 2>&1 || true
t1=$(now)
AZPREP_NBDKIT_STATS="$T/stats" "$AZPREP" $cmd --vsphere-allow-http "$uri" \
  >/dev/null 2>"$T/err" ||
  true
t2=$(now)
grep -q '^read:' "$T/stats" || { cat "$T/err"; fail "the remote $cmd read nothing"; }

bytes=$(awk '/^read:/ { for (i = 2; i < NF; i++) if ($(i+1) ~ /^(B|KiB|MiB|GiB),?$/) {
  u = $(i+1); m = u ~ /^GiB/ ? 1073741824 : u ~ /^MiB/ ? 1048576 : u ~ /^KiB/ ? 1024 : 1;
  printf "%d", $i * m; exit } }' "$T/stats")
reqs=$(awk '/^read:/ { print $2; exit }' "$T/stats")
awk -v l="$t0" -v m="$t1" -v r="$t2" -v b="$bytes" -v s="$size" -v c="$cmd" \
    -v q="$reqs" 'BEGIN {
  local = m - l; remote = r - m;
  printf "vsphere: %s of a %d MiB disk\n", c, s / 1048576;
  printf "  local file:          %6.1f s\n", local;
  printf "  datastore endpoint:  %6.1f s  (ratio %.2fx, target <= 1.5x)\n",
         remote, remote / local;
  printf "  fetched over HTTP:   %.1f MiB in %d requests = %.1f%% of the disk (target < 20%%)\n",
         b / 1048576, q, 100 * b / s;
}'
