/* Internal helpers of the descriptor readers (check-desc.c). */
#ifndef AZPREP_CHECK_DESC_H
#define AZPREP_CHECK_DESC_H

#include "prep/check/check.h"

/* The whole file, at most DESC_MAX_SIZE bytes, NUL-terminated. */
char *desc_slurp (const char *path, size_t *len_r);
/* A relative path with no ".." component (no escaping the VM's dir). */
bool desc_safe_relative (const char *p);
struct vm_desc *desc_new (const char *kind, const char *source);
char *desc_dirname (const char *path);
/* Append dir/file (file as is if absolute). */
int desc_add_disk (struct vm_desc *d, const char *dir, const char *file,
                   int64_t capacity);

/* OVA archives (check-ova.c): the .ovf member's text; serving the
 * disk members hrefs (in the order of d->disks) through qemu-nbd;
 * stopping them. */
char *ova_read_ovf (const char *path, char **member_r, size_t *len_r);
int ova_serve_disks (struct vm_desc *d, const char *path, char *const *hrefs);
void ova_stop (struct vm_desc *d);

#endif
