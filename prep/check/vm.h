/* Checking a VM (vm.c) and a fleet of them, one child azprep per VM
 * (fleet.c): the JSON result of each, the verdicts and exit codes.
 */
#ifndef AZPREP_CHECK_VM_H
#define AZPREP_CHECK_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "prep/guest/guest.h"
#include "prep/check/desc/desc.h"

/* Options of one check run. */
struct check_opts {
  const char *name;            /* VM name (default: first disk) */
  const char *size;            /* --size */
  const char *sizes_file;      /* --sizes */
  int generation;              /* --generation, 0 if not given */
  bool trace;
};

/* Check one VM: open read-only, inspect, run the fixups' checks and the
 * rules.  Never fails: what cannot be checked is in the result
 * ("verdict": "error").  Takes ownership of disks and desc. */
cJSON *check_vm (struct disk *disks, size_t ndisks, struct vm_desc *desc,
                 const struct check_opts *o);
/* A result for a VM that could not be checked at all. */
cJSON *check_vm_error (const char *name, const char *message);

/* Verdicts. */
const char *verdict_name (int exit_code);
int verdict_exit (const char *verdict);
/* The report's top-level object around the VM objects (takes them). */
cJSON *check_report (cJSON *vms);

/* Fleets (prep/check/fleet.c). */
struct fleet_vm {
  char *name;
  char **disks;                /* NULL-terminated */
  char *format;                /* or NULL */
  char *ovf, *vmx;             /* descriptor instead of disks, or NULL */
  char *ovf_vm;                /* the VM of a multi-VM OVF, or NULL */
  char *size;                  /* target Azure size, or NULL */
};
/* A text file of at most max bytes, NUL-terminated, its length in
 * *len; NULL (reported) if it cannot be read or is larger. */
char *fleet_read_text (const char *path, size_t max, size_t *len);
/* Parse a --vms file (JSON list or one VM per line).  -1 on error. */
int fleet_read (const char *path, struct fleet_vm **vms, size_t *n);
void fleet_free (struct fleet_vm *vms, size_t n);
/* The VMs of a multi-VM OVF or OVA (a vApp), one fleet entry each,
 * named by the VirtualSystem's Name (or id).  -1 on error. */
int fleet_ovf_vms (const char *ovf, const char *format,
                   struct fleet_vm **vms, size_t *n);
/* Default --jobs: from cores and memory (~1 GiB per appliance). */
int fleet_default_jobs (void);
/* Check each VM in a child azprep, at most jobs at a time.  Returns
 * the array of VM results, in the order of vms. */
cJSON *fleet_check (const struct fleet_vm *vms, size_t n, int jobs,
                    const struct check_opts *o, const char *self);

/* Shards (prep/check/shard.c).  "I/N" (0 <= I < N) into index and
 * count: 0, or -1 if it is not one. */
int fleet_parse_shard (const char *s, int64_t *index, int64_t *count);
/* Move shard index of count (every count-th VM from index) to the
 * front of vms, in order; returns how many (the rest stay, to free). */
size_t fleet_select (struct fleet_vm *vms, size_t n, int64_t index,
                     int64_t count);
/* The VM objects of the report files (check --json) in one array: in
 * the order of fleet (n VMs) if given, a VM no report has becoming an
 * error result, else in the files' order.  NULL (reported) for a file
 * that is not a report, a VM in two of them, or one not in fleet. */
cJSON *fleet_merge (char *const *files, size_t nfiles,
                    const struct fleet_vm *fleet, size_t n);

#endif
