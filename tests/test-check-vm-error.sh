#!/usr/bin/env bash
# azprep check --vms: a VM whose check fails outright (here: a size not
# in the table, the child exits with a usage error) gets verdict
# "error"; the others are still checked, and the fleet's verdict is the
# worst: exit 1.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires xmllint qemu-img

make_fleet
cat > "$T/f4.json" <<EOT
[ { "name": "broken", "disks": ["trunc.qcow2"], "size": "Standard_Nope" },
  { "name": "fine", "disks": ["trunc.qcow2"] } ]
EOT
expect_exit 1 "$AZPREP" check --vms "$T/f4.json" --json --junit "$T/f4.xml"
node tests/tools/check-schema.js "$T/out" >/dev/null || fail "schema: broken fleet"
xmllint --xpath 'string(/testsuites/testsuite[@name="broken"]/testcase[@name="check"]/error/@message)' "$T/f4.xml" |
  grep -q 'Standard_Nope' || fail "junit: the broken VM's error"
[ "$(xmllint --xpath 'string(/testsuites/@errors)' "$T/f4.xml")" = 1 ] || fail "junit: one error"
[ "$(json 'd.vms.map(v => v.name + "=" + v.verdict).join(" ")')" = "broken=error fine=not-ready" ] ||
  fail "a broken VM stops the others"
json 'd.vms[0].error' | grep -q 'Standard_Nope: not in the size table' || fail "broken: reason"
