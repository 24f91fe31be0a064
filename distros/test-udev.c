/* udev rules that name a NIC by its MAC, and the transform that
 * comments them out, over generated rules files: each rule in several
 * spellings (operator spacing, ATTR or ATTRS, NAME= or NAME:=, key
 * order), orders and a missing final newline.  For each file: the
 * expected bytes, idempotent, no rule of the result binds a MAC, and
 * every other line kept. */
#include <string.h>

#include "prep/common/common.h"
#include "distros/distro.h"
#include "prep/common/unit.h"

#define DISABLED "# disabled by azprep (names a VMware NIC by its MAC): "

/* '^' is the operator spacing, 'A' ATTR or ATTRS, 'N' the assignment. */
struct ucase { const char *rule; bool binds; };
static const struct ucase cases[] = {
  { "SUBSYSTEM==\"net\", ACTION==\"add\", DRIVERS==\"?*\", "
    "A{address}^==^\"00:50:56:aa:bb:cc\", ATTR{type}==\"1\", "
    "KERNEL==\"eth*\", NAME^N^\"eth0\"", true },
  { "NAME^N^\"lan0\", SUBSYSTEM==\"net\", A{address}^==^\"00:50:56:aa:bb:cd\"",
    true },
  { "ACTION==\"add\", SUBSYSTEM==\"net\", A{address}^==^\"00:50:56:*\", "
    "RUN+=\"/usr/local/bin/tune-nic\"", false },
  { "SUBSYSTEM==\"net\", KERNEL==\"eth*\", NAME^N^\"eth0\"", false },
  { "SUBSYSTEM==\"net\", A{address}^==^\"00:50:56:aa:bb:ce\", "
    "NAME==\"eth9\", RUN+=\"/bin/true\"", false },
  { "# SUBSYSTEM==\"net\", A{address}==\"00:50:56:aa:bb:cf\", NAME=\"eth2\"",
    false },
  { "SUBSYSTEM==\"block\", ATTRS{model}==\"Virtual disk\", "
    "ENV{DEVNAME}^N^\"vd\"", false },
};
#define NCASES (sizeof cases / sizeof cases[0])

static const char *const ops[] = { "", " " };
static const char *const attrs[] = { "ATTR", "ATTRS" };
static const char *const assigns[] = { "=", ":=" };

struct shape { size_t op, attr, assign, final, order; };

static void
put_rule (FILE *fp, const char *r, const struct shape *sh)
{
  for (; *r; r++)
    if (*r == '^')
      fputs (ops[sh->op], fp);
    else if (*r == 'A' && r[1] == '{')
      fputs (attrs[sh->attr], fp);
    else if (*r == 'N' && r[1] == '^')
      fputs (assigns[sh->assign], fp);
    else
      fputc (*r, fp);
}

static char *
make (const struct shape *sh, bool fixed)
{
  char *s = NULL;
  size_t len;
  FILE *fp = open_memstream (&s, &len);

  fputs ("# Local NIC names (ticket 4711)\n\n", fp);
  for (size_t k = 0; k < NCASES; k++) {
    size_t i = sh->order ? (k + sh->order * 2) % NCASES : k;
    if (fixed && cases[i].binds)
      fputs (DISABLED, fp);
    put_rule (fp, cases[i].rule, sh);
    if (k + 1 < NCASES || sh->final || fixed)
      fputs ("\n", fp);
  }
  fclose (fp);
  return s;
}

int
main (void)
{
  struct shape sh;
  size_t count = 0, nbind = 0;

  for (size_t i = 0; i < NCASES; i++)
    nbind += cases[i].binds;
  for (sh.op = 0; sh.op < 2; sh.op++)
  for (sh.attr = 0; sh.attr < 2; sh.attr++)
  for (sh.assign = 0; sh.assign < 2; sh.assign++)
  for (sh.final = 0; sh.final < 2; sh.final++)
  for (sh.order = 0; sh.order < 4; sh.order++) {
    CLEANUP_FREE char *in = make (&sh, false);
    CLEANUP_FREE char *want = make (&sh, true);
    CLEANUP_FREE char *got = NULL, *again = NULL;
    size_t n, n2;
    int fails = failures;

    got = udev_unbind_mac (in, &n);
    CHECK (n == nbind);
    CHECK_STR (got, want);
    again = udev_unbind_mac (got ? got : in, &n2);
    CHECK (again == NULL && n2 == 0);
    count++;
    if (failures > fails) {
      fprintf (stderr, "variant op=%zu attr=%zu assign=%zu final=%zu "
               "order=%zu:\n%s\n", sh.op, sh.attr, sh.assign, sh.final,
               sh.order, in);
      break;
    }
  }
  {
    /* A rule continued over lines (a comment within does not end it):
     * every line of it goes, or its tail would be a rule of its own. */
    size_t nb;
    CLEANUP_FREE char *r = udev_unbind_mac (
      "SUBSYSTEM==\"net\", \\\n# the NIC\n  ATTR{address}==\"00:50:56:aa:"
      "bb:cc\", \\\n  NAME=\"eth1\"\nKERNEL==\"sd*\"\n", &nb);
    CHECK (nb == 1);
    CHECK_STR (r, "# disabled by azprep (names a VMware NIC by its MAC): "
               "SUBSYSTEM==\"net\", \\\n# the NIC\n# disabled by azprep "
               "(names a VMware NIC by its MAC):   ATTR{address}==\"00:50:"
               "56:aa:bb:cc\", \\\n# disabled by azprep (names a VMware "
               "NIC by its MAC):   NAME=\"eth1\"\nKERNEL==\"sd*\"\n");
  }
  printf ("test-udev: udev rules %zu variants of %zu rules\n", count,
          NCASES);
  return UNIT_RESULT ("test-udev");
}
