#!/usr/bin/env bash
# HTTPS with certificate verification: Azurite with a certificate signed
# by a CA made here; azprep trusts it with --cacert and refuses it
# without.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires openssl qemu-img

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=azprep test CA" \
  -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$T/key.pem" -out "$T/req.pem" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$T/ext.cnf"
openssl x509 -req -in "$T/req.pem" -CA "$T/ca.pem" -CAkey "$T/ca.key" \
  -CAcreateserial -days 2 -extfile "$T/ext.cnf" -out "$T/cert.pem" 2>/dev/null
azurite_start --cert "$T/cert.pem" --key "$T/key.pem"
export NODE_EXTRA_CA_CERTS=$T/ca.pem

img=$T/vm.raw
truncate -s 32M "$img"
printf 'hello' | dd of="$img" bs=1 seek=4096 conv=notrunc status=none

expect_exit 1 "$AZPREP" replicate --container vms --name vm1 \
  --state "$T/state" "$img"
assert_contains "$T/err" 'certificate|SSL'
assert_contains "$T/err" '--cacert'

expect_exit 0 "$AZPREP" replicate --container vms --name vm2 \
  --state "$T/state" --cacert "$T/ca.pem" "$img"
[ "$(blobtool digest vms vm2-disk0.vhd - 33554432)" = \
  "$(blobtool filedigest "$img" 33554432)" ] || fail "content over HTTPS"
