/* Fuzz linux-boot-params' transform of /etc/default/grub and its
 * drop-ins (fixups/grub-edit.c) and the kernel command line editor
 * under it (fixups/bootparams.c), on bytes: the input is up to four
 * files separated by NUL bytes, the first /etc/default/grub.  Each set
 * is checked (findings), fixed, and the effective GRUB_CMDLINE_LINUX
 * edited and judged as linux-grub-config does.  Devices: a table that
 * knows /dev/sda1 and /dev/mapper/rhel-root, as a guest would.  Once
 * fixed, the set must give check nothing fixable (abort otherwise). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/report.h"
#include "distros/distro.h"
#include "fixups/bootparams.h"
#include "fixups/grub-edit.h"
#include "tests/fuzz/fuzz.h"

#define MAXFILES 4

static const char *const add[] = BOOT_ADD_PARAMS;

static char *
t_uuid (void *opaque, const char *spec, const char *mp)
{
  return !strcmp (spec, "/dev/sda1") ||
    !strcmp (spec, "/dev/mapper/rhel-root")
    ? xstrdup ("11111111-1111-4111-8111-111111111111") : NULL;
}

static const struct devmap dm = { t_uuid, t_uuid, NULL };

static const char *const names[MAXFILES] = {
  "/etc/default/grub", "/etc/default/grub.d/10-a.cfg",
  "/etc/default/grub.d/50-cloudimg-settings.cfg",
  "/etc/default/grub.d/99-z.cfg" };

/* Check the set: its fixable findings (outs left NULL), shown when
 * show. */
static size_t
check (size_t n, const char *const *texts, bool show)
{
  struct report *rep = report_new ();
  struct grub_edit ge = { add, &dm, rep, false };
  char *outs[MAXFILES] = { NULL };
  size_t fixable;

  if (!rep)
    abort ();
  rep->current_fixup = "linux-boot-params";
  grub_defaults_edit (&ge, n, names, texts, outs);
  fixable = report_count_fixable (rep);
  for (size_t i = 0; show && i < rep->nfindings; i++)
    fprintf (stderr, "%s: %s\n", rep->findings[i].object,
             rep->findings[i].message);
  report_free (rep);
  return fixable;
}

static void
edit (size_t n, const char *const *texts)
{
  struct grub_edit ge = { add, &dm, NULL, true };
  char *outs[MAXFILES] = { NULL };
  char *v;

  check (n, texts, false);
  if (grub_defaults_edit (&ge, n, names, texts, outs) == 0) {
    const char *fixed[MAXFILES];
    size_t left;

    for (size_t i = 0; i < n; i++)
      fixed[i] = outs[i] ? outs[i] : texts[i];
    left = check (n, fixed, false);
    if (left) {
      fprintf (stderr, "grub: %zu fixable findings after the fix:\n", left);
      check (n, fixed, true);
      abort ();
    }
    for (size_t i = 0; i < n; i++)
      free (outs[i]);
  }
  v = grub_defaults_value (n, texts, "GRUB_CMDLINE_LINUX");
  if (v) {
    char *w = boot_cmdline_edit (add, &dm, v, true);
    boot_cmdline_problem_of (add, v);
    free (boot_cmdline_edit (add, &dm, v, false));
    if (w)
      boot_cmdline_problem_of (add, w);
    free (w);
    free (v);
  }
  free (grub_defaults_value (n, texts, "GRUB_TERMINAL"));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);
  const char *texts[MAXFILES];
  size_t n = 0, at = 0;

  if (!s)
    abort ();
  memcpy (s, data, size);
  s[size] = '\0';
  while (n < MAXFILES && at <= size) {
    texts[n++] = s + at;
    at += strlen (s + at) + 1;
  }
  edit (n, texts);
  free (s);
  return 0;
}
