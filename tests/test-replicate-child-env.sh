#!/usr/bin/env bash
# No child of azprep (qemu-nbd, qemu-img, nbdkit...) inherits a secret:
# azprep takes the storage key and the vCenter password out of its
# environment before it starts any, and no command line carries them.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img qemu-io qemu-nbd
azurite_start

img=$T/vm.qcow2
qemu-img create -q -f qcow2 "$img" 64M
qemu-io -f qcow2 -c 'write -P 7 1M 3M' "$img" >/dev/null
export VSPHERE_PASSWORD=vc-Secret-7f3a9b2e
export AZURE_STORAGE_KEY=$AZURITE_KEY

# The watcher samples ten times a second, and qemu-nbd serving a 64 MiB
# image may live less than that: a qemu-nbd first in PATH records its
# own command line and the environment it inherited, then becomes the
# real one.
real_nbd=$(command -v qemu-nbd)
mkdir "$T/bin"
cat > "$T/bin/qemu-nbd" <<EOS
#!/bin/sh
{ echo "== \$\$"; tr '\\0' '\\n' < /proc/\$\$/cmdline
  tr '\\0' '\\n' < /proc/\$\$/environ; } >> "$T/procs"
exec "$real_nbd" "\$@"
EOS
chmod +x "$T/bin/qemu-nbd"
export PATH=$T/bin:$PATH

for cycle in 1 2; do
  expect_exit_watched 0 "$AZPREP" replicate --container vms --name env \
    --state "$T/state" "$img"
done
# Children were seen (else the test proves nothing).
[ "$(grep -c '^== ' "$T/procs")" -gt 2 ] || fail "no child was watched"
grep -q '^qemu-nbd\|/qemu-nbd$\|^nbdkit' "$T/procs" ||
  fail "no qemu-nbd or nbdkit child was seen"
assert_secret_absent "$AZURITE_KEY" "the account key" "$T/procs" \
  "$T/out" "$T/err" "$T/state"/*
assert_secret_absent "$VSPHERE_PASSWORD" "the vCenter password" "$T/procs"
