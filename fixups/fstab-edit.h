/* The text transforms of linux-fstab, on bytes alone (fstab-edit.c):
 * the fixup reads the file from the guest and gives its devices as a
 * devmap; the unit tests give a table. */
#ifndef AZPREP_FSTAB_EDIT_H
#define AZPREP_FSTAB_EDIT_H

#include <stdbool.h>

struct devmap;
struct report;

struct fstab_edit {
  const char *file;            /* its name in findings and errors */
  const struct devmap *dm;
  struct report *rep;          /* where check's findings go */
  bool fix;                    /* false: findings only */
};

/* fstab or crypttab text (NUL-terminated): with fix false, one finding
 * per line to change (*out NULL); with fix true, the new text in *out,
 * or NULL when nothing changes.  Every byte not changed stays.  0, or
 * -1 with an error naming the file and line. */
int fstab_edit_text (const struct fstab_edit *e, const char *text,
                     char **out);
int crypttab_edit_text (const struct fstab_edit *e, const char *text,
                        char **out);

#endif
