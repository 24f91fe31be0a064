/* What a readiness rule reads: the check context (the guest, its
 * descriptor, the target size) and the guest facts it gathers once for
 * every rule (prep/check/guest.c).
 */
#ifndef AZPREP_CHECK_GUEST_H
#define AZPREP_CHECK_GUEST_H

#include <stdbool.h>
#include <sys/types.h>
#include <guestfs.h>
#include <cjson/cJSON.h>

#include "prep/common/fstab.h"
#include "prep/guest/guest.h"
#include "prep/check/desc/desc.h"
#include "prep/check/sizes.h"

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

/* Fill what ctx lacks of fses and dirty (once the appliance runs) and
 * fstab (once a Linux OS is mounted): call it after opening and again
 * after mounting.  check_ctx_release frees them. */
void check_ctx_prepare (struct check_ctx *ctx);
void check_ctx_release (struct check_ctx *ctx);
/* Which filesystems were not cleanly unmounted: triples device,
 * severity ("blocker" or "warning"), why (prep/check/rules/storage.c). */
char **check_probe_dirty (struct guest *gs, char *const *fses);

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

#endif
