#!/usr/bin/env bash
# azprep check --vms, the fleet file: its errors name the file and the
# VM; --vms with disks or --jobs 0 is a usage error.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh

bad_desc --vms f1.json '[{"name": "a"}]' 'VM a: needs "disks"'
bad_desc --vms f2.json \
  '[{"name": "a", "disks": ["x"]}, {"name": "a", "disks": ["y"]}]' \
  'VM name a given twice'
bad_desc --vms f3.json '[{"name": "a", "disks": [' 'not a JSON list of VMs'
expect_exit 2 "$AZPREP" check --vms "$T/f3.json" disk.img
expect_exit 2 "$AZPREP" check --jobs 0 --vms "$T/f3.json"
