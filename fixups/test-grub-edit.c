/* linux-boot-params' transform of /etc/default/grub and its drop-ins:
 * hand-written files with their exact expected bytes, and generated
 * sets of files (quoting, "export", indentation, trailing comments, a
 * setting set twice or extended with $KEY, drop-ins that override or
 * extend, GRUB_DISABLE_LINUX_UUID, no final newline).  For each set:
 * after the fix, the values grub-mkconfig will see (the files sourced
 * in order) carry every parameter and none of the removed ones, GRUB's
 * serial terminal is set, a second fix changes nothing, check finds
 * nothing fixable, and every other line is kept byte for byte. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/report.h"
#include "distros/distro.h"
#include "fixups/bootparams.h"
#include "fixups/grub-edit.h"
#include "prep/common/unit.h"

#define U_ROOT "11111111-1111-4111-8111-111111111111"
#define ADDED "console=tty1 console=ttyS0,115200n8 " \
  "earlyprintk=ttyS0,115200 net.ifnames=0 rootdelay=300"

static const char *const add[] = BOOT_ADD_PARAMS;

static char *
t_uuid (void *opaque, const char *spec, const char *mp)
{
  return !strcmp (spec, "/dev/sda1") || !strcmp (spec, "/dev/vda1")
    ? xstrdup (U_ROOT) : NULL;
}

static const struct devmap dm = { t_uuid, t_uuid, NULL };

/* Check (the number of fixable findings), then fix (outs). */
static int
edit (size_t n, const char *const *texts, char **outs, size_t *fixable)
{
  const char *names[n];
  struct report *rep = report_new ();
  struct grub_edit ge = { add, &dm, rep, false };
  char *none[n];
  int r;

  for (size_t i = 0; i < n; i++)
    names[i] = i ? "/etc/default/grub.d/x.cfg" : "/etc/default/grub";
  rep->current_fixup = "linux-boot-params";
  r = grub_defaults_edit (&ge, n, names, texts, none);
  for (size_t i = 0; r == 0 && i < n; i++)
    CHECK (none[i] == NULL);
  *fixable = report_count_fixable (rep);
  report_free (rep);
  ge.fix = true;
  ge.rep = NULL;
  return r == 0 ? grub_defaults_edit (&ge, n, names, texts, outs) : -1;
}

static void
test_files (void)
{
  static const char *const cases[][2] = {
    { "# If you change this file, run 'update-grub' afterwards.\n"
      "GRUB_DEFAULT=0\n"
      "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
      "GRUB_CMDLINE_LINUX=\"\"\n"
      "#GRUB_TERMINAL=console\n",
      "# If you change this file, run 'update-grub' afterwards.\n"
      "GRUB_DEFAULT=0\n"
      "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n"
      "GRUB_CMDLINE_LINUX=\"" ADDED "\"\n"
      "#GRUB_TERMINAL=console\n"
      "GRUB_TERMINAL=\"serial console\"\n"
      "GRUB_SERIAL_COMMAND=\"" GRUB_SERIAL "\"\n" },
    /* RHEL: set twice, the second extending the first; single quotes
     * and a trailing comment kept; root= to a UUID; no final newline. */
    { "GRUB_CMDLINE_LINUX='root=/dev/sda1 rd.lvm.lv=rhel/swap rhgb' # x\n"
      "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX quiet audit=1\"\n"
      "GRUB_DISABLE_LINUX_UUID=true\n"
      "export GRUB_TERMINAL=console\n"
      "GRUB_SERIAL_COMMAND=\"serial\"",
      "GRUB_CMDLINE_LINUX='rd.lvm.lv=rhel/swap " ADDED " root=UUID=" U_ROOT
      "' # x\n"
      "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX audit=1\"\n"
      "export GRUB_TERMINAL=\"serial console\"\n"
      "GRUB_SERIAL_COMMAND=\"" GRUB_SERIAL "\"\n" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *outs[1];
    size_t fixable;
    CHECK (edit (1, &cases[i][0], outs, &fixable) == 0);
    CHECK (fixable > 0);
    CHECK_STR (outs[0], cases[i][1]);
    free (outs[0]);
  }
}

/* Lines that set none of the edited keys, in order. */
static char *
other_lines (size_t n, const char *const *texts)
{
  static const char *const keys[] = {
    "GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT", "GRUB_TERMINAL",
    "GRUB_SERIAL_COMMAND", "GRUB_DISABLE_LINUX_UUID", NULL
  };
  char *s = NULL;
  size_t len;
  FILE *fp = open_memstream (&s, &len);

  for (size_t i = 0; i < n; i++) {
    struct lines ls;
    if (lines_split (&ls, texts[i]) == -1)
      continue;
    for (size_t j = 0; j < ls.n; j++) {
      bool key = false;
      for (size_t k = 0; !key && keys[k]; k++) {
        CLEANUP_FREE char *v = kv_line_value (ls.l[j], keys[k]);
        key = v != NULL;
      }
      if (!key)
        fprintf (fp, "%zu:%s\n", i, ls.l[j]);
    }
    lines_free (&ls);
  }
  fclose (fp);
  return s;
}

static const char *const cmdlines[] = {
  "crashkernel=auto resume=/dev/vda1 rd.lvm.lv=rhel/root rhgb quiet", "",
  "root=/dev/sda1 ro", "rd.lvm.lv=vg/root rootdelay=10 console=tty0",
  ADDED,
};
static const char *const seconds[] = {
  NULL, "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX quiet splash\"",
  "GRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX} audit=1\"",
  "GRUB_CMDLINE_LINUX=\"audit=1 rhgb\"",
};
static const char *const dropins[] = {
  NULL,
  "# Cloud image settings\n"
  "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0 quiet\"\n"
  "GRUB_TERMINAL=console\n",
  "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX nomodeset\"\n",
  "GRUB_CMDLINE_LINUX=\"quiet splash\"\nGRUB_TIMEOUT=1",
};
static const char *const prefixes[] = { "", "export ", "  " };
static const char *const trailers[] = { "", "  # site setting" };

struct shape {
  size_t cmd, quote, second, dropin, prefix, trailer, term, uuid, final;
};

static char *
make_main (const struct shape *sh)
{
  char *s = NULL;
  size_t len;
  FILE *fp = open_memstream (&s, &len);
  char q = "\"'"[sh->quote];

  fputs ("# /etc/default/grub\nGRUB_TIMEOUT=5\n", fp);
  fputs ("GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)"
         "\"\n", fp);
  if (sh->term)
    fputs ("GRUB_TERMINAL_OUTPUT=\"console\"\nGRUB_TERMINAL=console\n", fp);
  if (sh->uuid)
    fputs ("GRUB_DISABLE_LINUX_UUID=true\n", fp);
  fprintf (fp, "%sGRUB_CMDLINE_LINUX=%c%s%c%s", prefixes[sh->prefix], q,
           cmdlines[sh->cmd], q, trailers[sh->trailer]);
  if (seconds[sh->second])
    fprintf (fp, "\n%s", seconds[sh->second]);
  fputs ("\nGRUB_DISABLE_RECOVERY=\"true\"", fp);
  if (sh->final)
    fputs ("\n", fp);
  fclose (fp);
  return s;
}

static bool
effective_ok (size_t n, const char *const *texts)
{
  CLEANUP_FREE char *cl = grub_defaults_value (n, texts,
                                               "GRUB_CMDLINE_LINUX");
  CLEANUP_FREE char *cd = grub_defaults_value (n, texts,
                                               "GRUB_CMDLINE_LINUX_DEFAULT");
  CLEANUP_FREE char *t = grub_defaults_value (n, texts, "GRUB_TERMINAL");
  CLEANUP_FREE char *sc = grub_defaults_value (n, texts,
                                               "GRUB_SERIAL_COMMAND");
  CLEANUP_FREE char *all = xasprintf ("%s %s", cl ? cl : "", cd ? cd : "");
  const char *why = all ? boot_cmdline_problem_of (add, all) : "memory";

  if (why)
    fprintf (stderr, "effective command line \"%s\": %s\n", all, why);
  return !why && t && !strcmp (t, GRUB_TERMINAL_VALUE) && sc &&
    !strcmp (sc, GRUB_SERIAL);
}

/* The command line grub-mkconfig will see (LINUX then LINUX_DEFAULT). */
static char *
effective_cmdline (size_t n, const char *const *texts)
{
  CLEANUP_FREE char *cl = grub_defaults_value (n, texts,
                                               "GRUB_CMDLINE_LINUX");
  CLEANUP_FREE char *cd = grub_defaults_value (n, texts,
                                               "GRUB_CMDLINE_LINUX_DEFAULT");
  return xasprintf ("%s %s", cl ? cl : "", cd ? cd : "");
}

/* Every word of the old command line that the fix has no reason to
 * touch is still in the new one (a setting set twice must not lose
 * its first value). */
static bool
words_kept (const char *old, const char *nw)
{
  static const char *const rm[] = BOOT_REMOVE_PARAMS;
  static const char *const touched[] = {
    "root=", "resume=", "rootdelay=", "earlyprintk=", "net.ifnames=", NULL
  };
  CLEANUP_FREE char *copy = xstrdup (old);
  char *save = NULL;
  bool ok = true;

  for (char *w = copy ? strtok_r (copy, " ", &save) : NULL; w;
       w = strtok_r (NULL, " ", &save)) {
    bool skip = false;
    for (size_t i = 0; rm[i]; i++)
      skip |= !strcmp (w, rm[i]);
    for (size_t i = 0; touched[i]; i++)
      skip |= !strncmp (w, touched[i], strlen (touched[i]));
    if (!skip && !words_has (nw, w)) {
      fprintf (stderr, "\"%s\" was lost: \"%s\"\n", w, nw);
      ok = false;
    }
  }
  return ok;
}

static size_t
variants (void)
{
  struct shape sh;
  size_t count = 0;

  for (sh.cmd = 0; sh.cmd < 5; sh.cmd++)
  for (sh.quote = 0; sh.quote < 2; sh.quote++)
  for (sh.second = 0; sh.second < 4; sh.second++)
  for (sh.dropin = 0; sh.dropin < 4; sh.dropin++)
  for (sh.prefix = 0; sh.prefix < 3; sh.prefix++)
  for (sh.trailer = 0; sh.trailer < 2; sh.trailer++)
  for (sh.term = 0; sh.term < 2; sh.term++)
  for (sh.uuid = 0; sh.uuid < 2; sh.uuid++)
  for (sh.final = 0; sh.final < 2; sh.final++) {
    CLEANUP_FREE char *main_text = make_main (&sh);
    const char *in[2] = { main_text, dropins[sh.dropin] };
    size_t n = dropins[sh.dropin] ? 2 : 1, fixable, again_fixable;
    char *outs[2] = { NULL, NULL }, *again[2] = { NULL, NULL };
    const char *fixed[2];
    CLEANUP_FREE char *before = NULL, *after = NULL;
    int fails = failures;

    CHECK (edit (n, in, outs, &fixable) == 0);
    for (size_t i = 0; i < n; i++)
      fixed[i] = outs[i] ? outs[i] : in[i];
    CHECK (effective_ok (n, fixed));
    {
      CLEANUP_FREE char *o = effective_cmdline (n, in);
      CLEANUP_FREE char *w = effective_cmdline (n, fixed);
      CHECK (o && w && words_kept (o, w));
    }
    CHECK (edit (n, fixed, again, &again_fixable) == 0);
    CHECK (again[0] == NULL && again[1] == NULL);
    CHECK (again_fixable == 0);
    before = other_lines (n, in);
    after = other_lines (n, fixed);
    CHECK_STR (after, before);
    count++;
    for (size_t i = 0; i < 2; i++) {
      free (outs[i]);
      free (again[i]);
    }
    if (failures > fails) {
      fprintf (stderr, "variant cmd=%zu quote=%zu second=%zu dropin=%zu "
               "prefix=%zu trailer=%zu term=%zu uuid=%zu final=%zu:\n%s\n"
               "--- drop-in:\n%s\n", sh.cmd, sh.quote, sh.second, sh.dropin,
               sh.prefix, sh.trailer, sh.term, sh.uuid, sh.final, in[0],
               in[1] ? in[1] : "(none)");
      return count;
    }
  }
  return count;
}

static void
test_value (void)
{
  const char *t[] = { "A=\"x\"\nA=\"$A y\"\n", "A=\"${A} z\" # c\n" };
  CLEANUP_FREE char *v = grub_defaults_value (2, t, "A");
  CLEANUP_FREE char *none = grub_defaults_value (1, t, "B");
  CLEANUP_FREE char *ab = grub_defaults_value (1, (const char *[]) {
      "AB=1\nA=\"$AB\"\n" }, "A");
  CHECK_STR (v, "x y z");
  CHECK (none == NULL);
  CHECK_STR (ab, "$AB");
}

/* A line fix refuses (an unquoted value with quotes in it) is a
 * blocker in check, not a fixable warning. */
static void
test_uneditable (void)
{
  const char *t[] = { "GRUB_CMDLINE_LINUX=quiet\"x\"\n" };
  const char *names[] = { "/etc/default/grub" };
  struct report *rep = report_new ();
  struct grub_edit ge = { add, &dm, rep, false };
  char *outs[1];

  rep->current_fixup = "linux-boot-params";
  CHECK (grub_defaults_edit (&ge, 1, names, t, outs) == 0);
  CHECK (report_count (rep, SEV_BLOCKER) == 1);
  for (size_t i = 0; i < rep->nfindings; i++)
    if (rep->findings[i].severity == SEV_BLOCKER)
      CHECK (rep->findings[i].fixup == NULL);
  report_free (rep);
  ge.fix = true;
  ge.rep = NULL;
  CHECK (grub_defaults_edit (&ge, 1, names, t, outs) == -1);
}

int
main (void)
{
  size_t n;

  test_value ();
  test_uneditable ();
  test_files ();
  n = variants ();
  printf ("test-grub-edit: /etc/default/grub with drop-ins: %zu variants\n",
          n);
  return UNIT_RESULT ("test-grub-edit");
}
