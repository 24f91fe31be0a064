#!/usr/bin/env bash
# "check lists exactly what fix then changes": fix --dry-run on a phony
# guest (Ubuntu 20.04: initramfs-tools, netplan, SysV-free systemd),
# then the real fix; the fixups with findings are the fixups with
# changes, every object a finding names is changed, nothing else is;
# a second dry-run on the result finds nothing left to change.
source tests/lib/functions.sh
requires node
img=$BUILD/images/phony-ubuntu2004.img
[ -e "$img" ] || skip "phony-ubuntu2004.img not built (make images)"
cp --sparse=always "$img" "$T/g.img"
sum=$(sum_of "$T/g.img")

expect_exit 0 "$AZPREP" fix --dry-run --json "$T/g.img"
cp "$T/out" "$T/dry.json"
[ "$(sum_of "$T/g.img")" = "$sum" ] || fail "fix --dry-run changed the disk"
expect_exit 0 "$AZPREP" fix --report "$T/fix.json" "$T/g.img"

node -e '
  const fs = require("fs");
  const dry = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const fix = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const would = dry.findings.filter(f => f.fixup);
  const fx = new Set(would.map(f => f.fixup));
  const cx = new Set(fix.changes.map(c => c.fixup));
  const a = [...fx].sort().join(","), b = [...cx].sort().join(",");
  if (a !== b) { console.error("fixups found: " + a + "\nfixups changed: " + b); process.exit(1); }
  const changed = new Set(fix.changes.map(c => c.object));
  for (const f of would)
    if (!changed.has(f.object)) { console.error("not changed: " + f.fixup + " " + f.object); process.exit(1); }
  const named = new Set(would.map(f => f.object));
  for (const c of fix.changes)
    if (!named.has(c.object)) { console.error("changed but not found: " + c.fixup + " " + c.object); process.exit(1); }
  if (would.length < 10) { console.error("only " + would.length + " findings"); process.exit(1); }
' "$T/dry.json" "$T/fix.json" || fail "check and fix disagree"

# Idempotent: nothing left to change.
expect_exit 0 "$AZPREP" fix --dry-run "$T/g.img"
assert_contains "$T/out" '^nothing to change: the guest is already prepared$'
