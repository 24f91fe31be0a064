#!/usr/bin/env node
// Validate "azprep check --json" output against the schema documented
// in prep/check.pod (version 1).  Usage: node check-schema.js FILE
// Prints every violation with its JSON path; exits 1 if any.
'use strict';
const fs = require('fs');

const S = 'string', N = 'number', B = 'boolean';
const nullable = (t) => ({ nullable: t });
const oneOf = (...v) => ({ enum: v });
const arrayOf = (t) => ({ array: t });
const obj = (fields, optional = {}) => ({ fields, optional });

const SEVERITY = oneOf('blocker', 'warning', 'info');
const VERDICT = oneOf('ready', 'warnings', 'not-ready', 'error');
const SIZE = obj({ name: S, vcpus: N, memory_gib: N, max_data_disks: N,
                   chosen: oneOf('given', 'suggested') });
const FINDING = obj({ id: S, severity: SEVERITY, object: nullable(S),
                      message: S, remedy: nullable(S), fixable: B,
                      fixup: nullable(S), rule: S });
const RULE = obj({ id: S, kind: oneOf('rule', 'fixup'), heading: S,
                   result: oneOf('pass', 'fail', 'skipped', 'error') },
                 { message: S });
const DESC = obj({ kind: oneOf('ovf', 'ova', 'vmx'), source: S,
                   name: nullable(S),
                   disks: arrayOf(obj({ path: S, capacity: nullable(N) })),
                   firmware: oneOf('bios', 'efi', 'unknown'), cpus: N,
                   memory_mib: N, nics: N, guest_os: nullable(S),
                   secure_boot: B, vtpm: B });
const VM = obj({
  name: nullable(S), verdict: VERDICT, exit: oneOf(0, 1, 3, 4),
  ready_after_fix: B, error: nullable(S),
  disks: arrayOf(obj({ path: S, format: nullable(S), size: N })),
  os: nullable(obj({ root: S, type: nullable(S), distro: nullable(S),
                     major: N, minor: N, product_name: nullable(S),
                     arch: nullable(S), hostname: nullable(S) })),
  azure: nullable(obj({ generation: nullable(oneOf(1, 2)),
                        size: nullable(SIZE), data_disks: N,
                        max_data_disks: nullable(N) })),
  descriptor: nullable(DESC),
  counts: obj({ blocker: N, warning: N, info: N, fixable: N }),
  rules: arrayOf(RULE),
  findings: arrayOf(FINDING),
}, { firmware: nullable(oneOf('bios', 'uefi')) });
const REPORT = obj({
  schema: oneOf(1), verdict: VERDICT, exit: oneOf(0, 1, 3, 4),
  ready_after_fix: B, vms_by_verdict: obj({ ready: N, warnings: N, 'not-ready': N, error: N }),
  vms: arrayOf(VM),
});

const errors = [];
function check(v, t, path) {
  if (typeof t === 'string') {
    if (typeof v !== t) errors.push(`${path}: expected ${t}, got ${JSON.stringify(v)}`);
    return;
  }
  if (t.nullable !== undefined) {
    if (v !== null) check(v, t.nullable, path);
    return;
  }
  if (t.enum) {
    if (!t.enum.includes(v)) errors.push(`${path}: ${JSON.stringify(v)} not one of ${JSON.stringify(t.enum)}`);
    return;
  }
  if (t.array) {
    if (!Array.isArray(v)) { errors.push(`${path}: expected an array`); return; }
    v.forEach((e, i) => check(e, t.array, `${path}[${i}]`));
    return;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    errors.push(`${path}: expected an object`); return;
  }
  for (const k of Object.keys(t.fields))
    if (!(k in v)) errors.push(`${path}.${k}: missing`);
    else check(v[k], t.fields[k], `${path}.${k}`);
  for (const k of Object.keys(v))
    if (!(k in t.fields) && !(k in t.optional)) errors.push(`${path}.${k}: not in the schema`);
    else if (k in t.optional) check(v[k], t.optional[k], `${path}.${k}`);
}

const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
check(doc, REPORT, '$');
// Consistency the schema states in words.
(doc.vms || []).forEach((vm, i) => {
  const c = { blocker: 0, warning: 0, info: 0, fixable: 0 };
  for (const f of vm.findings) { c[f.severity]++; if (f.fixable) c.fixable++; }
  for (const k of Object.keys(c))
    if (vm.counts && vm.counts[k] !== c[k])
      errors.push(`$.vms[${i}].counts.${k}: ${vm.counts[k]}, but ${c[k]} findings`);
  const exits = { ready: 0, warnings: 4, 'not-ready': 3, error: 1 };
  if (exits[vm.verdict] !== vm.exit) errors.push(`$.vms[${i}]: verdict ${vm.verdict} with exit ${vm.exit}`);
  for (const f of vm.findings)
    if (f.fixable !== (f.fixup !== null)) errors.push(`$.vms[${i}]: finding ${f.id}: fixable and fixup disagree`);
  // The verdict follows from the findings (check.pod, "Verdicts").
  // Any blocker, even one azprep fix repairs: not ready as is; ready
  // after fix when every blocker is fixable and the check completed.
  const blocks = vm.findings.some((f) => f.severity === 'blocker');
  const unfixable = vm.findings.some((f) => f.severity === 'blocker' && !f.fixable);
  const failed = vm.error !== null || vm.rules.some((r) => r.result === 'error');
  const warns = vm.findings.some((f) => f.severity !== 'info' || f.fixable);
  const want = blocks ? 'not-ready' : failed ? 'error' : warns ? 'warnings' : 'ready';
  if (vm.verdict !== want) errors.push(`$.vms[${i}]: verdict ${vm.verdict}, but the findings say ${want}`);
  if (vm.ready_after_fix !== (!unfixable && !failed))
    errors.push(`$.vms[${i}]: ready_after_fix ${vm.ready_after_fix}, but the findings say ${!unfixable && !failed}`);
});
if (errors.length) { console.log(errors.join('\n')); process.exit(1); }
console.log('valid');
