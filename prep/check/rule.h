/* azprep check's readiness rules.
 *
 * A readiness rule is a record, as a fixup is: a stable id (which is
 * also the id of every finding it reports), a one-line heading, the
 * severity it usually reports, what it needs, and a check function.
 * Each rule file ends with RULE(its_record).  Rules only read.  They
 * cover what no fixup repairs; the fixups' own check()s run beside
 * them.  The documented list of ids is in prep/check.pod and
 * "azprep check --list" prints it.
 */
#ifndef AZPREP_CHECK_RULE_H
#define AZPREP_CHECK_RULE_H

#include "prep/report.h"
#include "prep/check/guest.h"

enum {
  RULE_NEEDS_NOTHING = -1,    /* decided while probing the disks */
  RULE_NEEDS_DISKS = 0,       /* probed disks (sizes) are enough */
  RULE_NEEDS_GUEST = 1,       /* an appliance, not necessarily an OS */
  RULE_NEEDS_OS = 2,          /* one inspected, mounted OS */
};

struct rule {
  const char *id;            /* [a-z0-9-]+, stable, documented */
  const char *heading;       /* one line */
  enum severity severity;    /* what it usually reports */
  int needs;                 /* RULE_NEEDS_* */
  /* Adds findings (id = rule id) to ctx->gs->report.  0 or -1.  NULL
   * for rules whose findings come from opening and inspecting. */
  int (*check) (const struct check_ctx *ctx);
};

#define RULE(r) \
  static const struct rule *const r##_rule_ptr \
  __attribute__((section ("azprep_rules"), used)) = &(r)

/* All rules, sorted by id. */
const struct rule *const *rule_all (size_t *n);
const struct rule *rule_find (const char *id);

/* Report a finding of the rule (id = rule->id). */
#define rule_finding(ctx, rule, sev, object, remedy, ...)               \
  report_finding ((ctx)->gs->report, (sev), (rule)->id, (object),      \
                  (remedy), false, __VA_ARGS__)

#endif
