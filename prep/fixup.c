/* The fixup registry and runner.  Fixups register with FIXUP() (fixup.h);
 * the linker gathers them in one section.
 *
 * Order bands: 100 storage and boot-critical (drivers, fstab), 200
 * network, 300 services and consoles, 400 agents and tools, 900
 * bootloader and initramfs rebuilds (last, after every input changed).
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "prep/guest/os.h"

/* Weak, so that a build with no fixup at all still links. */
extern const struct fixup *const __start_azprep_fixups[] __attribute__((weak));
extern const struct fixup *const __stop_azprep_fixups[] __attribute__((weak));

static const struct fixup **sorted;
static size_t nsorted;

static int
compare_fixups (const void *a, const void *b)
{
  const struct fixup *const *x = a, *const *y = b;
  if ((*x)->order != (*y)->order)
    return (*x)->order < (*y)->order ? -1 : 1;
  return strcmp ((*x)->name, (*y)->name);
}

const struct fixup *const *
fixup_all (size_t *n)
{
  if (!sorted)
    sorted = records_sorted (__start_azprep_fixups, __stop_azprep_fixups,
                             compare_fixups, &nsorted);
  *n = nsorted;
  return sorted;
}

const struct fixup *
fixup_find (const char *name)
{
  size_t n;
  const struct fixup *const *all = fixup_all (&n);
  for (size_t i = 0; i < n; i++)
    if (!strcmp (all[i]->name, name))
      return all[i];
  return NULL;
}

bool
fixup_applies (const struct fixup *f, struct guest *gs)
{
  if (!gs->os || !(f->guests & gs->os->fixups))
    return false;
  return f->applies ? f->applies (gs) : true;
}

int
fixup_selection_parse (char ***list, const char *arg)
{
  CLEANUP_FREE char *copy = xstrdup (arg);
  char *save = NULL, *tok;
  size_t n = count_strings (*list);

  if (!copy)
    return -1;
  for (tok = strtok_r (copy, ",", &save); tok;
       tok = strtok_r (NULL, ",", &save)) {
    char **nl;
    if (!fixup_find (tok)) {
      azp_error ("unknown fixup '%s' (see 'azprep fix --list')", tok);
      return -1;
    }
    nl = realloc (*list, (n + 2) * sizeof *nl);
    if (!nl) {
      azp_error ("out of memory");
      return -1;
    }
    *list = nl;
    nl[n++] = strdup (tok);
    nl[n] = NULL;
  }
  return 0;
}

static bool
in_list (char *const *list, const char *name)
{
  for (size_t i = 0; list && list[i]; i++)
    if (!strcmp (list[i], name))
      return true;
  return false;
}

bool
fixup_selected (const struct fixup_selection *s, const struct fixup *f)
{
  if (!s)
    return true;
  if (s->only && !in_list (s->only, f->name))
    return false;
  return !in_list (s->skip, f->name);
}

/* A fixup's check (fix false) or apply (fix true), or its run(); a
 * fixup that only reports has neither apply nor run. */
static int
call (const struct fixup *f, struct guest *gs, bool fix)
{
  int (*one) (struct guest *) = fix ? f->apply : f->check;
  if (one)
    return one (gs);
  return f->run ? f->run (gs, fix) : 0;
}

/* The time a fixup took (its check, and its change when needed). */
void
fixup_timing (struct guest *gs, const struct fixup *f, double t0)
{
  CLEANUP_FREE char *phase = xasprintf ("fixup %s", f->name);
  if (phase)
    guest_timing (gs, phase, t0);
}

/* Run one fixup's check, attributing its findings to it.  Returns the
 * number of fixable findings it added, or -1. */
static int
run_check (struct guest *gs, const struct fixup *f)
{
  size_t before = report_count_fixable (gs->report);
  int r;

  gs->report->current_fixup = f->name;
  r = call (f, gs, false);
  gs->report->current_fixup = NULL;
  if (r == -1)
    return -1;
  return report_count_fixable (gs->report) - before;
}

size_t
fixup_unfixable_blockers (const struct report *r)
{
  size_t n = 0;
  for (size_t i = 0; i < r->nfindings; i++)
    if (r->findings[i].severity == SEV_BLOCKER && !r->findings[i].fixup)
      n++;
  return n;
}

int
fixups_check (struct guest *gs, const struct fixup_selection *s)
{
  size_t n;
  const struct fixup *const *all = fixup_all (&n);
  int ret = 0;

  for (size_t i = 0; i < n; i++) {
    /* Selection first: applies() may ask the appliance. */
    if (!fixup_selected (s, all[i]) || !fixup_applies (all[i], gs))
      continue;
    azp_debug ("check: %s", all[i]->name);
    if (run_check (gs, all[i]) == -1) {
      azp_error ("fixup %s: check failed", all[i]->name);
      ret = -1;
    }
  }
  return ret;
}

int
fixups_apply (struct guest *gs, const struct fixup_selection *s)
{
  size_t n;
  const struct fixup *const *all = fixup_all (&n);
  struct report *verify;
  int ret = 0;

  for (size_t i = 0; i < n; i++) {
    const struct fixup *f = all[i];
    double t0 = monotonic_seconds ();
    int needed;

    if (!fixup_selected (s, f) || !fixup_applies (f, gs))
      continue;
    /* Check first: a fixup with nothing to do is not applied, which is
     * what makes a second run change nothing. */
    needed = run_check (gs, f);
    if (needed == -1) {
      azp_error ("fixup %s: check failed; nothing was committed", f->name);
      return -1;
    }
    if (f->gate && fixup_unfixable_blockers (gs->report) > 0) {
      azp_debug ("fix: %s refuses the guest: nothing is applied", f->name);
      return 0;
    }
    if (needed == 0) {
      azp_debug ("fix: %s: nothing to do", f->name);
      fixup_timing (gs, f, t0);
      continue;
    }
    azp_debug ("fix: %s: applying", f->name);
    gs->report->current_fixup = f->name;
    ret = call (f, gs, true);
    gs->report->current_fixup = NULL;
    if (ret == -1) {
      azp_error ("fixup %s failed; nothing was committed", f->name);
      return -1;
    }
    fixup_timing (gs, f, t0);
  }

  /* What the family edits on host copies (Windows hives) is written
   * back once. */
  if (gs->os && gs->os->flush) {
    double t0 = monotonic_seconds ();
    if (gs->os->flush (gs) == -1) {
      azp_error ("nothing was committed");
      return -1;
    }
    guest_timing (gs, "write back", t0);
  }

  /* Verify: every check again, on the changed guest, into a scratch
   * report.  Any fixable finding left means a fixup did not do its
   * work: that fails the whole run. */
  verify = report_new ();
  if (!verify)
    return -1;
  {
    struct report *saved = gs->report;
    double t0 = monotonic_seconds ();
    gs->report = verify;
    ret = fixups_check (gs, s);
    gs->report = saved;
    guest_timing (gs, "verify", t0);
  }
  for (size_t i = 0; ret == 0 && i < verify->nfindings; i++) {
    const struct finding *f = &verify->findings[i];
    if (f->fixup) {
      azp_error ("verification failed: fixup %s left %s%s%s: %s; "
                 "nothing was committed", f->fixup,
                 f->object ? f->object : "", f->object ? ": " : "",
                 f->id, f->message);
      ret = -1;
    }
  }
  report_free (verify);
  return ret;
}
