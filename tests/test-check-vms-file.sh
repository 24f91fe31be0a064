#!/usr/bin/env bash
# azprep check --vms, the fleet file: its errors name the file and the
# VM; --vms with disks or --jobs 0 is a usage error.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh

echo '[{"name": "a"}]' > "$T/f1.json"
expect_exit 1 "$AZPREP" check --vms "$T/f1.json"
assert_contains "$T/err" 'f1.json: VM a: needs "disks"'
echo '[{"name": "a", "disks": ["x"]}, {"name": "a", "disks": ["y"]}]' > "$T/f2.json"
expect_exit 1 "$AZPREP" check --vms "$T/f2.json"
assert_contains "$T/err" 'f2.json: VM name a given twice'
echo '[{"name": "a", "disks": [' > "$T/f3.json"
expect_exit 1 "$AZPREP" check --vms "$T/f3.json"
assert_contains "$T/err" 'f3.json: not a JSON list of VMs'
expect_exit 2 "$AZPREP" check --vms "$T/f3.json" disk.img
expect_exit 2 "$AZPREP" check --jobs 0 --vms "$T/f3.json"
