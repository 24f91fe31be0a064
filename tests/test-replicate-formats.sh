#!/usr/bin/env bash
# Sources: one job with several disks of different formats (qcow2 with a
# persistent dirty bitmap, vmdk streamOptimized, vhd, vhdx, raw), read
# through qemu-nbd without temporary files.  The delta uses the bitmap
# and sends only what changed.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start

S=$((64 * 1024 * 1024))
qemu-img create -q -f qcow2 "$T/d0.qcow2" 64M
qemu-img bitmap --add "$T/d0.qcow2" cbt
qemu-io -f qcow2 -c 'write -P 1 0 1M' -c 'write -P 2 40M 512k' "$T/d0.qcow2" >/dev/null
qemu-img create -q -f raw "$T/src.raw" 64M
qemu-io -f raw -c 'write -P 3 4M 2M' -c 'write -P 4 63M 1M' "$T/src.raw" >/dev/null
qemu-img convert -O vmdk -o subformat=streamOptimized "$T/src.raw" "$T/d1.vmdk"
qemu-img convert -O vpc -o subformat=dynamic "$T/src.raw" "$T/d2.vhd"
qemu-img convert -O vhdx "$T/src.raw" "$T/d3.vhdx"
disks=("$T/d0.qcow2" "$T/d1.vmdk" "$T/d2.vhd" "$T/d3.vhdx" "$T/src.raw")

rep () { "$AZPREP" replicate --container vms --name vm --state "$T/state" \
           --json -v "${disks[@]}"; }
expect_exit 0 rep
[ "$(grep -c '"event":"cycle"' "$T/out")" = 5 ] || fail "not 5 disks"
[ "$(json_get "$T/state/vm.json" 'd.disks[0].bitmap')" = cbt ] ||
  fail "the bitmap was not recorded at the initial copy"

check () {
  local i=$1 src=$2 want
  qemu-img convert -O raw "$src" "$T/c.raw"
  want=$(blobtool filedigest "$T/c.raw" $S)
  [ "$(blobtool digest vms vm-disk$i.vhd - $S)" = "$want" ] ||
    fail "disk $i ($src) differs"
}
for i in 0 1 2 3 4; do check $i "${disks[$i]}"; done

# Delta on the qcow2 only: 1 MiB changed, found through the bitmap.
qemu-io -f qcow2 -c 'write -P 9 20M 1M' "$T/d0.qcow2" >/dev/null
expect_exit 0 rep
assert_contains "$T/err" 'delta from the dirty bitmap cbt'
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n")
    .filter((l) => l.includes("\"event\":\"cycle\"")).map(JSON.parse);
  const sent = lines.map((l) => l.bytes_sent);
  console.log("delta bytes per disk: " + sent.join(" "));
  if (sent[0] !== 1048576 || sent.slice(1).some((s) => s !== 0)) process.exit(1);
' "$T/out" || fail "the delta did not send exactly the changed MiB"
check 0 "$T/d0.qcow2"
