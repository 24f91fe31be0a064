/* modprobe.d lines that keep Hyper-V modules from loading, and the
 * transform that comments them out, over generated files: every line
 * in several spellings (word separators, indentation, '-' for '_'),
 * CRLF, orders and a missing final newline.  For each file: the fix
 * gives the expected bytes, a second fix changes nothing, and no line
 * of the result still blocks a module. */
#include <string.h>

#include "prep/common/common.h"
#include "distros/distro.h"
#include "prep/common/unit.h"

#define DISABLED "# disabled by azprep (Azure needs it): "

/* Words of a line (joined by the variant's separator), and whether it
 * blocks a Hyper-V or boot module. */
struct mcase { const char *w[6]; bool blocks; };
static const struct mcase cases[] = {
  { { "blacklist", "hv_vmbus" }, true },
  { { "blacklist", "hv-netvsc" }, true },
  { { "install", "hv_storvsc", "/bin/true" }, true },
  { { "install", "hv_utils", "/bin/false" }, true },
  { { "install", "hv_balloon", "true" }, true },
  { { "install", "nvme", "/bin/false" }, true },
  { { "install", "pci-hyperv", "/bin/sh", "-c", "'cat /dev/null'" }, true },
  { { "blacklist", "udf" }, true },
  { { "blacklist", "vfat" }, true },
  { { "blacklist", "floppy" }, false },
  { { "blacklist", "hv_vmbus_extra" }, false },
  { { "options", "hv_netvsc", "ring_size=128" }, false },
  { { "install", "hv_vmbus", "/sbin/modprobe", "--ignore-install",
      "hv_vmbus" }, false },
  { { "alias", "eth0", "vmxnet3" }, false },
  { { "softdep", "hv_netvsc", "pre:", "hv_vmbus" }, false },
  { { "#", "blacklist", "hv_vmbus" }, false },
};
#define NCASES (sizeof cases / sizeof cases[0])

static const char *const seps[] = { " ", "\t", "   " };
static const char *const indents[] = { "", "  ", "\t" };
static const char *const endings[] = { "\n", "\r\n" };

struct shape { size_t sep, indent, ending, final, order; };

static char *
make_file (const struct shape *sh, bool fixed)
{
  char *s = NULL;
  size_t len;
  FILE *fp = open_memstream (&s, &len);
  const char *end = endings[sh->ending];

  fprintf (fp, "# Hardening (CIS 1.1.1): modules not needed.%s%s", end, end);
  for (size_t k = 0; k < NCASES; k++) {
    size_t i = sh->order == 0 ? k : sh->order == 1 ? NCASES - 1 - k
      : (k + 5) % NCASES;
    if (fixed && cases[i].blocks)
      fputs (DISABLED, fp);
    fputs (indents[sh->indent], fp);
    for (size_t j = 0; j < 6 && cases[i].w[j]; j++)
      fprintf (fp, "%s%s", j ? seps[sh->sep] : "", cases[i].w[j]);
    if (k + 1 < NCASES || sh->final)
      fputs (end, fp);
    else if (fixed)
      fputs ("\n", fp);
  }
  fclose (fp);
  return s;
}

static size_t
blocking_lines (const char *text)
{
  struct lines ls;
  size_t n = 0;

  if (lines_split (&ls, text) == -1)
    return (size_t) -1;
  for (size_t i = 0; i < ls.n; i++)
    n += modprobe_line_blocks_hv (ls.l[i]);
  lines_free (&ls);
  return n;
}

static size_t
variants (void)
{
  struct shape sh;
  size_t count = 0, nblock = 0;

  for (size_t i = 0; i < NCASES; i++)
    nblock += cases[i].blocks;
  for (sh.sep = 0; sh.sep < 3; sh.sep++)
  for (sh.indent = 0; sh.indent < 3; sh.indent++)
  for (sh.ending = 0; sh.ending < 2; sh.ending++)
  for (sh.final = 0; sh.final < 2; sh.final++)
  for (sh.order = 0; sh.order < 3; sh.order++) {
    CLEANUP_FREE char *in = make_file (&sh, false);
    CLEANUP_FREE char *want = make_file (&sh, true);
    CLEANUP_FREE char *got = NULL, *again = NULL;
    size_t n, n2;
    int fails = failures;

    CHECK (blocking_lines (in) == nblock);
    got = modprobe_unblock_hv (in, &n);
    CHECK (n == nblock);
    CHECK_STR (got, want);
    again = modprobe_unblock_hv (got ? got : in, &n2);
    CHECK (again == NULL && n2 == 0);
    CHECK (blocking_lines (got ? got : in) == 0);
    count++;
    if (failures > fails) {
      fprintf (stderr, "variant sep=%zu indent=%zu ending=%zu final=%zu "
               "order=%zu:\n%s", sh.sep, sh.indent, sh.ending, sh.final,
               sh.order, in);
      break;
    }
  }
  return count;
}

int
main (void)
{
  size_t n = variants ();
  size_t none;
  char *r = modprobe_unblock_hv ("options hv_netvsc x=1\n# c\n", &none);

  CHECK (r == NULL && none == 0);
  /* kmod joins a line ending in a backslash to the next before it
   * skips comments: the directive is blocked as a whole, and
   * commenting out its first line disables it all. */
  r = modprobe_unblock_hv ("install hv_vmbus \\\n  /bin/false\n"
                           "blacklist \\\nhv_netvsc\nalias a b\n", &none);
  CHECK (none == 2);
  CHECK_STR (r, "# disabled by azprep (Azure needs it): install hv_vmbus "
             "\\\n  /bin/false\n# disabled by azprep (Azure needs it): "
             "blacklist \\\nhv_netvsc\nalias a b\n");
  free (r);
  printf ("test-modprobe: modprobe.d %zu variants of %zu lines\n", n,
          NCASES);
  return UNIT_RESULT ("test-modprobe");
}
