/* Fuzz linux-persistent-net's transform of udev rules files
 * (distros/udev.c): each line's verdict, the text with the rules that
 * name a NIC by its MAC address commented out, and that text again.
 * The rules as udev reads them (a line ending in a backslash continues
 * on the next line that is not a "#" comment; "#" lines are skipped
 * even there) must, once fixed, be those of the input less the ones
 * that bind a MAC (abort otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/common/text.h"
#include "distros/distro.h"
#include "tests/fuzz/fuzz.h"

/* The rules of text as udev joins them, each ending in '\n', those
 * that bind a MAC left out when drop. */
static char *
rules (const char *text, bool drop)
{
  struct lines ls = { 0 };
  char *out = NULL, *cont = NULL;
  size_t len = 0, clen = 0;
  FILE *fp = open_memstream (&out, &len), *cf = NULL;

  if (!fp || lines_split (&ls, text) == -1)
    abort ();
  for (size_t i = 0; i < ls.n; i++) {
    const char *l = ls.l[i] + strspn (ls.l[i], " \t");
    size_t ll = strlen (l);

    if (*l == '#')
      continue;
    if (!cf && !(cf = open_memstream (&cont, &clen)))
      abort ();
    if (ll > 0 && l[ll - 1] == '\\') {
      fwrite (l, 1, ll - 1, cf);
      continue;
    }
    fputs (l, cf);
    fclose (cf);
    cf = NULL;
    if (*cont && !(drop && udev_line_binds_mac (cont)))
      fprintf (fp, "%s\n", cont);
    free (cont);
    cont = NULL;
  }
  if (cf) {
    fclose (cf);
    if (*cont && !(drop && udev_line_binds_mac (cont)))
      fprintf (fp, "%s\n", cont);
    free (cont);
  }
  lines_free (&ls);
  fclose (fp);
  return out;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = fuzz_string (data, size);
  struct lines ls = { 0 };
  size_t n = 0, n2 = 0;
  char *out, *want, *got;

  if (lines_split (&ls, s) == 0)
    for (size_t i = 0; i < ls.n; i++)
      udev_line_binds_mac (ls.l[i]);
  lines_free (&ls);
  out = udev_unbind_mac (s, &n);
  if (out)
    free (udev_unbind_mac (out, &n2));
  want = rules (s, true);
  got = rules (out ? out : s, false);
  if (strcmp (want, got)) {
    fprintf (stderr, "udev: rules after the fix:\n%s\nwanted:\n%s\n",
             got, want);
    abort ();
  }
  free (want);
  free (got);
  free (out);
  free (s);
  return 0;
}
