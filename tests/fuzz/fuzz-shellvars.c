/* Fuzz the shell-variable and word-list editors
 * (prep/common/shellvars.c, lines.c) that read and rewrite
 * /etc/default/grub, ifcfg and sysconfig files and kernel command
 * lines, as the GRUB and network fixups call them. */
#include <stdlib.h>

#include "prep/common/text.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = fuzz_string (data, size);
  char *v = kv_get (s, "GRUB_CMDLINE_LINUX");
  struct lines ls = { 0 };

  if (v) {
    char *w = words_set (v, "console=ttyS0,115200n8");
    char *r = w ? words_remove (w, "rhgb") : NULL;
    words_has (v, "quiet");
    free (w);
    free (r);
    free (v);
  }
  free (kv_set (s, "GRUB_TIMEOUT", "5"));
  free (kv_remove (s, "HWADDR"));
  if (lines_split (&ls, s) == 0) {
    for (size_t i = 0; i < ls.n; i++) {
      line_indent (ls.l[i]);
      line_blank_or_comment (ls.l[i], '#');
    }
    free (lines_join (&ls));
  }
  lines_free (&ls);
  free (s);
  return 0;
}
