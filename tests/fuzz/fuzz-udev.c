/* Fuzz linux-persistent-net's transform of udev rules files
 * (distros/udev.c): each line's verdict, the text with the rules that
 * name a NIC by its MAC address commented out, and that text again. */
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
      udev_line_binds_mac (ls.l[i]);
  lines_free (&ls);
  out = udev_unbind_mac (s, &n);
  if (out)
    free (udev_unbind_mac (out, &n2));
  free (out);
  free (s);
  return 0;
}
