/* Findings and changes: what check reports and what fix did.
 *
 * A finding is something about the guest: a blocker, a warning or an
 * information, with a stable id (documented in azprep(1)), the guest
 * object it concerns, a message and a remedy, and whether a fixup
 * repairs it.  A fixup's check() adds one fixable finding per change it
 * would make; readiness rules add the others.
 *
 * A change is something fix did to the guest: a file or a registry
 * value, before and after.
 */
#ifndef AZPREP_REPORT_H
#define AZPREP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

enum severity { SEV_INFO = 0, SEV_WARNING = 1, SEV_BLOCKER = 2 };

struct finding {
  char *id;          /* stable id, e.g. "linux-fstab-device-name" */
  enum severity severity;
  char *fixup;       /* the fixup that repairs it, or NULL */
  char *object;      /* guest file, registry key, partition, disk */
  char *message;     /* one line */
  char *remedy;      /* one line, or NULL */
};

struct change {
  char *fixup;
  char *kind;        /* "file", "registry", "link", "initramfs", ... */
  char *object;      /* path, or HIVE\key\value */
  char *before;      /* NULL when it did not exist */
  char *after;       /* NULL when it was removed */
};

struct report {
  struct finding *findings; size_t nfindings;
  struct change *changes; size_t nchanges;
  const char *current_fixup;   /* set by the fixup runner */
};

struct report *report_new (void);
void report_free (struct report *r);

/* Add a finding.  fixable: the current fixup (r->current_fixup)
 * repairs it.  The message is printf-style.  Returns 0 or -1.
 */
int report_finding (struct report *r, enum severity sev, const char *id,
                    const char *object, const char *remedy, bool fixable,
                    const char *fmt, ...)
  __attribute__((format (printf, 7, 8)));

/* Record a change made by the current fixup.  Returns 0 or -1. */
int report_change (struct report *r, const char *kind, const char *object,
                   const char *before, const char *after);

/* Counts of findings by severity; of fixable findings. */
size_t report_count (const struct report *r, enum severity sev);
size_t report_count_fixable (const struct report *r);

const char *severity_name (enum severity s);

/* JSON arrays of the findings and the changes (schemas in azprep(1)). */
cJSON *report_findings_json (const struct report *r);
cJSON *report_changes_json (const struct report *r);

#endif
