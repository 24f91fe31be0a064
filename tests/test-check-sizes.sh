#!/usr/bin/env bash
# azprep check, the size table: --size must be in it; a broken --sizes
# file is a clear error; --size picks from a --sizes file, whatever the
# case.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh

cp "$D/bad.vmx" "$T/bad.vmx"
expect_exit 2 "$AZPREP" check --size Standard_Nope "$T/bad.vmx"
assert_contains "$T/err" "Standard_Nope: not in the size table"
echo '{"sizes": [{"name": "x"}]}' > "$T/sizes.json"
expect_exit 2 "$AZPREP" check --sizes "$T/sizes.json" "$T/bad.vmx"
assert_contains "$T/err" 'sizes.json: sizes\[0\]: needs name, vcpus'
echo '{"sizes": [{"name": "Tiny_1", "vcpus": 1, "memory_gib": 0.5, "max_data_disks": 1, "generations": [1, 2]}]}' > "$T/sizes.json"
expect_exit 3 "$AZPREP" check --json --sizes "$T/sizes.json" --size tiny_1 --vmx "$T/bad.vmx"
[ "$(json 'd.vms[0].azure.size.name + " " + d.vms[0].azure.size.chosen')" = "Tiny_1 given" ] ||
  fail "--size from --sizes"
