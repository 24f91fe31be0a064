/* A replication run: open or create the job, then the cycle loop (a
 * cycle, its recovery point, the wait before the next) until the
 * cycles asked for are done or a signal stops it.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/azure/auth.h"
#include "replicate/azure/vhd.h"
#include "replicate/engine/internal.h"
#include "replicate/engine/state.h"

/* Keep the last keep recovery points of each disk, and none that the
 * journal does not list. */
static void
prune_points (struct job *job, int64_t keep)
{
  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct jdisk *jd = job->disks[i].jd;
    if (!jd->managed)
      points_prune (job, i);
    while (count_strings (jd->snapshots) > (size_t) keep) {
      if (blob_delete (job->disks[i].blob, jd->snapshots[0], false) == -1)
        break;
      free (jd->snapshots[0]);
      memmove (jd->snapshots, jd->snapshots + 1,
               count_strings (jd->snapshots) * sizeof (char *));
    }
  }
}

/* Snapshot disk i's blob (the recovery point), label the blob with the
 * cycle, record the snapshot in the journal.  The snapshot's metadata
 * names the job, the disk and the cycle (azprep_point, never on the
 * base blob): when the reply is lost, the snapshot the request took is
 * found by it and becomes the point (it was taken after every write of
 * the cycle had landed).  0 or -1.
 */
static int
take_point (struct job *job, size_t i)
{
  struct rdisk *d = &job->disks[i];
  struct jdisk *jd = d->jd;
  CLEANUP_FREE char *snap = NULL;
  CLEANUP_FREE char *m0 = xasprintf ("azprep_job=%s", job->j.name);
  CLEANUP_FREE char *m1 = xasprintf ("azprep_disk=%zu", i);
  CLEANUP_FREE char *m2 = xasprintf ("virtsize=%" PRIu64, jd->size);
  CLEANUP_FREE char *m3 = xasprintf ("cycle=%" PRId64, jd->cycles + 1);
  CLEANUP_FREE char *m4 = xasprintf ("azprep_id=%s",
                                     jd->lease ? jd->lease : "none");
  CLEANUP_FREE char *m5 = xasprintf ("azprep_point=%" PRId64, jd->cycles + 1);
  CLEANUP_FREE char *m6 = NULL;
  const char *meta[] = { m0, m1, m2, m3, "state=delta", m4, m5, NULL };
  size_t n;
  char **nl;

  if (!m0 || !m1 || !m2 || !m3 || !m4 || !m5)
    return -1;
  if (blob_snapshot (d->blob, meta, &snap) == -1) {
    if (points_find (job, i, jd->cycles + 1, &snap) != 1)
      return -1;
    azp_warning ("%s: no reply to Snapshot Blob, but the blob has the "
                 "snapshot %s that this job took for cycle %" PRId64
                 " (its reply was lost): it is the recovery point",
                 blob_name (d->blob), snap, jd->cycles + 1);
  }
  /* The base blob's labels: no azprep_point, and the last snapshot. */
  m6 = xasprintf ("snap=%s", snap);
  meta[6] = m6;
  if (!m6 || blob_set_metadata (d->blob, meta) == -1)
    return -1;
  n = count_strings (jd->snapshots);
  nl = realloc (jd->snapshots, (n + 2) * sizeof *nl);
  if (!nl)
    return -1;
  jd->snapshots = nl;
  nl[n] = snap;
  nl[n + 1] = NULL;
  snap = NULL;
  return 0;
}

/* Write the footer (first cycle), snapshot, record the cycle. */
static int
finish_cycle (struct job *job, const struct replicate_opts *o, double seconds)
{
  time_t now = time (NULL);
  uint64_t t0 = monotonic_ns (), tb = 0;    /* -v: where the time goes */
  int r;

  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct rdisk *d = &job->disks[i];
    struct jdisk *jd = d->jd;
    unsigned char f[VHD_FOOTER_SIZE];
    uint64_t tb0 = monotonic_ns ();

    if (jd->cycles == 0) {
      vhd_footer (f, jd->size, now, jd->uuid);
      if (blob_put_page (d->blob, jd->size, f, sizeof f) == -1)
        return -1;
    }
    if (!jd->managed && take_point (job, i) == -1)
      return -1;
    tb += monotonic_ns () - tb0;
    jd->cycles++;
    jd->open = false;
    /* The CBT chain advances with the recovery point. */
    if (jd->cycle_change_id) {
      free (jd->change_id);
      jd->change_id = jd->cycle_change_id;
      jd->cycle_change_id = NULL;
    }
    rangelist_free (&jd->done);
    free (jd->state);
    jd->state = xstrdup ("idle");
    free (jd->error);
    jd->error = NULL;
    jd->cycle_seconds = seconds;
    jd->last_end = now;
    if (manifest_sync (d->man) == -1)
      return -1;
  }
  if (journal_save (&job->j) == -1)
    return -1;
  prune_points (job, o->keep);
  r = journal_save (&job->j);
  azp_debug ("recovery point: footer, Snapshot Blob and metadata %.2f s; "
             "manifest, journal and pruning %.2f s", tb / 1e9,
             (monotonic_ns () - t0 - tb) / 1e9);
  return r;
}

/* The state container's requests and bytes during the last cycle (a
 * fleet's cost of keeping its state in the account). */
static void
report_state_cost (struct job *job)
{
  uint64_t rq, by;

  if (!state_remote (job->state))
    return;
  state_counters (job->state, &rq, &by);
  if (job->json)
    printf ("{\"event\":\"state\",\"container\":\"%s\",\"requests\":%"
            PRIu64 ",\"bytes_sent\":%" PRIu64 "}\n", state_where (job->state),
            rq - job->state_requests, by - job->state_bytes);
  else
    azp_debug ("state container %s: %" PRIu64 " requests, %" PRIu64
               " bytes sent this cycle", state_where (job->state),
               rq - job->state_requests, by - job->state_bytes);
  job->state_requests = rq;
  job->state_bytes = by;
}

static void
report_cycle (struct job *job, bool initial, double seconds)
{
  report_state_cost (job);
  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct jdisk *jd = job->disks[i].jd;
    size_t ns = count_strings (jd->snapshots);
    const char *rp = ns ? jd->snapshots[ns - 1] : "";
    if (job->json)
      printf ("{\"event\":\"cycle\",\"disk\":%zu,\"kind\":\"%s\",\"cycle\":%"
              PRId64 ",\"bytes_sent\":%" PRIu64 ",\"seconds\":%.1f,"
              "\"recovery_point\":\"%s\"}\n", i,
              initial ? "initial" : "delta", jd->cycles, jd->cycle_bytes,
              seconds, rp);
    else {
      char s[32];
      azp_info ("%s: cycle %" PRId64 " (%s) done: %s sent in %.1f s%s%s",
                jd->source, jd->cycles, initial ? "initial" : "delta",
                human_size (jd->cycle_bytes, s), seconds,
                *rp ? ", recovery point " : "", rp);
    }
  }
  fflush (stdout);
}

/* Record in each disk's journal entry why the cycle did not finish. */
static void
record_unfinished (struct job *job, bool stopped)
{
  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct jdisk *jd = job->disks[i].jd;
    if (!stopped) {
      free (jd->state);
      jd->state = xstrdup ("failed");
    }
    free (jd->error);
    if (stopped)
      jd->error = xasprintf ("cycle %" PRId64 " stopped by %s; the next run "
                             "resumes it", jd->cycles + 1,
                             strsignal (*job->stop));
    else
      jd->error = xasprintf ("cycle %" PRId64 " failed (see the messages "
                             "above); the next run resends what is missing",
                             jd->cycles + 1);
  }
}

/* One cycle: 0 done, 1 stopped by a signal, -1 failed. */
static int
run_cycle (struct job *job, const struct replicate_opts *o, double *seconds,
           bool *was_initial)
{
  struct timespec t0, t1;
  bool initial = job->j.disks[0].cycles == 0;
  int r = 0;

  clock_gettime (CLOCK_MONOTONIC, &t0);
  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct jdisk *jd = job->disks[i].jd;
    if (!jd->open) {
      jd->open = true;
      jd->cycle_bytes = 0;
      rangelist_free (&jd->done);
    }
    free (jd->state);
    jd->state = xstrdup (jd->cycles == 0 ? "initial" : "delta");
  }
  job->j.next_cycle = 0;
  if (journal_save (&job->j) == -1)
    return -1;
  for (size_t i = 0; i < job->j.ndisks && r == 0; i++)
    r = cycle_copy_disk (job, i, job->disks[i].jd->cycles == 0);
  clock_gettime (CLOCK_MONOTONIC, &t1);
  *seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  *was_initial = initial;
  if (r == 1) {
    /* Stopped by a signal: the cycle stays open (the journal and the
     * manifest record what landed); the last recovery point is intact.
     */
    record_unfinished (job, true);
    if (journal_save (&job->j) == -1)
      return -1;
    return 1;
  }
  if (r == 0)
    r = finish_cycle (job, o, *seconds);
  if (r == -1) {
    record_unfinished (job, false);
    journal_save (&job->j);
    return -1;
  }
  report_cycle (job, initial, *seconds);
  return 0;
}

/* Record and announce when the next cycle is due. */
static int
announce_wait (struct job *job, double wait, const char *rule)
{
  time_t at = time (NULL) + (time_t) wait;
  struct tm tm;
  char when[32];

  job->j.next_cycle = at;
  if (journal_save (&job->j) == -1)
    return -1;
  gmtime_r (&at, &tm);
  strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (job->json)
    printf ("{\"event\":\"wait\",\"seconds\":%.0f,\"next_cycle\":%lld,"
            "\"at\":\"%s\",\"rule\":\"%s\"}\n", wait, (long long) at, when,
            rule);
  else if (wait > 0)
    azp_info ("next cycle in %.0f s, at %s (%s)", wait, when, rule);
  else
    azp_info ("next cycle now (%s)", rule);
  fflush (stdout);
  return 0;
}

/* Between two cycles: close the sources, wait, open them again.  The
 * sources stay closed while waiting (a qcow2 image is then not locked);
 * they may have changed size by the next cycle.  0, 1 stopped, -1 error.
 */
static int
wait_next (struct job *job, const struct replicate_opts *o, double secs,
           bool initial)
{
  double wait;
  const char *rule;

  for (size_t i = 0; i < job->j.ndisks; i++) {
    source_close (job->disks[i].src);
    job->disks[i].src = NULL;
  }
  if (o->interval >= 0) {
    wait = o->interval;
    rule = "interval";
  }
  else {
    wait = replicate_next_wait (secs, initial);
    rule = initial ? "first delta right after the initial copy"
      : "half the last cycle, 1 h to 12 h";
  }
  if (announce_wait (job, wait, rule) == -1)
    return -1;
  stopper_wait (wait);
  if (*job->stop)
    return 1;
  job->j.next_cycle = 0;
  if (journal_save (&job->j) == -1)
    return -1;
  for (size_t i = 0; i < job->j.ndisks; i++)
    if (rdisk_open_source (job, &job->disks[i]) == -1)
      return -1;
  return 0;
}

/* The cycle loop: 0 done (or stopped between cycles), 1 stopped during
 * a cycle, -1 error.
 */
static int
run_cycles (struct job *job, const struct replicate_opts *o)
{
  int64_t done_cycles = 0;

  while (!*job->stop) {
    double secs = 0;
    bool initial;
    int r = run_cycle (job, o, &secs, &initial);

    /* vsphere:// disks: remove the cycle's snapshot now, not after the
     * wait. */
    if (job_end_cycle (job) == -1 && r == 0 && !o->continuous)
      return -1;
    if (r == 1)
      return 1;
    if (r == -1) {
      if (!o->continuous)
        return -1;
      azp_warning ("the cycle failed; the next one resends what is missing");
      initial = false;
    }
    done_cycles++;
    if (*job->stop || (!o->continuous && done_cycles >= o->cycles))
      break;
    r = wait_next (job, o, secs, initial);
    if (r == -1)
      return -1;
  }
  return 0;
}

static void
report_stop (const struct job *job, bool in_cycle)
{
  if (job->json)
    printf ("{\"event\":\"stopped\",\"signal\":\"%s\","
            "\"in_cycle\":%s}\n", sigabbrev_np (*job->stop),
            in_cycle ? "true" : "false");
  if (in_cycle)
    azp_info ("stopped during a cycle: run the same command to resume it");
  else
    azp_info ("stopped between cycles");
  fflush (stdout);
}

/* A managed disk's upload ends with revoke-access, which azprep cannot
 * do (it has the SAS, not the disk's resource): say so where the
 * upload ends.
 */
static void
report_managed_upload (const struct job *job)
{
  for (size_t i = 0; i < job->j.ndisks; i++) {
    if (!job->j.disks[i].managed)
      continue;
    if (job->json)
      printf ("{\"event\":\"managed-upload\",\"disk\":%zu,\"next\":"
              "\"az disk revoke-access\"}\n", i);
    azp_info ("disk %zu: the data is in the managed disk, still in upload "
              "state.  When replication is over (no more deltas), end the "
              "upload with 'az disk revoke-access --name DISK "
              "--resource-group GROUP': until then the disk cannot be "
              "attached or snapshotted, after it no delta can be written",
              i);
  }
  fflush (stdout);
}

/* The container URL the blobs go in ("" for blob URL targets), without
 * a trailing slash; NULL on error.
 */
static char *
target_container_url (const struct replicate_opts *o, const struct creds *cr)
{
  char *url;

  if (o->container) {
    if (!cr->endpoint) {
      azp_error ("--container needs a storage account: set "
                 "AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT "
                 "and "
                 "AZURE_STORAGE_KEY) or use --credentials FILE");
      return NULL;
    }
    url = xasprintf ("%s/%s", cr->endpoint, o->container);
  }
  else if (!replicate_url_is_blob (o->to[0])) {
    url = xstrdup (o->to[0]);
    if (url && strchr (url, '?')) {
      azp_error ("--to: a container URL must not carry a SAS here; give the "
                 "SAS "
                 "with AZURE_STORAGE_SAS_TOKEN or --credentials");
      free (url);
      return NULL;
    }
  }
  else
    url = xstrdup ("");
  while (url && *url && url[strlen (url) - 1] == '/')
    url[strlen (url) - 1] = '\0';
  return url;
}

/* The container may exist already; creating it needs the key. */
static int
create_container (struct job *job, const struct replicate_opts *o,
                  const struct creds *cr, const char *container_url)
{
  struct blob *probe = blob_open_url (job->client, container_url);

  if (!probe)
    return -1;
  blob_close (probe);
  if (!cr->sas && blob_container_create (job->client, o->container) == -1)
    return -1;
  return 0;
}

/* Take the job's lock, load or create its journal, open its disks.  0,
 * -1 or -2 (refused).
 */
static int
job_open (struct job *job, const struct replicate_opts *o,
          const struct creds *cr)
{
  struct blob_opts bo = { .cacert = o->cacert, .allow_http = o->allow_http,
                          .stop = job->stop,
                          .fence = state_fence (job->state) };
  CLEANUP_FREE char *container_url = NULL;
  bool exists;
  int r;

  job->parallel = o->parallel;
  job->json = o->json;
  job->tty = !o->json && isatty (2);
  job->use_bitmap = true;
  job->enable_cbt = o->enable_cbt;
  job->client = blob_client_new (cr, &bo);
  if (!job->client)
    return -1;
  container_url = target_container_url (o, cr);
  if (!container_url)
    return -1;
  r = state_lock (job->state, o->name, "replicate", false);
  if (r < 0)
    return r;
  if (state_journal_load (job->state, o->name, &job->j, &exists) == -1)
    return -1;
  if (!exists ? job_create (job, o, container_url) == -1
      : job_check_disks (job, o) == -1)
    return -1;
  if (state_remote (job->state) && job_note_host (job) == -1)
    return -1;
  if (!exists && o->container &&
      create_container (job, o, cr, container_url) == -1)
    return -1;
  /* The intent first: a run that dies after creating a blob (or whose
   * reply to Create is lost) leaves a journal that knows the blob is
   * this job's, so the next run carries on instead of refusing it. */
  if (!exists && journal_save (&job->j) == -1)
    return -1;
  r = job_open_disks (job, o, !exists);
  if (r < 0)
    return r;
  return journal_save (&job->j);
}

int
replicate_job_run (const struct replicate_opts *o)
{
  struct job job = { 0 };
  CLEANUP_CREDS struct creds cr = { 0 };
  struct stopper stopper = { 0 };
  struct state *st = NULL;
  int r = -1;

  if (creds_load (&cr, o->credentials) == -1)
    goto out;
  job.stop = stopper_start (&stopper);
  if (!job.stop)
    goto out;
  {
    struct state_opts so = { .dir = o->state,
                             .container = o->state_container,
                             .wait_lock = o->wait_lock, .stop = job.stop };
    struct blob_opts bo = { .cacert = o->cacert,
                            .allow_http = o->allow_http, .stop = job.stop };
    st = state_open (&so, &cr, &bo);
  }
  if (!st)
    goto out;
  job.state = st;
  job.state_dir = xstrdup (st->dir);
  if (!job.state_dir)
    goto out;
  r = job_open (&job, o, &cr);
  if (r == 0)
    r = run_cycles (&job, o);
  if (r == 0 && !*job.stop)
    report_managed_upload (&job);
  if (r >= 0 && *job.stop)
    report_stop (&job, r == 1);

  /* Leave the blobs unleased on a clean exit; after a failure keep the
   * lease so no one else writes a half-replicated disk.
   */
  if (r >= 0 && !*state_fence (st))
    for (size_t i = 0; job.disks && i < job.j.ndisks; i++)
      if (job.disks[i].blob && !job.j.disks[i].managed)
        blob_lease_release (job.disks[i].blob);
  if (job.j.next_cycle && !*state_fence (st)) {
    job.j.next_cycle = 0;       /* no process waits for it any more */
    journal_save (&job.j);
  }
 out:
  job_close (&job);
  if (st && *state_fence (st))
    r = -3;
  state_close (st);
  stopper_end (&stopper);
  return r;
}
