#!/usr/bin/env bash
# azprep fix --list --json: the fixup names are [a-z0-9-], every one
# has a heading; --only with an unknown fixup is a usage error.
source tests/lib/functions.sh

# The fixups list: names are [a-z0-9-], every one has a heading.
expect_exit 0 "$AZPREP" fix --list --json
node -e '
  const l = JSON.parse(require("fs").readFileSync(process.argv[1]));
  for (const f of l) {
    if (!/^[a-z0-9-]+$/.test(f.name)) throw new Error("bad name " + f.name);
    if (!f.heading) throw new Error("no heading for " + f.name);
  }' "$T/out"
expect_exit 2 "$AZPREP" fix --only no-such-fixup x.img
