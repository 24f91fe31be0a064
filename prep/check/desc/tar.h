/* The tar reader of OVA archives (tar.c), for ova.c. */
#ifndef AZPREP_CHECK_DESC_TAR_H
#define AZPREP_CHECK_DESC_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OVA_BLOCK 512

/* A regular member: its name and its bytes' range in the archive. */
struct ova_member {
  char *name;
  int64_t offset, size;
};

struct ova {
  char *path;
  int fd;
  int64_t file_size;
  struct ova_member *m;
  size_t n;
};

/* Read the member list.  -1 after an error naming the archive, with
 * the archive closed. */
int ova_open (struct ova *o, const char *path);
void ova_close (struct ova *o);
/* The member called name ("./" ignored); NULL if there is none, or
 * (*twice set) more than one. */
const struct ova_member *ova_find (const struct ova *o, const char *name,
                                   bool *twice);
/* All len bytes at off, or -1 after an error naming the archive. */
int ova_pread (struct ova *o, void *buf, size_t len, int64_t off);

#endif
