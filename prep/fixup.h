/* A fixup is a record, as virt-sysprep's operations: a name, a heading,
 * which guests it applies to, a read-only check() and an apply().
 * check, fix --dry-run and fix all run the same records.
 *
 * check() reports, with report_finding(..., fixable=true, ...), one
 * finding per change it would make, and nothing when the guest is
 * already right.  It must not write.  It may add non-fixable findings
 * (blockers, warnings) for what it cannot repair.
 *
 * apply() makes the changes and reports each one with report_change()
 * (the guest_* write helpers in guest.h do that).  fix runs every
 * applicable check() again after all apply()s: any fixable finding left
 * is a failed verification and nothing is committed.
 *
 * A fixup whose check and apply walk the same steps gives one
 * run(gs, fix) instead; one that only reports has no apply.
 *
 * Each fixup file ends with FIXUP(its_record).
 */
#ifndef AZPREP_FIXUP_H
#define AZPREP_FIXUP_H

#include <stdbool.h>
#include <stddef.h>

struct guest;

enum {
  FIXUP_LINUX = 1,
  FIXUP_WINDOWS = 2,
};

struct fixup {
  const char *name;          /* [a-z0-9-]+ */
  const char *heading;       /* one line */
  int order;                 /* lower runs first; see fixup.c for bands */
  unsigned guests;           /* FIXUP_LINUX | FIXUP_WINDOWS */
  /* Optional finer filter; NULL = applies to every guest of the type. */
  bool (*applies) (struct guest *gs);
  int (*check) (struct guest *gs);   /* 0 or -1 (error reported) */
  /* 0 or -1 (error reported); NULL in a fixup that only reports. */
  int (*apply) (struct guest *gs);
  /* One function for both, when check and apply walk the same steps:
   * used where check or apply is NULL, with fix false or true. */
  int (*run) (struct guest *gs, bool fix);
  /* A gate's unfixable blocker stops fix before any apply(): nothing
   * is written into a guest it refuses (e.g. a damaged file system). */
  bool gate;
};

#define FIXUP(f) \
  static const struct fixup *const f##_fixup_ptr \
  __attribute__((section ("azprep_fixups"), used)) = &(f)

/* All registered fixups, sorted by order then name. */
const struct fixup *const *fixup_all (size_t *n);
const struct fixup *fixup_find (const char *name);
/* Does f apply to this (inspected) guest? */
bool fixup_applies (const struct fixup *f, struct guest *gs);

/* Selection for --only / --skip: comma-separated names.  NULL = all.
 * Returns -1 (error reported) for an unknown name.
 */
struct fixup_selection {
  char **only;
  char **skip;
};
int fixup_selection_parse (char ***list, const char *arg);
bool fixup_selected (const struct fixup_selection *s, const struct fixup *f);

/* How many blockers in r no fixup repairs (the guest is refused). */
struct report;
size_t fixup_unfixable_blockers (const struct report *r);

/* Record the time since t0 (monotonic_seconds) as "fixup NAME". */
void fixup_timing (struct guest *gs, const struct fixup *f, double t0);
/* Run check() of every applicable, selected fixup.  Returns 0 or -1. */
int fixups_check (struct guest *gs, const struct fixup_selection *s);
/* Run apply() of every applicable, selected fixup that check() found
 * needed, then verify.  Returns 0 or -1. */
int fixups_apply (struct guest *gs, const struct fixup_selection *s);

#endif
