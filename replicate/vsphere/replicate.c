/* azprep replicate from vsphere:// disks: the job's sources are the
 * frozen disks of one snapshot per cycle (replicate/vsphere/cycle.c),
 * plugged into the engine as a source hook.  The first source opened
 * begins the cycle for all the job's disks (one snapshot, so the disks
 * are consistent with each other); the end of the cycle closes the
 * sources and removes the snapshot.
 */
#include <string.h>

#include "prep/common/common.h"
#include "replicate/engine/replicate.h"
#include "replicate/vsphere/vsphere.h"

/* What CBT says changed since the last recovery point (the first cycle:
 * the allocated areas); the new chain link is recorded with the cycle
 * and becomes the disk's changeId with its recovery point. */
static int
cbt_areas (struct job *job, struct rdisk *d, struct vsphere_cycle *c,
           size_t i)
{
  const char *cid = vsphere_cycle_change_id (c, i);
  const char *since = d->jd->cycles == 0 ? "*" : d->jd->change_id;
  int r;

  rangelist_free (&d->changed);
  d->have_changed = false;
  free (d->jd->cycle_change_id);
  d->jd->cycle_change_id = NULL;
  if (cid && !(d->jd->cycle_change_id = xstrdup (cid)))
    return -1;
  r = vsphere_cycle_changed (c, i, since, &d->changed);
  if (r == -1)
    return -1;
  d->have_changed = r == 0;
  /* A cycle resumed from a new snapshot: what the interrupted attempt
   * finished may have changed since; with CBT, redoing it costs only
   * the changed areas (the manifest skips what the blob already holds). */
  if (d->have_changed && d->jd->done.n > 0)
    rangelist_free (&d->jd->done);
  return 0;
}

static int
vsphere_job_open_source (struct job *job, struct rdisk *d)
{
  size_t i = d - job->disks;
  struct vsphere_cycle *c = job->hook_cycle;

  if (!c) {
    CLEANUP_FREE char **uris = calloc (job->j.ndisks + 1, sizeof *uris);
    if (!uris) {
      azp_error ("out of memory");
      return -1;
    }
    for (size_t k = 0; k < job->j.ndisks; k++)
      uris[k] = job->j.disks[k].source;
    struct vsphere_cycle_opts co = { .track = true,
                                     .enable_cbt = job->enable_cbt };
    c = vsphere_cycle_begin (uris, job->j.ndisks, &co);
    if (!c)
      return -1;
    job->hook_cycle = c;
  }
  if (vsphere_cycle_disk_size (c, i) > (int64_t) d->jd->size) {
    azp_error ("%s: the disk grew to %lld bytes, over the replica's %llu; "
               "replicate it as a new job", d->jd->source,
               (long long) vsphere_cycle_disk_size (c, i),
               (unsigned long long) d->jd->size);
    return -1;
  }
  if (cbt_areas (job, d, c, i) == -1)
    return -1;
  d->src = source_open_nbd (vsphere_cycle_nbd_uri (c, i), NULL);
  if (!d->src)
    return -1;
  /* Read errors name the disk (and the offset), not the bridge. */
  return source_set_name (d->src, d->jd->source);
}

static int
vsphere_job_end_cycle (struct job *job)
{
  int r;

  if (!job->hook_cycle)
    return 0;
  for (size_t i = 0; job->disks && i < job->j.ndisks; i++) {
    source_close (job->disks[i].src);
    job->disks[i].src = NULL;
    rangelist_free (&job->disks[i].changed);
    job->disks[i].have_changed = false;
  }
  r = vsphere_cycle_end (job->hook_cycle);
  job->hook_cycle = NULL;
  return r;
}

static const struct replicate_source vsphere_source = {
  .name = "vsphere",
  .match = vsphere_uri_p,
  .size = vsphere_uri_size,
  .open = vsphere_job_open_source,
  .end_cycle = vsphere_job_end_cycle,
};
REPLICATE_SOURCE (vsphere_source);
