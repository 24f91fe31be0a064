#!/usr/bin/env bash
# tests/check-style's mechanical guards on a small tree of its own: a
# clean tree passes; an include against the one-way order (prep/ naming
# replicate/engine, distros/ naming windows/), an include that is not
# path-qualified from the root and a function over 150 lines fail,
# naming the file; a function over 120 lines is only a warning.  No
# appliance.
source tests/lib/functions.sh
requires python3

style="$PWD/tests/check-style"
root="$T/tree"

# put FILE TEXT: write a file of the small tree.
put () {
  mkdir -p "$(dirname "$root/$1")"
  printf '%s\n' "$2" > "$root/$1"
}

# body N: a function definition N lines long, braces included.
body () {
  local i
  printf 'int\n%s (void)\n{\n  int x = 0;\n' "$1"
  for ((i = 0; i < $2 - 4; i++)); do printf '  x++;\n'; done
  printf '  return x;\n}\n'
}

put prep/common/common.h '/* Helpers. */
#include <stdio.h>'
put prep/guest/guest.h '#include "prep/common/common.h"'
put prep/guest/guest.c '#include "prep/common/common.h"
#include "prep/guest/guest.h"'
put distros/distro.c '#include "prep/guest/guest.h"'
put windows/windows.h '#include "prep/common/common.h"'
put replicate/engine/replicate.h '#include "prep/common/common.h"'
put replicate/vsphere/disk.c '#include "prep/guest/guest.h"
#include "replicate/engine/replicate.h"'
put fixups/linux-x.c '#include "prep/guest/guest.h"'
body short 120 >> "$root/fixups/linux-x.c"
expect_exit 0 "$style" --root "$root"
assert_not_contains "$T/out" .

# The reverse direction, from prep/ and from distros/.
cp -a "$root" "$T/clean"
echo '#include "replicate/engine/replicate.h"' >> "$root/prep/guest/guest.c"
echo '#include "windows/windows.h"' >> "$root/distros/distro.c"
expect_exit 1 "$style" --root "$root"
assert_contains "$T/out" \
  '^prep/guest/guest.c:3: layering: .*"replicate/engine/replicate.h"'
assert_contains "$T/out" '^distros/distro.c:2: layering: .*"windows/windows.h"'
assert_contains "$T/out" '^check-style: 2 problem'

# A bare name, though the header exists in the file's own folder.
rm -rf "$root"; cp -a "$T/clean" "$root"
echo '#include "guest.h"' >> "$root/prep/guest/guest.c"
expect_exit 1 "$style" --root "$root"
assert_contains "$T/out" \
  '^prep/guest/guest.c:3: include "guest.h" is not path-qualified'

# Function sizes: over 120 lines warns, over 150 fails.
rm -rf "$root"; cp -a "$T/clean" "$root"
body longish 121 >> "$root/fixups/linux-x.c"
expect_exit 0 "$style" --root "$root"
assert_contains "$T/out" \
  '^fixups/linux-x.c:[0-9]+: warning: function longish is 121 lines'
body too_long 151 >> "$root/fixups/linux-x.c"
expect_exit 1 "$style" --root "$root"
assert_contains "$T/out" \
  '^fixups/linux-x.c:[0-9]+: function too_long is 151 lines'
