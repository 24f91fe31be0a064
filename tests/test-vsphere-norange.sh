#!/usr/bin/env bash
# A datastore endpoint that ignores HTTP Range: inspect refuses the disk
# with a clear message and does not download it (the test server counts
# what it managed to send before azprep hung up).  No appliance.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
requires node curl nbdkit
vcsim_start
vsphere_proxy_start norange "$T/sent" "the test server"

expect_exit 1 "$AZPREP" inspect --vsphere-allow-http \
  "vsphere://127.0.0.1:$port/DC0_H0_VM0/0?http=1"
assert_contains "$T/err" 'ignores HTTP Range requests'
assert_contains "$T/err" 'nothing was downloaded'
assert_contains "$T/err" "127.0.0.1:$port/folder/DC0_H0_VM0/disk1-flat.vmdk"
for i in $(seq 50); do [ -s "$T/sent" ] && break; sleep 0.1; done
sent=$(cat "$T/sent")
echo "the server sent $sent bytes of 134217728"
# Whatever socket buffers held: a small fraction of the disk.
[ "$sent" -lt $((16 * 1024 * 1024)) ] || fail "downloaded $sent bytes"
