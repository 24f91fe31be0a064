/* The Azure VM size table check matches a VM against (sizes.c). */
#ifndef AZPREP_CHECK_SIZES_H
#define AZPREP_CHECK_SIZES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Azure VM size table (prep/check/azure-sizes.json, installed in
 * $(PREFIX)/share/azprep, overridable with --sizes FILE). */
struct azure_size {
  char *name;
  int vcpus;
  double memory_gib;
  int max_data_disks;
  bool gen1, gen2;
};
struct size_table {
  struct azure_size *sizes;
  size_t n;
  char *source;
};
/* Load path, or the default table if path is NULL.  NULL on error. */
struct size_table *sizes_load (const char *path);
void sizes_free (struct size_table *t);
const struct azure_size *sizes_find (const struct size_table *t,
                                     const char *name);
/* The smallest size (vcpus, then memory) with at least cpus,
 * memory_mib and data_disks that offers the generation; NULL if none. */
const struct azure_size *sizes_suggest (const struct size_table *t,
                                        int cpus, int64_t memory_mib,
                                        int generation, int data_disks);

#endif
