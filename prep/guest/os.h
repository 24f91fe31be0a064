/* OS families: each one registers an os_ops record with OS_OPS(), as a
 * fixup registers with FIXUP(): Linux from distros/, Windows from
 * windows/.  prep/ reaches a family only through its record.
 */
#ifndef AZPREP_GUEST_OS_H
#define AZPREP_GUEST_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <guestfs.h>
#include <cjson/cJSON.h>

struct guest;

struct os_ops {
  const char *type;          /* inspection type: "linux", "windows" */
  unsigned fixups;           /* the fixups for it: FIXUP_LINUX, ... */
  /* With one filesystem mounted at / whose top directory holds the
   * names top: is it a root of this family?  *hint_r may get what
   * inspect() needs (Windows: the system directory in its real case).
   * 1 or 0. */
  int (*probe) (guestfs_h *g, char *const *top, char **hint_r);
  /* With that root mounted at / and gs->root set: the inspection
   * fields (type, distro, version, ..., mountpoints).  Takes the hint.
   * 0 or -1 (reported, naming the file). */
  int (*inspect) (struct guest *gs, char *hint);
  /* Optional.  libguestfs's inspection failed with why: if this
   * family can name the cause, report it and return 1, else 0. */
  int (*explain) (struct guest *gs, const char *why);
  /* Optional.  Add the family's sections to the inspection JSON. */
  int (*json) (struct guest *gs, cJSON *o);
  /* Optional.  After the fixups' apply()s: write back what they
   * changed on host copies.  0 or -1. */
  int (*flush) (struct guest *gs);
  /* Optional.  Release gs->os_data (guest_close). */
  void (*free) (struct guest *gs);
};

#define OS_OPS(o) \
  static const struct os_ops *const o##_os_ptr \
  __attribute__((section ("azprep_os"), used)) = &(o)

/* All families, sorted by type (the order roots are probed in). */
const struct os_ops *const *os_all (size_t *n);
/* The family of an inspection type, or NULL. */
const struct os_ops *os_find (const char *type);

#endif
