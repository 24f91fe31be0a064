/* The job's blobs: open or create each disk's page blob, check that it
 * is the job's (azprep never overwrites a blob it did not create), and
 * hold its lease while writing.  A managed disk's upload URL is only
 * checked: it exists with the right size.
 */
#include <inttypes.h>
#include <string.h>

#include "prep/common/common.h"
#include "replicate/azure/vhd.h"
#include "replicate/engine/internal.h"
#include "replicate/engine/state.h"

/* Nothing was ever written for this disk: the run that saved the
 * journal stopped before (or while) creating or checking its blob. */
static bool
untouched (const struct jdisk *jd)
{
  return jd->cycles == 0 && jd->bytes_sent == 0 && !jd->open &&
    !(jd->snapshots && jd->snapshots[0]);
}

/* A managed disk's blob: it must exist with the disk's size.  On a new
 * job, zero blocks are skipped only where the target holds no pages.
 * 0, -1 or -2 (refused).
 */
static int
check_managed (struct rdisk *d, const struct blob_props *p, bool fresh)
{
  struct jdisk *jd = d->jd;
  struct rangelist rl = { 0 };

  if (!p->exists) {
    azp_error ("%s: the managed disk's blob does not exist (is the upload "
               "URL "
               "still valid?)", blob_name (d->blob));
    return -1;
  }
  if (p->size != jd->size + VHD_FOOTER_SIZE) {
    azp_error ("%s: the target is %" PRIu64 " bytes but the disk needs "
               "%" PRIu64 " (virtual size + 512): create the managed disk "
               "with --upload-size-bytes %" PRIu64, blob_name (d->blob),
               p->size, jd->size + VHD_FOOTER_SIZE,
               jd->size + VHD_FOOTER_SIZE);
    return -2;
  }
  if (!fresh)
    return 0;
  if (blob_get_page_ranges (d->blob, NULL, 0, 0, &rl) == -1) {
    azp_warning ("%s: cannot list its pages: zeros will be written too",
                 blob_name (d->blob));
    rangelist_add (&rl, 0, jd->size);
  }
  for (size_t k = 0; k < rl.n; k++)
    for (uint64_t b = rl.r[k].start / MANIFEST_BLOCK;
         b * MANIFEST_BLOCK < rl.r[k].end && b * MANIFEST_BLOCK < jd->size;
         b++)
      manifest_set_unknown (d->man, b);
  rangelist_free (&rl);
  return 0;
}

/* An existing blob must carry the job's name and the disk's index in
 * its metadata, and have the disk's size.  0, -1 or -2 (refused).
 */
static int
check_existing (const struct job *job, struct rdisk *d,
                const struct blob_props *p, const char *idx, bool fresh)
{
  const char *job_meta = blob_props_meta (p, "azprep_job");
  const char *disk_meta = blob_props_meta (p, "azprep_disk");
  const char *id_meta = blob_props_meta (p, "azprep_id");

  /* azprep_id (the job's lease id) tells this job from another of the
   * same name; blobs of older versions carry no id. */
  if (!job_meta || strcmp (job_meta, job->j.name) || !disk_meta ||
      strcmp (disk_meta, idx) || fresh ||
      (id_meta && (!d->jd->lease || strcmp (id_meta, d->jd->lease)))) {
    azp_error ("%s: the blob exists and was not created by this azprep job "
               "(%s): azprep never overwrites a blob; choose another "
               "--name%s",
               blob_name (d->blob), job->j.name,
               job_meta && fresh ? ", or restore the job's state directory"
               : "");
    return -2;
  }
  if (p->size != d->jd->size + VHD_FOOTER_SIZE) {
    azp_error ("%s: the blob is %" PRIu64 " bytes, expected %" PRIu64,
               blob_name (d->blob), p->size, d->jd->size + VHD_FOOTER_SIZE);
    return -1;
  }
  return 0;
}

/* Create the blob of a new job, with the job's metadata.  0, -1 or -2
 * (someone created it meanwhile).
 */
static int
create_blob (const struct job *job, struct rdisk *d, const char *idx,
             bool fresh)
{
  CLEANUP_FREE char *m0 = xasprintf ("azprep_job=%s", job->j.name);
  CLEANUP_FREE char *m1 = xasprintf ("azprep_disk=%s", idx);
  CLEANUP_FREE char *m2 = xasprintf ("virtsize=%" PRIu64, d->jd->size);
  CLEANUP_FREE char *m3 = xasprintf ("azprep_id=%s", d->jd->lease);
  const char *meta[] = { m0, m1, m2, m3, "state=initial", "cycle=0", NULL };
  const struct jdisk *jd = d->jd;

  if (!m0 || !m1 || !m2 || !m3)
    return -1;
  if (!fresh && !untouched (jd)) {
    azp_error ("%s: the blob of this job is gone (deleted?): move the "
               "journal "
               "%s away to start over", blob_name (d->blob), job->j.path);
    return -1;
  }
  if (blob_create_page_blob (d->blob, d->jd->size + VHD_FOOTER_SIZE,
                             meta) == -1)
    return strcmp (blob_error_code (), "BlobAlreadyExists") ? -1 : -2;
  return 0;
}

/* Hold the lease while writing.  Local state: the same id across runs,
 * so a run after a crash carries on under its own lease.  A state
 * container: this worker's own id; the job's lock is ours, so a lease
 * still held is a stale worker's: it is broken (the fence: that worker's
 * next write gets 412).  0, -1 or -2 (leased by someone else).
 */
static int
take_lease (struct job *job, struct rdisk *d)
{
  CLEANUP_FREE char *got = NULL;
  const char *mine = state_lease_id (job->state);

  if (mine) {
    int r = blob_lease_try (d->blob, mine, -1);
    if (r == -1 && !strcmp (blob_error_code (), "LeaseAlreadyPresent")) {
      azp_info ("%s: taking the job over: breaking the lease of the worker "
                "that wrote it last", blob_name (d->blob));
      if (blob_lease_break_now (d->blob) == -1)
        return -1;
      r = blob_lease_try (d->blob, mine, -1);
    }
    return r == 0 ? blob_set_lease_id (d->blob, mine) : -1;
  }
  if (blob_lease_acquire (d->blob, d->jd->lease, -1, &got) != -1)
    return 0;
  if (strcmp (blob_error_code (), "LeaseAlreadyPresent") != 0)
    return -1;
  /* Already leased: ours if a renewal with our id works. */
  blob_set_lease_id (d->blob, d->jd->lease);
  return blob_lease_renew (d->blob) == -1 ? -2 : 0;
}

/* Open or create the blob of disk i; check it is ours.  0, -1 or -2. */
static int
setup_blob (struct job *job, size_t i, const struct replicate_opts *o,
            bool fresh)
{
  struct rdisk *d = &job->disks[i];
  struct jdisk *jd = d->jd;
  struct blob_props p;
  char idx[32];
  int r;

  if (jd->managed) {
    if (!o->to || o->nto != job->j.ndisks) {
      azp_error ("%s: a managed-disk target needs its SAS URL again: give --to "
                 "once per disk", jd->blob);
      return -1;
    }
    d->blob = blob_open_url (job->client, o->to[i]);
    if (d->blob)
      blob_set_content_md5 (d->blob, false);
  }
  else
    d->blob = blob_open_url (job->client, jd->blob);
  if (!d->blob || blob_get_properties (d->blob, NULL, &p) == -1)
    return -1;
  snprintf (idx, sizeof idx, "%zu", i);

  if (jd->managed)
    r = check_managed (d, &p, fresh || untouched (jd));
  else if (p.exists)
    r = check_existing (job, d, &p, idx, fresh);
  else
    r = create_blob (job, d, idx, fresh);
  if (r == 0 && !jd->managed)
    r = take_lease (job, d);
  blob_props_free (&p);
  return r;
}

int
job_open_disks (struct job *job, const struct replicate_opts *o, bool fresh)
{
  job->disks = calloc (job->j.ndisks, sizeof *job->disks);
  if (!job->disks)
    return -1;
  for (size_t i = 0; i < job->j.ndisks; i++) {
    int r;

    job->disks[i].jd = &job->j.disks[i];
    if (rdisk_open_manifest (job, &job->disks[i]) == -1)
      return -1;
    r = setup_blob (job, i, o, fresh);
    if (r < 0)
      return r;
    if (rdisk_open_source (job, &job->disks[i]) == -1)
      return -1;
  }
  return 0;
}

/* Recovery points by metadata.  Each snapshot azprep takes carries
 * azprep_point=CYCLE with the job's name, disk index and azprep_id (the
 * job's lease id).  The base blob never carries azprep_point, so a
 * snapshot someone else took (which copies the base blob's metadata)
 * is never taken for one of the job's points.
 */

/* The snapshots of disk i's blob.  0, -1 or -2 (not allowed). */
static int
list_points (struct job *job, size_t i, struct blob_list *out)
{
  const char *url = job->disks[i].jd->blob;
  const char *slash = strrchr (url, '/');
  CLEANUP_FREE char *cu = slash ? strndup (url, slash - url) : NULL;
  struct blob *c;
  int r;

  memset (out, 0, sizeof *out);
  if (!cu)
    return -1;
  c = blob_open_url (job->client, cu);
  if (!c)
    return -1;
  r = blob_list_snapshots (c, slash + 1, out);
  blob_close (c);
  return r;
}

/* Is it a point of this job's disk i (of any cycle if cycle is NULL)? */
static bool
ours (const struct job *job, size_t i, const struct blob_item *it,
      const char *cycle)
{
  const struct jdisk *jd = job->disks[i].jd;
  const char *point = blob_meta_get (it->metadata, "azprep_point");
  const char *id = blob_meta_get (it->metadata, "azprep_id");
  const char *name = blob_meta_get (it->metadata, "azprep_job");
  const char *disk = blob_meta_get (it->metadata, "azprep_disk");
  char idx[32];

  snprintf (idx, sizeof idx, "%zu", i);
  return it->snapshot && point && id && name && disk && jd->lease &&
    !strcmp (id, jd->lease) && !strcmp (name, job->j.name) &&
    !strcmp (disk, idx) && (!cycle || !strcmp (point, cycle));
}

static bool
listed (const struct jdisk *jd, const char *snap)
{
  for (size_t k = 0; jd->snapshots && jd->snapshots[k]; k++)
    if (!strcmp (jd->snapshots[k], snap))
      return true;
  return false;
}

int
points_find (struct job *job, size_t i, int64_t cycle, char **snap)
{
  CLEANUP_FREE char *cs = xasprintf ("%" PRId64, cycle);
  struct blob_list l;
  const char *best = NULL;
  int r;

  *snap = NULL;
  if (!cs || !job->disks[i].jd->lease)
    return -1;
  r = list_points (job, i, &l);
  if (r == -2)
    azp_error ("%s: cannot list the blob's snapshots (HTTP 403: does the "
               "SAS allow list?) to look for the one the lost request took",
               blob_name (job->disks[i].blob));
  if (r < 0)
    return -1;
  /* Snapshot times sort as text; the newest wins if requests were
   * retried (the others are orphans, pruned with points_prune). */
  for (size_t k = 0; k < l.n; k++)
    if (ours (job, i, &l.items[k], cs) &&
        !listed (job->disks[i].jd, l.items[k].snapshot) &&
        (!best || strcmp (l.items[k].snapshot, best) > 0))
      best = l.items[k].snapshot;
  r = best ? ((*snap = xstrdup (best)) ? 1 : -1) : 0;
  blob_list_free (&l);
  return r;
}

void
points_prune (struct job *job, size_t i)
{
  static bool warned;
  struct jdisk *jd = job->disks[i].jd;
  struct blob_list l;
  int r;

  if (!jd->lease)
    return;
  r = list_points (job, i, &l);
  if (r < 0) {
    if (!warned)
      azp_warning ("%s: cannot list the blob's snapshots%s: snapshots of "
                   "this job that the journal does not list (after lost "
                   "replies) are not deleted", blob_name (job->disks[i].blob),
                   r == -2 ? " (HTTP 403: the SAS does not allow list)" : "");
    warned = true;
    return;
  }
  for (size_t k = 0; k < l.n; k++) {
    const struct blob_item *it = &l.items[k];
    if (!ours (job, i, it, NULL) || listed (jd, it->snapshot))
      continue;
    azp_info ("%s: deleting snapshot %s (cycle %s) of this job, which no "
              "journal lists (its reply was lost)",
              blob_name (job->disks[i].blob), it->snapshot,
              blob_meta_get (it->metadata, "azprep_point"));
    blob_delete (job->disks[i].blob, it->snapshot, false);
  }
  blob_list_free (&l);
}
