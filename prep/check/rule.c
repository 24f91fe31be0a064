/* The readiness rule registry (see rule.h).  Rules register with
 * RULE(); the linker gathers them in one section. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/rule.h"

extern const struct rule *const __start_azprep_rules[] __attribute__((weak));
extern const struct rule *const __stop_azprep_rules[] __attribute__((weak));

static const struct rule **sorted;
static size_t nsorted;

static int
compare_rules (const void *a, const void *b)
{
  const struct rule *const *x = a, *const *y = b;
  return strcmp ((*x)->id, (*y)->id);
}

const struct rule *const *
rule_all (size_t *n)
{
  if (!sorted)
    sorted = records_sorted (__start_azprep_rules, __stop_azprep_rules,
                             compare_rules, &nsorted);
  *n = nsorted;
  return sorted;
}

const struct rule *
rule_find (const char *id)
{
  size_t n;
  const struct rule *const *all = rule_all (&n);
  for (size_t i = 0; i < n; i++)
    if (!strcmp (all[i]->id, id))
      return all[i];
  return NULL;
}
