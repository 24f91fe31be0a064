// Read a JUnit XML report with junit2json (a JUnit consumer used to feed
// CI dashboards and BigQuery) and check that what it understood agrees
// with the report's own counts.  Prints "SUITE TESTS FAILURES SKIPPED"
// per testsuite; exits 1 on any disagreement.
import { readFileSync } from 'node:fs';
import { parse } from 'junit2json';

const out = await parse(readFileSync(process.argv[2], 'utf8'));
let bad = 0;
const suites = out.testsuite || [];
for (const s of suites) {
  const cases = s.testcase || [];
  const failures = cases.filter((c) => c.failure).length;
  const skipped = cases.filter((c) => c.skipped).length;
  const errors = cases.filter((c) => c.error).length;
  if (cases.length !== s.tests || failures !== s.failures ||
      skipped !== s.skipped || errors !== s.errors) {
    console.log(`suite ${s.name}: attributes ${s.tests}/${s.failures}/${s.skipped}/${s.errors}, ` +
                `testcases ${cases.length}/${failures}/${skipped}/${errors}`);
    bad++;
  }
  console.log(`${s.name} ${cases.length} ${failures} ${skipped}`);
}
if (suites.reduce((n, s) => n + (s.testcase || []).length, 0) !== out.tests) {
  console.log(`testsuites tests=${out.tests} disagrees with the testcases`);
  bad++;
}
process.exit(bad ? 1 : 0);
