/* azprep check: readiness rules, VM descriptors, the Azure size table
 * and the report writers.
 *
 * A readiness rule is a record, as a fixup is: a stable id (which is
 * also the id of every finding it reports), a one-line heading, the
 * severity it usually reports, what it needs, and a check function.
 * Each rule file ends with RULE(its_record).  Rules only read.  They
 * cover what no fixup repairs; the fixups' own check()s run beside
 * them.  The documented list of ids is in prep/check.pod and
 * "azprep check --list" prints it.
 *
 * Every VM checked becomes one JSON object (schema in prep/check.pod);
 * the text, JUnit and HTML writers all render that JSON, so a fleet run
 * (one child azprep per VM) and a single run produce the same reports.
 */
#ifndef AZPREP_CHECK_H
#define AZPREP_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "prep/common/fstab.h"
#include "prep/guest/guest.h"
#include "prep/report.h"

/* A VM descriptor: OVF/OVA (prep/check/desc/ovf.c) or .vmx (check-vmx.c). */
struct vm_desc {
  char *kind;                /* "ovf", "ova", "vmx" */
  char *source;              /* the descriptor file */
  char *name;                /* VM name, or NULL */
  char **disks;              /* disk paths in order, NULL-terminated */
  int64_t *capacity;         /* per disk, bytes, -1 if unknown */
  size_t ndisks;
  enum firmware firmware;    /* FIRMWARE_UNKNOWN if not stated */
  int cpus;                  /* 0 if unknown */
  int64_t memory_mib;        /* 0 if unknown */
  int nics;
  char *guest_os;            /* VMware guest id (vmw:osType, guestOS) */
  bool secure_boot;
  bool vtpm;
  /* OVA: each disk is a tar member served, decoded, by a read-only
   * qemu-nbd (prep/check/desc/ova.c): per disk, its NBD server
   * ("unix:SOCKET") and virtual size, or why it cannot be read; all
   * NULL for other descriptors. */
  char **nbd_server;
  int64_t *nbd_size;
  char **disk_error;
  pid_t *nbd_pid;
  char *ova_dir;             /* the sockets' temporary directory */
};

/* Largest descriptor accepted (bytes). */
#define DESC_MAX_SIZE (4 * 1024 * 1024)

/* Parse a descriptor.  OVA disks are read in place, each through a
 * read-only qemu-nbd (sockets in a temporary directory under $TMPDIR)
 * that desc_free stops.  NULL after a clear error naming the file and
 * what is wrong. */
struct vm_desc *desc_read_ovf (const char *path);
struct vm_desc *desc_read_vmx (const char *path);
void desc_free (struct vm_desc *d);
cJSON *desc_json (const struct vm_desc *d);

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

/* What a rule can read. */
struct check_ctx {
  struct guest *gs;           /* disks probed; g may be NULL */
  const struct vm_desc *desc; /* or NULL */
  const struct size_table *sizes;
  const struct azure_size *target;  /* given or suggested, or NULL */
  bool target_given;          /* --size, rather than suggested */
  bool inspected;             /* one OS found, filesystems mounted */
  /* Filesystems, listed once by check_ctx_prepare: pairs device,
   * type (encrypted volumes and swap included); NULL before
   * RULE_NEEDS_GUEST. */
  char **fses;
  /* Also filled by check_ctx_prepare, so that rules do not read it
   * twice: the guest's /etc/fstab once an OS is mounted (nfstab -1 if
   * it could not be read, 0 if there is none). */
  struct fstab_entry *fstab;
  ssize_t nfstab;
  bool fstab_read;
  /* filesystem-dirty decided before inspection mounts anything (a
   * read-only mount still replays an XFS or ext4 journal into the
   * appliance's overlay, which would hide it): check_probe_dirty. */
  char **dirty;
  /* The fixups already ran on this guest and verified their work
   * (test-migrate, migrate): rules about what they need before they
   * run (free space) are settled. */
  bool after_fixups;
};

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

/* Fill what ctx lacks of fses and dirty (once the appliance runs) and
 * fstab (once a Linux OS is mounted): call it after opening and again
 * after mounting.  check_ctx_release frees them. */
void check_ctx_prepare (struct check_ctx *ctx);
void check_ctx_release (struct check_ctx *ctx);
/* Which filesystems were not cleanly unmounted: triples device,
 * severity ("blocker" or "warning"), why (prep/check/rules/storage.c). */
char **check_probe_dirty (guestfs_h *g, char *const *fses);

/* Helpers for rules (prep/check/guest.c). */
/* The whole-disk device (/dev/sdX) holding a partition, LV or whole
 * device; NULL if unknown.  LVs map to the disk of their VG's first PV. */
char *check_device_disk (const struct check_ctx *ctx, const char *dev);
/* Every filesystem, swap area and encrypted volume with its blkid
 * type (guest_scan_storage's): pairs device, type. */
char **check_list_filesystems (struct guest *gs);
/* Resolve an fstab spec to an appliance device (guest_resolve_spec),
 * or NULL. */
char *check_resolve_spec (const struct check_ctx *ctx, const char *spec);

/* A copy of s with invalid UTF-8 and control characters (but tab and
 * newline) replaced by '?': safe for XML and HTML.  NULL on OOM. */
char *check_clean_text (const char *s);
/* A deep copy of j with every string cleaned so (NULL on OOM). */
cJSON *check_clean_json (const cJSON *j);

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
  char *size;                  /* target Azure size, or NULL */
};
/* Parse a --vms file (JSON list or one VM per line).  -1 on error. */
int fleet_read (const char *path, struct fleet_vm **vms, size_t *n);
void fleet_free (struct fleet_vm *vms, size_t n);
/* Default --jobs: from cores and memory (~1 GiB per appliance). */
int fleet_default_jobs (void);
/* Check each VM in a child azprep, at most jobs at a time.  Returns
 * the array of VM results, in the order of vms. */
cJSON *fleet_check (const struct fleet_vm *vms, size_t n, int jobs,
                    const struct check_opts *o, const char *self);

/* Writers (prep/check/report/text.c, check-junit.c, check-html.c). */
void check_print_text (FILE *fp, const cJSON *report, bool colour);
int check_write_junit (const char *path, const cJSON *report);
int check_write_html (const char *path, const cJSON *report);

#endif
