#!/usr/bin/env bash
# azprep replicate --vms FLEET against a real Azurite: every VM its own
# job named after it (blobs VM-diskN.vhd), --jobs at a time, output
# lines carrying the VM's name; --vm-index I replicates VM I alone in
# this process.  SIGTERM to the fleet is passed on once: every VM stops
# cleanly mid-cycle and resumes with the same command.  Misuse is a
# usage error.
source tests/lib/functions.sh
source tests/lib/azurite.sh
azurite_start

MiB=$((1024 * 1024))
# Three VMs (a two-disk one), a comment, a .vmx entry.
for d in a0 b0 b1 c0; do
  head -c $((3 * MiB)) /dev/urandom > "$T/$d.raw"
done
cat > "$T/c.vmx" <<EOT
config.version = "8"
displayName = "c"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "c0.raw"
EOT
cat > "$T/fleet.json" <<EOT
[ { "name": "vm-a", "disks": ["a0.raw"], "format": "raw" },
  { "name": "vm-b", "disks": ["b0.raw", "$T/b1.raw"] },
  { "name": "vm-c", "vmx": "c.vmx", "format": "raw" } ]
EOT
rep () { "$AZPREP" replicate --container fleet --state "$T/state" \
           --vms "$T/fleet.json" "$@"; }
same () {  # BLOB FILE [SNAPSHOT]
  local n
  n=$(stat -c %s "$2")
  [ "$(blobtool digest fleet "$1" "${3:--}" "$n")" = \
    "$(blobtool filedigest "$2" "$n")" ] || fail "$1 differs from $2"
}

expect_exit 0 rep --jobs 2 --json
grep -v '"progress"' "$T/out"
for vm in vm-a vm-b vm-c; do
  assert_contains "$T/out" "{\"vm\":\"$vm\",\"event\":\"cycle\",\"disk\":0,\"kind\":\"initial\""
  assert_contains "$T/err" "VM $vm: exit 0"
done
assert_contains "$T/out" '{"vm":"vm-b","event":"cycle","disk":1,'
[ "$(grep -c '"event":"cycle"' "$T/out")" = 4 ] || fail "not 4 disks' cycles"
# Every line of the children came through whole, with its VM.
node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8")
            .split("\n").filter(Boolean)) {
           const j = JSON.parse(l); if (!/^vm-[abc]$/.test(j.vm)) process.exit(1); }' \
  "$T/out" || fail "a JSON line without its VM"
same vm-a-disk0.vhd "$T/a0.raw"
same vm-b-disk0.vhd "$T/b0.raw"
same vm-b-disk1.vhd "$T/b1.raw"
same vm-c-disk0.vhd "$T/c0.raw"
# The recovery point of each, read back with the SDK.
rp=$(grep '"vm":"vm-c","event":"cycle"' "$T/out" |
       sed 's/.*"recovery_point":"\([^"]*\)".*/\1/')
same vm-c-disk0.vhd "$T/c0.raw" "$rp"
for vm in vm-a vm-b vm-c; do
  [ -f "$T/state/$vm.json" ] || fail "no journal for job $vm"
done

# --vm-index: one VM, in this process, text output unprefixed.
head -c $MiB /dev/urandom | dd of="$T/b1.raw" bs=1M seek=1 conv=notrunc \
  status=none
expect_exit 0 rep --vm-index 1
assert_contains "$T/err" "b1.raw: cycle 2 .delta. done: 1.0 MiB sent"
assert_not_contains "$T/err" "vm-a"
same vm-b-disk1.vhd "$T/b1.raw"

# SIGTERM to the fleet mid-cycle (a slow proxy), passed on once: each
# VM stops cleanly (exit 1: stopped during a cycle), then resumes.
faultproxy_start --slow 300
for vm in x y z; do
  head -c $((64 * MiB)) /dev/urandom > "$T/$vm.raw"
  echo "vm-$vm $vm.raw"
done > "$T/slow.txt"
AZURE_STORAGE_CONNECTION_STRING=$(connection_string "$PROXY_ENDPOINT") \
  "$AZPREP" replicate --container fleet --state "$T/state" \
  --vms "$T/slow.txt" --jobs 3 --json --parallel 1 >"$T/out.t" 2>"$T/err.t" &
pid=$!
sending () {  # a progress line of VM $1 with bytes sent
  grep -q "{\"vm\":\"vm-$1\",\"event\":\"progress\".*\"bytes_sent\":[1-9]" \
    "$T/out.t"
}
for i in $(seq 1 300); do
  sending x && sending y && sending z && break
  sleep 0.1
done
kill -TERM $pid
rc=0; wait $pid || rc=$?
cat "$T/err.t"
[ $rc = 1 ] || fail "SIGTERM: exit $rc, not 1"
for vm in x y z; do
  assert_contains "$T/out.t" "{\"vm\":\"vm-$vm\",\"event\":\"stopped\",\"signal\":\"TERM\",\"in_cycle\":true"
done
assert_not_contains "$T/err.t" "killed by signal"
expect_exit 0 "$AZPREP" replicate --container fleet --state "$T/state" \
  --vms "$T/slow.txt"
for vm in x y z; do
  same "vm-$vm-disk0.vhd" "$T/$vm.raw"
done

# Misuse.
expect_exit 2 rep "$T/a0.raw"
expect_exit 2 rep --name x
expect_exit 2 rep --jobs 0
expect_exit 2 "$AZPREP" replicate --container fleet --vm-index 0 "$T/a0.raw"
expect_exit 2 "$AZPREP" replicate --to "$AZURITE_ENDPOINT/fleet/x.vhd" \
  --vms "$T/fleet.json"
assert_contains "$T/err" "not blob URLs"
expect_exit 2 rep --vm-index 3
assert_contains "$T/err" "--vm-index 3: the fleet $T/fleet.json has 3 VMs .0 to 2."
printf 'bad/name a0.raw\n' > "$T/badname.txt"
expect_exit 2 "$AZPREP" replicate --container fleet --state "$T/state" \
  --vms "$T/badname.txt" --vm-index 0
assert_contains "$T/err" "VM bad/name: not a valid job name"
# A fleet with a VM that fails: the others go on, the worst exit.
printf 'ok a0.raw\nmissing nope.raw\n' > "$T/part.txt"
expect_exit 1 "$AZPREP" replicate --container fleet --state "$T/state" \
  --vms "$T/part.txt"
assert_contains "$T/err" "VM ok: exit 0"
assert_contains "$T/err" "^.missing. azprep: error:"
echo "replicate --vms: each VM its own job"
