#!/usr/bin/env bash
# The pipeline command of the README (azprep check --vms with JUnit and
# HTML reports), as written there, on two VMs that cannot be read.  No
# appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires xmllint qemu-img tar

make_ova
make_fleet
cat > "$T/fleet.json" <<EOT
[ { "name": "web1", "disks": ["trunc.qcow2"] },
  { "name": "db1", "ovf": "vm.ova" } ]
EOT
(cd "$T" && expect_exit 3 "$AZPREP" check --vms fleet.json --junit out.xml --html out.html)
grep -q '^azprep check --vms fleet.json --junit out.xml --html out.html$' README.md ||
  fail "the README no longer shows the pipeline command"
assert_contains "$T/out" '^verdict: NOT READY: 2 VMs: 0 ready, 0 with warnings, 2 not ready, 0 could not be checked$'
[ "$(xmllint --xpath 'count(/testsuites/testsuite)' "$T/out.xml")" = 2 ] || fail "README: junit"
[ "$(xmllint --html --xpath 'count(//tr[@class="vm"])' "$T/out.html" 2>/dev/null)" = 2 ] || fail "README: html"
