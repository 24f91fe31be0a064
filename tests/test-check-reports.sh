#!/usr/bin/env bash
# azprep check on a fleet (one VM per line) of VMs that cannot be read:
# every VM gets a verdict, and the reports are complete and well-formed:
# JSON (the schema), JUnit, HTML (escaped, nothing loaded), text (one
# line per VM, one overall verdict; in colour on a terminal unless
# NO_COLOR).  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh
requires xmllint qemu-img

make_fleet
expect_exit 3 "$AZPREP" check --vms "$T/fleet.txt" --jobs 2 --json \
  --junit "$T/out.xml" --html "$T/out.html"
node tests/tools/check-schema.js "$T/out" || fail "schema: fleet"
[ "$(json 'd.vms.map(v => v.name + "=" + v.verdict).join(" ")')" = \
  'vm-trunc=not-ready vm-missing=not-ready vm-<script>&"x"=not-ready' ] || fail "fleet verdicts"
[ "$(json 'd.vms[1].findings.length')" = 2 ] || fail "fleet: both missing disks"
xmllint --noout "$T/out.xml" || fail "JUnit XML is not well-formed"
[ "$(xmllint --xpath 'count(/testsuites/testsuite)' "$T/out.xml")" = 3 ] || fail "junit: suites"
[ "$(xmllint --xpath 'string(/testsuites/testsuite[1]/testcase[@name="disk-unreadable"]/failure/@type)' "$T/out.xml")" = blocker ] ||
  fail "junit: disk-unreadable is a failure"
[ "$(xmllint --xpath 'count(/testsuites/testsuite[1]/testcase[@name="os-version"]/skipped)' "$T/out.xml")" = 1 ] ||
  fail "junit: rules not reached are skipped"
# libxml2's HTML parser knows HTML 4 only: <details> and <summary> are
# "invalid" tags to it, anything else it says is a real problem.  The
# page is also well-formed XML.
if [ -d tests/tools/node/node_modules/junit2json ]; then
  node tests/tools/node/junit-consume.mjs "$T/out.xml" > "$T/junit.txt" ||
    { cat "$T/junit.txt"; fail "junit2json disagrees with the report"; }
fi
xmllint --html --noout "$T/out.html" 2>"$T/html.err" || { cat "$T/html.err"; fail "HTML is not well-formed"; }
grep -E 'error|warning' "$T/html.err" | grep -Ev 'Tag (details|summary) invalid' && fail "HTML parser errors"
xmllint --noout "$T/out.html" || fail "HTML is not well-formed XML"
[ "$(xmllint --html --xpath 'count(//tr[@class="vm"])' "$T/out.html")" = 3 ] || fail "html: one row per VM"
assert_not_contains "$T/out.html" '<script>'
assert_contains "$T/out.html" 'vm-&lt;script&gt;&amp;&quot;x&quot;'
assert_not_contains "$T/out.html" '(src|href)='
# Text: one line per VM verdict, one overall verdict line.
expect_exit 3 "$AZPREP" check --vms "$T/fleet.txt"
assert_contains "$T/out" '^vm-trunc: NOT READY'
assert_contains "$T/out" '^verdict: NOT READY: 3 VMs: 0 ready, 0 with warnings, 3 not ready, 0 could not be checked$'
assert_not_contains "$T/out" $'\033'

# On a terminal, in colour (unless NO_COLOR).
if command -v script >/dev/null; then
  script -qec "'$AZPREP' check --vms '$T/fleet.txt'" /dev/null > "$T/tty" || true
  assert_contains "$T/tty" $'\033\\[1;31mNOT READY'
  NO_COLOR=1 script -qec "'$AZPREP' check --vms '$T/fleet.txt'" /dev/null > "$T/tty" || true
  assert_not_contains "$T/tty" $'\033'
fi
