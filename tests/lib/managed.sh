# Sourced by the tests of replication to a SAS target (after
# tests/lib/functions.sh and tests/lib/azurite.sh, with Azurite started):
#
#   img, V         a 256 MiB qcow2 source with 3 MiB + 64 KiB of data
#   sas_sig URL    the signature (sig) of a SAS URL, decoded
#   assert_sas_absent SIG FILE...
#                  SIG, plain or URL-encoded, appears in no FILE
img=$T/vm.qcow2
V=$((256 * 1024 * 1024))
qemu-img create -q -f qcow2 "$img" 256M
qemu-io -f qcow2 -c 'write -P 7 1M 3M' -c 'write -P 8 200M 64k' "$img" >/dev/null

sas_sig () {
  node -e 'console.log(decodeURIComponent(new URL(process.argv[1]).searchParams.get("sig")))' "$1"
}

assert_sas_absent () {
  local sig=$1
  shift
  assert_secret_absent "$sig" "the SAS signature" "$@"
  assert_secret_absent \
    "$(node -e 'console.log(encodeURIComponent(process.argv[1]))' "$sig")" \
    "the encoded SAS signature" "$@"
}
