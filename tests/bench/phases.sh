#!/usr/bin/env bash
# phases.sh FILE...: the phases of `azprep fix --json` runs (one output
# per file; text before the JSON, such as stderr, is skipped), one line
# per phase in the order of the first run: the median seconds over the
# runs and their spread (min-max).  For the benchmarks: where a fix's
# time goes.  Not a test.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 FIX-JSON..." >&2; exit 2; }
node -e '
const fs = require("fs");
const runs = process.argv.slice(1).map(f => {
  const s = fs.readFileSync(f, "utf8");
  const j = JSON.parse(s.slice(s.indexOf("{\n")));
  return j.timings || [];
});
const order = [], by = {};
for (const t of runs)
  for (const p of t) {
    if (!(p.phase in by)) { by[p.phase] = []; order.push(p.phase); }
    by[p.phase].push(p.seconds);
  }
const med = a => { const b = [...a].sort((x, y) => x - y), n = b.length;
  return n % 2 ? b[(n - 1) / 2] : (b[n / 2 - 1] + b[n / 2]) / 2; };
for (const ph of order) {
  const a = by[ph];
  console.log("    %s  %s s  (%s-%s, %d runs)",
    ph.padEnd(60).slice(0, 60), med(a).toFixed(2).padStart(7),
    Math.min(...a).toFixed(2), Math.max(...a).toFixed(2), a.length);
}' "$@"
