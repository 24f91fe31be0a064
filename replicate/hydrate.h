/* Hydration: a recovery point of each replicated disk is copied
 * server-side (Copy Blob) to a scratch blob (<disk>-test.vhd or
 * <disk>-migrated.vhd), which is then prepared where it lies: the
 * fixups run on a guest whose disks are the copies, served by the
 * bridge (nbdkit + azblob), so only the blocks they touch travel.  The
 * replica is only ever read by the server-side copy.
 *
 * Each copy is held under an infinite lease with an id derived from its
 * name (so cleanup can release it without local state) and carries the
 * metadata azprephydration=running|done|failed: a copy that is not
 * "done" is never deployed, and the next run starts it again from the
 * recovery point.
 */
#ifndef AZPREP_HYDRATE_H
#define AZPREP_HYDRATE_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "fixup.h"
#include "replicate/blob.h"
#include "replicate/bridge.h"

struct hydrate_disk {
  const char *container;
  const char *replica;        /* the replica blob */
  const char *snapshot;       /* its recovery point (NULL: the blob) */
  char *copy;                 /* <replica without .vhd>-SUFFIX.vhd */
  char *url;                  /* the copy's URL (no secret) */
  char lease_id[37];
  uint64_t blob_size;
  struct bridge_stats stats;
};

/* What the hydrated guest is: for the VM definition and the report. */
struct hydrate_result {
  bool windows;
  int generation;
  char *distro, *product, *variant;
  cJSON *inspection;          /* guest_inspect_json */
  cJSON *changes, *findings;  /* the fixups' report */
  size_t blockers, warnings;
};

struct hydrate_opts {
  const char *creds_file;
  const char *cacert;
  bool trace;
  const struct fixup_selection *sel;
};

/* The copy's name for a replica blob and a suffix ("test", "migrated"). */
char *hydrate_copy_name (const char *replica, const char *suffix);
/* The deterministic lease id (a GUID) of a copy. */
void hydrate_lease_id (const char *container, const char *copy,
                       char out[37]);

/* Replace the copy (break its lease, delete) with a fresh server-side
 * copy of the recovery point, lease it, mark it running.  0 or -1. */
int hydrate_copy (struct blob_client *c, struct hydrate_disk *d);

/* Prepare the guest made of the copies (in order, OS disk first)
 * through the bridges; mark each copy done (or failed).  0, or -1
 * (reported; the copies are marked failed if they could be). */
int hydrate_guest (struct blob_client *c, struct hydrate_disk *disks,
                   size_t n, const struct hydrate_opts *o,
                   struct hydrate_result *r);
void hydrate_result_free (struct hydrate_result *r);

/* Break the copy's lease and delete it; a missing copy is fine. */
int hydrate_delete_copy (struct blob_client *c, const char *container,
                         const char *copy);

/* JSON of one disk: replica, snapshot, copy, bridge counters. */
cJSON *hydrate_disk_json (const struct hydrate_disk *d);

#endif
