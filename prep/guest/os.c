/* The OS family registry: records from OS_OPS() (os.h), gathered by
 * the linker in one section. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/os.h"

/* Weak, so that a build with no family at all still links. */
extern const struct os_ops *const __start_azprep_os[] __attribute__((weak));
extern const struct os_ops *const __stop_azprep_os[] __attribute__((weak));

static const struct os_ops **sorted;
static size_t nsorted;

static int
compare_os (const void *a, const void *b)
{
  const struct os_ops *const *x = a, *const *y = b;
  return strcmp ((*x)->type, (*y)->type);
}

const struct os_ops *const *
os_all (size_t *n)
{
  if (!sorted)
    sorted = records_sorted (__start_azprep_os, __stop_azprep_os,
                             compare_os, &nsorted);
  *n = nsorted;
  return sorted;
}

const struct os_ops *
os_find (const char *type)
{
  size_t n;
  const struct os_ops *const *all = os_all (&n);

  for (size_t i = 0; type && i < n; i++)
    if (!strcmp (all[i]->type, type))
      return all[i];
  return NULL;
}
