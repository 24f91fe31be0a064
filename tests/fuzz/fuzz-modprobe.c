/* Fuzz linux-hv-blacklist's transform of modprobe.d files
 * (distros/modprobe.c): each line's verdict, the text with the lines
 * that block a Hyper-V module commented out, and that text again.
 * Once fixed, no directive as kmod reads it (lines ending in a
 * backslash joined to the next, then "#" lines skipped) may block one
 * (abort otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/common/text.h"
#include "distros/distro.h"
#include "tests/fuzz/fuzz.h"

/* Does any directive of text, as kmod joins and skips them, block? */
static bool
blocks (const char *text)
{
  char *joined = malloc (strlen (text) + 1), *d = joined;
  struct lines ls = { 0 };
  bool any = false;

  if (!joined)
    abort ();
  for (const char *p = text; *p; p++)
    if (p[0] == '\\' && p[1] == '\n')
      p++;
    else
      *d++ = *p;
  *d = '\0';
  if (lines_split (&ls, joined) == 0)
    for (size_t i = 0; i < ls.n && !any; i++) {
      const char *l = ls.l[i] + strspn (ls.l[i], " \t");
      any = *l != '#' && modprobe_line_blocks_hv (l);
    }
  lines_free (&ls);
  free (joined);
  return any;
}

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
  if (blocks (out ? out : s)) {
    fprintf (stderr, "modprobe: a directive still blocks a module\n");
    abort ();
  }
  free (out);
  free (s);
  return 0;
}
