/* Hydration: a recovery point of each replicated disk is copied
 * server-side (Copy Blob) to a scratch blob (<disk>-test.vhd or
 * <disk>-migrated.vhd), which is then prepared where it lies: the
 * fixups run on a guest whose disks are the copies, served by the
 * bridge (nbdkit + azblob), so only the blocks they touch travel.  The
 * replica is only ever read by the server-side copy.
 *
 * Each copy is held under an infinite lease whose id the service chose
 * for this run only (the bridges send it on every write), and carries
 * the metadata azprephydration=running|done|failed, set under that
 * lease: a copy that is not "done" is never deployed, and the next run
 * starts it again from the recovery point.  A run that starts over
 * breaks the lease first, so a run it replaced gets 412 on every write
 * and mark and fails without touching the new copy.  Whoever ends a
 * copy's lease without holding it (cleanup-test, complete) breaks it.
 */
#ifndef AZPREP_HYDRATE_H
#define AZPREP_HYDRATE_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "prep/fixup.h"
#include "replicate/azure/blob.h"
#include "replicate/migrate/blob-export.h"

struct hydrate_disk {
  const char *replica;        /* the replica blob's URL (no SAS) */
  const char *snapshot;       /* its recovery point (NULL: the blob) */
  char *copy;                 /* URL of <replica without .vhd>-SUFFIX.vhd */
  char lease_id[37];          /* this run's lease on the copy */
  uint64_t blob_size;
  struct blob_export_stats stats;
};

/* What the hydrated guest is: for the VM definition and the report. */
struct hydrate_result {
  bool windows;
  int generation;
  char *distro, *product, *variant;
  cJSON *inspection;          /* guest_inspect_json */
  cJSON *changes, *findings;  /* the fixups' and the check rules' report */
  cJSON *rules;               /* each check rule: id, result */
  size_t blockers, warnings;
  char *size;                 /* the VM size: given or suggested */
  bool size_suggested;
  bool taken_over;            /* another run leases a copy now */
};

struct hydrate_opts {
  const char *creds_file;
  const char *cacert;
  bool trace;
  bool allow_http;
  const struct fixup_selection *sel;
  const char *size;           /* --size, or NULL: suggest one */
  struct token_source *tokens;  /* Entra ID, for the bridges; or NULL */
};

/* The copy's URL for a replica blob URL and a suffix ("test",
 * "migrated"): NAME.vhd -> NAME-SUFFIX.vhd.  NULL if the URL has a
 * query. */
char *hydrate_copy_url (const char *replica, const char *suffix);

/* Replace the copy d->copy (break its lease, delete) with a fresh
 * server-side copy of the recovery point, lease it (a new id, into
 * d->lease_id), mark it running.  0 or -1. */
int hydrate_copy (struct blob_client *c, struct hydrate_disk *d);

/* Prepare the guest made of the copies (in order, OS disk first)
 * through the bridges, then run azprep check's readiness rules on the
 * prepared guest (the same appliance); mark each copy done, refused (a
 * blocker: the guest would not boot) or failed, under this run's
 * lease.  0, or -1 (reported; r->blockers says if it was a refusal,
 * r->taken_over if another run leases a copy now: it is left alone). */
int hydrate_guest (struct blob_client *c, struct hydrate_disk *disks,
                   size_t n, const struct hydrate_opts *o,
                   struct hydrate_result *r);
void hydrate_result_free (struct hydrate_result *r);

/* Break the blob's lease (if any) and delete it with its snapshots (a
 * copy, or a replica); a missing blob is fine. */
int hydrate_delete_blob (struct blob_client *c, const char *copy);
/* The copy's hydration state ("running", "done", "failed"; "" if not
 * marked) into *state (malloc'd, NULL if the copy
 * does not exist).  0 or -1. */
int hydrate_copy_state (struct blob_client *c, const char *copy,
                        char **state);
/* Break the lease on a finished copy at once (it stays): the run that
 * took it is over and its id is not kept.  No lease is success.  0 or
 * -1. */
int hydrate_break_lease (struct blob_client *c, const char *copy);

/* JSON of one disk: replica, snapshot, copy, bridge counters. */
cJSON *hydrate_disk_json (const struct hydrate_disk *d);

#endif
