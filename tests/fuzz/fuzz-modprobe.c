/* Fuzz linux-hv-blacklist's transform of modprobe.d files
 * (distros/modprobe.c): each line's verdict, the text with the lines
 * that block a Hyper-V module commented out, and that text again. */
#include <stdlib.h>

#include "prep/common/text.h"
#include "distros/distro.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = fuzz_string (data, size);
  struct lines ls = { 0 };
  size_t n = 0, n2 = 0;
  char *out;

  if (lines_split (&ls, s) == 0)
    for (size_t i = 0; i < ls.n; i++)
      modprobe_line_blocks_hv (ls.l[i]);
  lines_free (&ls);
  out = modprobe_unblock_hv (s, &n);
  if (out)
    free (modprobe_unblock_hv (out, &n2));
  free (out);
  free (s);
  return 0;
}
