/* azprep replicate: copy a VM's disks to Azure page blobs (fixed VHD),
 * then send deltas; each completed cycle becomes a recovery point.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prep/azprep.h"
#include "replicate/engine/replicate.h"
#include "replicate/azure/vhd.h"
#include "replicate/vsphere/vsphere.h"

static const char usage[] =
  "Usage: azprep replicate [OPTIONS] --container NAME | --to URL DISK...\n"
  "Replicate a VM's disks to Azure Storage as fixed-VHD page blobs: an\n"
  "initial copy, then delta cycles sending only what changed.  Each\n"
  "completed cycle is a recovery point (a blob snapshot).  The disks are\n"
  "only read.  Run the same command again to resume after a failure.\n"
  "\n"
  "Target:\n"
  "  --container NAME  container in the storage account of the credentials\n"
  "                    (blobs NAME-disk0.vhd, NAME-disk1.vhd, ...)\n"
  "  --to URL          a container URL, or (once per disk) a blob URL with\n"
  "                    a SAS, e.g. a managed disk's upload URL: the blob\n"
  "                    must exist; only Put Page is used there\n"
  "  --name NAME       job name and blob prefix (default: first disk's name)\n"
  "Source:\n"
  "  --format FMT      format of the disks that follow (raw, qcow2, vmdk,\n"
  "                    vpc, vhdx); detected when not given.  A DISK may\n"
  "                    also be an NBD URI (nbd://, nbd+unix://...)\n"
  "  --bitmap NAME     qcow2 persistent dirty bitmap to find deltas with (it\n"
  "                    must exist from the initial copy on); default: the\n"
  "                    image's only bitmap if it has exactly one\n"
  "Cycles:\n"
  "  --cycles N        run N cycles (default 1: the initial copy, or one\n"
  "                    delta when it is done)\n"
  "  --continuous      run cycles until stopped (SIGINT, SIGTERM)\n"
  "  --interval SECS   wait between delta cycles (default: Azure Migrate's\n"
  "                    rule, half the last cycle's duration, 1 h to 12 h;\n"
  "                    the first delta right after the initial copy)\n"
  "  --keep N          recovery points to keep (default 3)\n"
  "Transfer:\n"
  "  --parallel N      requests in flight per disk (default 8)\n"
  "  --cacert FILE     CA certificates to verify the endpoint with\n"
  "  --allow-http      allow plain HTTP to a host that is not loopback\n"
  "  --credentials FILE  connection string, or AZURE_STORAGE_* lines\n"
  "                    (default: the AZURE_STORAGE_* environment variables)\n"
  "  --state DIR       journal directory (default ~/.local/state/azprep)\n"
  "  --json            progress and results as JSON lines on stdout\n"
  "  -v, --verbose     debug messages\n"
  "  --help            this text\n"
  "\n"
  "Credentials are never taken from the command line.  SIGINT or SIGTERM\n"
  "stops cleanly: writes in flight finish, the journal records them, leases\n"
  "are released; a cycle cut short resumes with the same command.\n"
  "Exit: 0 done (or stopped between cycles), 1 error (or stopped during a\n"
  "cycle), 2 usage, 3 refused (blob not created by azprep).\n";

enum {
  OPT_CONTAINER = OPT_FIRST_COMMAND_SPECIFIC, OPT_TO, OPT_NAME, OPT_PARALLEL,
  OPT_CYCLES, OPT_CONTINUOUS, OPT_INTERVAL, OPT_KEEP, OPT_STATE, OPT_CACERT,
  OPT_ALLOW_HTTP, OPT_CREDENTIALS, OPT_BITMAP,
};

struct args {
  struct common_opts o;
  const char *container, *name, *state, *cacert, *credentials, *bitmap;
  char **to;              /* --to URLs */
  size_t nto;
  char **disks, **formats;
  size_t ndisks;
  int64_t parallel, cycles, interval, keep;
  bool continuous, allow_http;
};

/* SIGINT and SIGTERM stop the job cleanly.  They are blocked in every
 * thread (so that no system call in libcurl or libnbd is interrupted)
 * and taken by one thread, which sets the flag the cycle loop checks;
 * a second signal kills at once.  The flag is process-wide because
 * signals are.
 */
static volatile sig_atomic_t stop_requested;

/* Children (qemu-nbd, nbdkit, qemu-img) get the mask azprep had, plus
 * SIGINT blocked: a Ctrl-C on the terminal reaches the whole process
 * group, and the source servers must keep serving until azprep has
 * stopped cleanly and closes them (with SIGTERM, left deliverable).
 */
static sigset_t child_mask;
static volatile sig_atomic_t stopper_active;

static void
stopper_atfork_child (void)
{
  if (stopper_active)
    pthread_sigmask (SIG_SETMASK, &child_mask, NULL);
}

static void
stopper_atfork_register (void)
{
  pthread_atfork (NULL, NULL, stopper_atfork_child);
}

struct stopper {
  sigset_t set, old;
  pthread_t thread;
  bool running;
};

static void *
stop_thread (void *arg)
{
  struct stopper *st = arg;
  int sig;

  if (sigwait (&st->set, &sig) != 0)
    return NULL;
  stop_requested = sig;
  azp_info ("%s: stopping after the writes in flight (the journal records "
            "them; send it again to stop at once)", strsignal (sig));
  if (sigwait (&st->set, &sig) != 0)
    return NULL;
  signal (sig, SIG_DFL);
  pthread_sigmask (SIG_UNBLOCK, &st->set, NULL);
  raise (sig);
  return NULL;
}

/* Before any other thread starts (they inherit the mask). */
static int
stopper_start (struct stopper *st)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  int e;

  pthread_once (&once, stopper_atfork_register);
  sigemptyset (&st->set);
  sigaddset (&st->set, SIGINT);
  sigaddset (&st->set, SIGTERM);
  pthread_sigmask (SIG_BLOCK, &st->set, &st->old);
  child_mask = st->old;
  sigaddset (&child_mask, SIGINT);
  sigdelset (&child_mask, SIGTERM);
  e = pthread_create (&st->thread, NULL, stop_thread, st);
  if (e) {
    errno = e;
    azp_error ("pthread_create: %m");
    pthread_sigmask (SIG_SETMASK, &st->old, NULL);
    return -1;
  }
  stopper_active = 1;
  st->running = true;
  return 0;
}

static void
stopper_end (struct stopper *st)
{
  if (!st->running)
    return;
  stopper_active = 0;
  pthread_cancel (st->thread);
  pthread_join (st->thread, NULL);
  pthread_sigmask (SIG_SETMASK, &st->old, NULL);
  st->running = false;
}

static bool
url_is_blob (const char *url)
{
  const char *q = strchr (url, '?');
  size_t plen = q ? (size_t) (q - url) : strlen (url);
  return (q && (strstr (q, "sr=b&") || strstr (q, "&sr=b") ||
                strstr (q, "?sr=b"))) ||
    (plen > 4 && strncasecmp (url + plen - 4, ".vhd", 4) == 0);
}

static int
random_uuid (unsigned char u[16], char *str /* [37] or NULL */)
{
  if (getrandom (u, 16, 0) != 16) {
    azp_error ("getrandom: %m");
    return -1;
  }
  u[6] = (u[6] & 0x0f) | 0x40;
  u[8] = (u[8] & 0x3f) | 0x80;
  if (str)
    snprintf (str, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
              "%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
              u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
              u[15]);
  return 0;
}

/* The default job name: the first disk's file name without extension. */
static char *
default_name (const char *disk)
{
  const char *b = strrchr (disk, '/');
  char *n = xstrdup (b ? b + 1 : disk), *dot;
  if (!n)
    return NULL;
  dot = strchr (n, '.');
  if (dot && dot != n)
    *dot = '\0';
  for (char *p = n; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
      *p = '-';
  return n;
}

static bool
valid_name (const char *n)
{
  if (!*n || strlen (n) > 200 || *n == '.' || *n == '-')
    return false;
  for (; *n; n++)
    if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
          (*n >= '0' && *n <= '9') || *n == '-' || *n == '_' || *n == '.'))
      return false;
  return true;
}

/* Open or create the blob of disk i; check it is ours. */
static int
setup_blob (struct job *job, size_t i, const struct args *a, bool fresh)
{
  struct rdisk *d = &job->disks[i];
  struct jdisk *jd = d->jd;
  struct blob_props p;
  char idx[32], vs[32];
  int r = -1;

  if (jd->managed) {
    if (!a->to || a->nto != job->j.ndisks) {
      azp_error ("%s: a managed-disk target needs its SAS URL again: give --to "
                 "once per disk", jd->blob);
      return -1;
    }
    d->blob = blob_open_url (job->client, a->to[i]);
  }
  else
    d->blob = blob_open_url (job->client, jd->blob);
  if (!d->blob || blob_get_properties (d->blob, NULL, &p) == -1)
    return -1;
  snprintf (idx, sizeof idx, "%zu", i);
  snprintf (vs, sizeof vs, "%" PRIu64, jd->size);

  if (jd->managed) {
    if (!p.exists) {
      azp_error ("%s: the managed disk's blob does not exist (is the upload "
                 "URL "
                 "still valid?)", blob_name (d->blob));
      goto out;
    }
    if (p.size != jd->size + VHD_FOOTER_SIZE) {
      azp_error ("%s: the target is %" PRIu64 " bytes but the disk needs "
                 "%" PRIu64 " (virtual size + 512): create the managed disk "
                 "with --upload-size-bytes %" PRIu64, blob_name (d->blob),
                 p.size, jd->size + VHD_FOOTER_SIZE,
                 jd->size + VHD_FOOTER_SIZE);
      r = -2;
      goto out;
    }
    if (fresh) {
      /* Zero blocks are skipped only where the target holds no pages. */
      struct rangelist rl = { 0 };
      if (blob_get_page_ranges (d->blob, NULL, 0, 0, &rl) == -1) {
        azp_warning ("%s: cannot list its pages: zeros will be written too",
                     blob_name (d->blob));
        rangelist_add (&rl, 0, jd->size);
      }
      for (size_t k = 0; k < rl.n; k++)
        for (uint64_t b = rl.r[k].start / MANIFEST_BLOCK;
             b * MANIFEST_BLOCK < rl.r[k].end &&
               b * MANIFEST_BLOCK < jd->size; b++)
          manifest_set_unknown (d->man, b);
      rangelist_free (&rl);
    }
    r = 0;
    goto out;
  }

  if (p.exists) {
    const char *job_meta = blob_props_meta (&p, "azprep_job");
    const char *disk_meta = blob_props_meta (&p, "azprep_disk");
    if (!job_meta || strcmp (job_meta, job->j.name) || !disk_meta ||
        strcmp (disk_meta, idx) || fresh) {
      azp_error ("%s: the blob exists and was not created by this azprep job "
                 "(%s): azprep never overwrites a blob; choose another "
                 "--name%s",
                 blob_name (d->blob), job->j.name,
                 job_meta && fresh ? ", or restore the job's state directory"
                 : "");
      r = -2;
      goto out;
    }
    if (p.size != jd->size + VHD_FOOTER_SIZE) {
      azp_error ("%s: the blob is %" PRIu64 " bytes, expected %" PRIu64,
                 blob_name (d->blob), p.size, jd->size + VHD_FOOTER_SIZE);
      goto out;
    }
  }
  else {
    const char *meta[] = { "azprep_job=", "azprep_disk=", "virtsize=",
                           "state=initial", "cycle=0", NULL };
    CLEANUP_FREE char *m0 = xasprintf ("azprep_job=%s", job->j.name);
    CLEANUP_FREE char *m1 = xasprintf ("azprep_disk=%s", idx);
    CLEANUP_FREE char *m2 = xasprintf ("virtsize=%s", vs);
    if (!m0 || !m1 || !m2)
      goto out;
    meta[0] = m0;
    meta[1] = m1;
    meta[2] = m2;
    if (!fresh) {
      azp_error ("%s: the blob of this job is gone (deleted?): move the "
                 "journal "
                 "%s away to start over", blob_name (d->blob), job->j.path);
      goto out;
    }
    if (blob_create_page_blob (d->blob, jd->size + VHD_FOOTER_SIZE,
                               meta) == -1) {
      if (!strcmp (blob_error_code (), "BlobAlreadyExists"))
        r = -2;
      goto out;
    }
  }

  /* Hold the lease while writing (the same id across runs, so a run
   * after a crash carries on under its own lease).
   */
  {
    CLEANUP_FREE char *got = NULL;
    if (blob_lease_acquire (d->blob, jd->lease, -1, &got) == -1) {
      if (strcmp (blob_error_code (), "LeaseAlreadyPresent") != 0)
        goto out;
      /* Already leased: ours if a renewal with our id works. */
      blob_set_lease_id (d->blob, jd->lease);
      if (blob_lease_renew (d->blob) == -1) {
        r = -2;
        goto out;
      }
    }
  }
  r = 0;
 out:
  blob_props_free (&p);
  return r;
}

/* Create a new job's journal from the command line. */
static int
job_create (struct job *job, const struct args *a, const char *container_url)
{
  struct journal *j = &job->j;

  j->name = xstrdup (a->name);
  j->created = time (NULL);
  if (!j->name)
    return -1;
  for (size_t i = 0; i < a->ndisks; i++) {
    struct jdisk *jd = journal_add_disk (j);
    struct source *s;
    char lease[37];
    unsigned char lu[16];

    if (!jd)
      return -1;
    jd->source = xstrdup (a->disks[i]);
    jd->format = a->formats[i] ? xstrdup (a->formats[i]) : NULL;
    jd->state = xstrdup ("initial");
    jd->manifest = xasprintf ("%s-disk%zu.manifest", a->name, i);
    if (!jd->source || !jd->state || !jd->manifest ||
        random_uuid (jd->uuid, NULL) == -1 || random_uuid (lu, lease) == -1)
      return -1;
    jd->managed = a->nto > 0 && url_is_blob (a->to[0]);
    if (jd->managed) {
      if (a->nto != a->ndisks) {
        azp_error ("give --to once per disk when the targets are blob URLs");
        return -1;
      }
      jd->blob = redact_url (a->to[i]);
    }
    else {
      jd->lease = xstrdup (lease);
      jd->blob = xasprintf ("%s/%s-disk%zu.vhd", container_url, a->name, i);
      if (!jd->lease)
        return -1;
    }
    if (!jd->blob)
      return -1;

    /* The source's size decides V; its bitmaps decide delta tracking. */
    if (vsphere_uri_p (jd->source)) {
      int64_t vs;
      if (vsphere_uri_size (jd->source, &vs) == -1)
        return -1;
      jd->size = vhd_virtual_size (vs);
    }
    else {
      s = strstr (jd->source, "://") ? source_open_nbd (jd->source, NULL)
        : source_open_local (jd->source, jd->format, NULL);
      if (!s)
        return -1;
      jd->size = vhd_virtual_size (source_size (s));
      source_close (s);
    }
    if (jd->size + VHD_FOOTER_SIZE > VHD_MAX_PAGE_BLOB && !jd->managed) {
      azp_error ("%s: %" PRIu64 " bytes is over the page blob limit (8 TiB)",
                 jd->source, jd->size);
      return -1;
    }
    if (!strstr (jd->source, "://")) {
      CLEANUP_FREE_STRING_LIST char **bm = source_list_bitmaps (jd->source);
      if (a->bitmap) {
        bool found = false;
        for (size_t k = 0; bm && bm[k]; k++)
          found |= !strcmp (bm[k], a->bitmap);
        if (!found) {
          azp_error ("%s: no dirty bitmap named %s (qemu-img bitmap --add)",
                     jd->source, a->bitmap);
          return -1;
        }
        jd->bitmap = xstrdup (a->bitmap);
      }
      else if (bm && count_strings (bm) == 1)
        jd->bitmap = xstrdup (bm[0]);
    }
    else if (a->bitmap)
      jd->bitmap = xstrdup (a->bitmap);
  }
  return 0;
}

/* Check that the command line names the job's disks. */
static int
job_check_disks (struct job *job, const struct args *a)
{
  if (job->j.ndisks != a->ndisks) {
    azp_error ("journal %s: the job has %zu disks, %zu given (use another "
               "--name "
               "for another VM)", job->j.path, job->j.ndisks, a->ndisks);
    return -1;
  }
  for (size_t i = 0; i < a->ndisks; i++)
    if (strcmp (job->j.disks[i].source, a->disks[i]) != 0) {
      azp_error ("journal %s: disk %zu is %s, not %s", job->j.path, i,
                 job->j.disks[i].source, a->disks[i]);
      return -1;
    }
  return 0;
}

static void
job_close (struct job *job)
{
  vsphere_job_end_cycle (job);
  for (size_t i = 0; job->disks && i < job->j.ndisks; i++) {
    source_close (job->disks[i].src);
    blob_close (job->disks[i].blob);
    manifest_close (job->disks[i].man);
  }
  free (job->disks);
  blob_client_free (job->client);
  journal_free (&job->j);
  free (job->state_dir);
}

/* Write the footer (first cycle), snapshot, record the cycle. */
static int
finish_cycle (struct job *job, const struct args *a, double seconds)
{
  time_t now = time (NULL);

  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct rdisk *d = &job->disks[i];
    struct jdisk *jd = d->jd;
    unsigned char f[VHD_FOOTER_SIZE];

    if (jd->cycles == 0) {
      vhd_footer (f, jd->size, now, jd->uuid);
      if (blob_put_page (d->blob, jd->size, f, sizeof f) == -1)
        return -1;
    }
    if (!jd->managed) {
      CLEANUP_FREE char *snap = NULL;
      CLEANUP_FREE char *m0 = xasprintf ("azprep_job=%s", job->j.name);
      CLEANUP_FREE char *m1 = xasprintf ("azprep_disk=%zu", i);
      CLEANUP_FREE char *m2 = xasprintf ("virtsize=%" PRIu64, jd->size);
      CLEANUP_FREE char *m3 = xasprintf ("cycle=%" PRId64, jd->cycles + 1);
      CLEANUP_FREE char *m4 = NULL;
      const char *meta[] = { m0, m1, m2, m3, "state=delta", NULL, NULL };
      size_t n;
      char **nl;

      if (!m0 || !m1 || !m2 || !m3 ||
          blob_snapshot (d->blob, meta, &snap) == -1)
        return -1;
      m4 = xasprintf ("snap=%s", snap);
      meta[5] = m4;
      if (!m4 || blob_set_metadata (d->blob, meta) == -1)
        return -1;
      n = count_strings (jd->snapshots);
      nl = realloc (jd->snapshots, (n + 2) * sizeof *nl);
      if (!nl)
        return -1;
      jd->snapshots = nl;
      nl[n] = snap;
      nl[n + 1] = NULL;
      snap = NULL;
    }
    jd->cycles++;
    jd->open = false;
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

  /* Keep the last N recovery points. */
  for (size_t i = 0; i < job->j.ndisks; i++) {
    struct jdisk *jd = job->disks[i].jd;
    while (count_strings (jd->snapshots) > (size_t) a->keep) {
      if (blob_delete (job->disks[i].blob, jd->snapshots[0], false) == -1)
        break;
      free (jd->snapshots[0]);
      memmove (jd->snapshots, jd->snapshots + 1,
               count_strings (jd->snapshots) * sizeof (char *));
    }
  }
  return journal_save (&job->j);
}

static void
report_cycle (struct job *job, bool initial, double seconds)
{
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

static int
run_cycle (struct job *job, const struct args *a, double *seconds,
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
    for (size_t i = 0; i < job->j.ndisks; i++) {
      struct jdisk *jd = job->disks[i].jd;
      free (jd->error);
      jd->error = xasprintf ("cycle %" PRId64 " stopped by %s; the next run "
                             "resumes it", jd->cycles + 1,
                             strsignal (stop_requested));
    }
    if (journal_save (&job->j) == -1)
      return -1;
    return 1;
  }
  if (r == 0)
    r = finish_cycle (job, a, *seconds);
  if (r == -1) {
    for (size_t i = 0; i < job->j.ndisks; i++) {
      struct jdisk *jd = job->disks[i].jd;
      free (jd->state);
      jd->state = xstrdup ("failed");
      free (jd->error);
      jd->error = xasprintf ("cycle %" PRId64 " failed (see the messages "
                             "above); the next run resends what is missing",
                             jd->cycles + 1);
    }
    journal_save (&job->j);
    return -1;
  }
  report_cycle (job, initial, *seconds);
  return 0;
}

/* Sleep up to secs, waking early on a stop request. */
static void
wait_interval (double secs)
{
  time_t end = time (NULL) + (time_t) secs;
  while (!stop_requested && time (NULL) < end)
    sleep (1);
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

static int
parse_args (int argc, char **argv, struct args *a)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "format", required_argument, NULL, OPT_FORMAT },
    { "container", required_argument, NULL, OPT_CONTAINER },
    { "to", required_argument, NULL, OPT_TO },
    { "name", required_argument, NULL, OPT_NAME },
    { "parallel", required_argument, NULL, OPT_PARALLEL },
    { "cycles", required_argument, NULL, OPT_CYCLES },
    { "continuous", no_argument, NULL, OPT_CONTINUOUS },
    { "interval", required_argument, NULL, OPT_INTERVAL },
    { "keep", required_argument, NULL, OPT_KEEP },
    { "state", required_argument, NULL, OPT_STATE },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "allow-http", no_argument, NULL, OPT_ALLOW_HTTP },
    { "credentials", required_argument, NULL, OPT_CREDENTIALS },
    { "bitmap", required_argument, NULL, OPT_BITMAP },
    { NULL, 0, NULL, 0 }
  };
  const char *format = NULL;
  int c;

  /* --parallel default, by measurement (tests/bench/replicate.sh with
   * BENCH_SWEEP=1; 2 shared Xeon CPUs, 23 GiB, load average 9 to 14,
   * 2026-11-26; 128 MiB of data, best of two, MiB/s):
   *   in flight          1     2     4     8    16    32
   *   Azurite direct    55    78    44    59    85    74
   *   +200 ms/response  12    15    17    13    23    22
   * Azurite is one node.js thread: past 2 in flight it is noise.  With
   * latency added (a WAN round trip plus the service time of a 4 MiB
   * Put Page) throughput grows to ~16 and then flattens, at this
   * load's noise.  For Azure, Little's law: a standard page blob's
   * target is 60 MiB/s (15 Put Pages of 4 MiB per second); at 0.3 to
   * 0.6 s per request that is 5 to 9 in flight, so 8 reaches it, and
   * more only costs memory ((N + 3) x 4 MiB of buffers).  Premium or
   * managed-disk targets (up to 500 MiB/s) and long round trips want a
   * higher --parallel.
   */
  a->parallel = 8;
  a->cycles = 1;
  a->interval = -1;
  a->keep = 3;
  a->disks = calloc (argc + 1, sizeof *a->disks);
  a->formats = calloc (argc + 1, sizeof *a->formats);
  a->to = calloc (argc + 1, sizeof *a->to);
  if (!a->disks || !a->formats || !a->to)
    return EXIT_ERROR;
  while ((c = getopt_long (argc, argv, "-" COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&a->o, c, usage))
      continue;
    switch (c) {
    case 1:
      a->formats[a->ndisks] = (char *) format;
      a->disks[a->ndisks++] = optarg;
      break;
    case OPT_FORMAT:
      format = !strcmp (optarg, "auto") ? NULL : optarg;
      break;
    case OPT_CONTAINER: a->container = optarg; break;
    case OPT_TO: a->to[a->nto++] = optarg; break;
    case OPT_NAME: a->name = optarg; break;
    case OPT_STATE: a->state = optarg; break;
    case OPT_CACERT: a->cacert = optarg; break;
    case OPT_CREDENTIALS: a->credentials = optarg; break;
    case OPT_BITMAP: a->bitmap = optarg; break;
    case OPT_CONTINUOUS: a->continuous = true; break;
    case OPT_ALLOW_HTTP: a->allow_http = true; break;
    case OPT_PARALLEL:
      if (parse_int64 (optarg, &a->parallel) == -1 || a->parallel < 1 ||
          a->parallel > 64)
        return usage_error ("replicate", "--parallel: 1 to 64");
      break;
    case OPT_CYCLES:
      if (parse_int64 (optarg, &a->cycles) == -1 || a->cycles < 1)
        return usage_error ("replicate", "--cycles: a positive number");
      break;
    case OPT_INTERVAL:
      if (parse_int64 (optarg, &a->interval) == -1 || a->interval < 0)
        return usage_error ("replicate", "--interval: seconds, 0 or more");
      break;
    case OPT_KEEP:
      if (parse_int64 (optarg, &a->keep) == -1 || a->keep < 1 ||
          a->keep > 100)
        return usage_error ("replicate", "--keep: 1 to 100");
      break;
    default:
      return usage_error ("replicate", "unknown option");
    }
  }
  if (a->ndisks == 0)
    return usage_error ("replicate", "no disk given");
  if (!a->container == !a->nto)
    return usage_error ("replicate", "give either --container or --to");
  if (a->container && !valid_name (a->container))
    return usage_error ("replicate", "--container: not a valid name");
  if (a->nto > 1 && !url_is_blob (a->to[0]))
    return usage_error ("replicate", "--to: one container URL only");
  return -1;
}

static int
replicate_run (int argc, char **argv)
{
  struct args a = { 0 };
  struct job job = { 0 };
  CLEANUP_CREDS struct creds cr = { 0 };
  CLEANUP_FREE char *name = NULL, *jpath = NULL, *container_url = NULL;
  struct blob_opts bo = { 0 };
  struct stopper stopper = { 0 };
  bool exists, stopped_in_cycle = false;
  int ret = EXIT_ERROR, r;
  int64_t done_cycles = 0;

  r = parse_args (argc, argv, &a);
  if (r != -1) {
    ret = r;
    goto out_args;
  }
  name = a.name ? xstrdup (a.name) : default_name (a.disks[0]);
  if (!name)
    goto out_args;
  a.name = name;
  if (!valid_name (a.name)) {
    ret = usage_error ("replicate", "--name: letters, digits, '-', '_', '.'");
    goto out_args;
  }
  job.state_dir = a.state ? xstrdup (a.state) : replicate_default_state_dir ();
  if (!job.state_dir)
    goto out_args;
  {
    CLEANUP_FREE char *cmd = NULL;
    const char *mk[] = { "mkdir", "-p", "-m", "0700", job.state_dir, NULL };
    if (run_command (NULL, mk) != 0) {
      azp_error ("%s: cannot create the state directory", job.state_dir);
      goto out_args;
    }
  }
  if (creds_load (&cr, a.credentials) == -1)
    goto out_args;
  stop_requested = 0;
  if (stopper_start (&stopper) == -1)
    goto out;
  job.stop = &stop_requested;

  job.parallel = a.parallel;
  job.json = a.o.json;
  job.tty = !a.o.json && isatty (2);
  job.use_bitmap = true;
  bo.cacert = a.cacert;
  bo.allow_http = a.allow_http;
  job.client = blob_client_new (&cr, &bo);
  if (!job.client)
    goto out;
  if (a.container) {
    if (!cr.endpoint) {
      azp_error ("--container needs a storage account: set "
                 "AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT "
                 "and "
                 "AZURE_STORAGE_KEY) or use --credentials FILE");
      goto out;
    }
    container_url = xasprintf ("%s/%s", cr.endpoint, a.container);
  }
  else if (!url_is_blob (a.to[0])) {
    container_url = xstrdup (a.to[0]);
    if (container_url && strchr (container_url, '?')) {
      azp_error ("--to: a container URL must not carry a SAS here; give the "
                 "SAS "
                 "with AZURE_STORAGE_SAS_TOKEN or --credentials");
      goto out;
    }
  }
  else
    container_url = xstrdup ("");
  if (!container_url)
    goto out;
  while (*container_url && container_url[strlen (container_url) - 1] == '/')
    container_url[strlen (container_url) - 1] = '\0';

  jpath = replicate_journal_path (job.state_dir, a.name);
  if (!jpath || replicate_lock_job (job.state_dir, a.name, "replicate") == -1 ||
      journal_load (&job.j, jpath, &exists) == -1)
    goto out;
  if (!exists) {
    if (job_create (&job, &a, container_url) == -1)
      goto out;
  }
  else if (job_check_disks (&job, &a) == -1)
    goto out;

  job.disks = calloc (job.j.ndisks, sizeof *job.disks);
  if (!job.disks)
    goto out;
  if (!exists && a.container) {
    struct blob *probe = blob_open_url (job.client, container_url);
    /* The container may exist already; creating it needs the key. */
    if (!probe)
      goto out;
    blob_close (probe);
    if (!cr.sas && blob_container_create (job.client, a.container) == -1)
      goto out;
  }
  for (size_t i = 0; i < job.j.ndisks; i++) {
    job.disks[i].jd = &job.j.disks[i];
    if (rdisk_open_manifest (&job, &job.disks[i]) == -1)
      goto out;
    r = setup_blob (&job, i, &a, !exists);
    if (r == -2)
      ret = EXIT_NOTREADY;
    if (r < 0)
      goto out;
    if (rdisk_open_source (&job, &job.disks[i]) == -1)
      goto out;
  }
  if (journal_save (&job.j) == -1)
    goto out;

  for (;;) {
    double secs = 0, wait;
    bool initial;
    const char *rule;

    if (stop_requested)
      break;
    r = run_cycle (&job, &a, &secs, &initial);
    /* vsphere:// disks: remove the cycle's snapshot now, not after the
     * wait. */
    if (vsphere_job_end_cycle (&job) == -1 && r == 0 && !a.continuous)
      goto out;
    if (r == 1) {
      stopped_in_cycle = true;
      break;
    }
    if (r == -1) {
      if (!a.continuous)
        goto out;
      azp_warning ("the cycle failed; the next one resends what is missing");
      initial = false;
    }
    done_cycles++;
    if (stop_requested || (!a.continuous && done_cycles >= a.cycles))
      break;
    /* The sources stay closed while waiting (a qcow2 image is then not
     * locked); they may have changed size by the next cycle.
     */
    for (size_t i = 0; i < job.j.ndisks; i++) {
      source_close (job.disks[i].src);
      job.disks[i].src = NULL;
    }
    if (a.interval >= 0) {
      wait = a.interval;
      rule = "interval";
    }
    else {
      wait = replicate_next_wait (secs, initial);
      rule = initial ? "first delta right after the initial copy"
        : "half the last cycle, 1 h to 12 h";
    }
    if (announce_wait (&job, wait, rule) == -1)
      goto out;
    wait_interval (wait);
    if (stop_requested)
      break;
    job.j.next_cycle = 0;
    if (journal_save (&job.j) == -1)
      goto out;
    for (size_t i = 0; i < job.j.ndisks; i++)
      if (rdisk_open_source (&job, &job.disks[i]) == -1)
        goto out;
  }
  if (stop_requested) {
    if (job.json)
      printf ("{\"event\":\"stopped\",\"signal\":\"%s\","
              "\"in_cycle\":%s}\n", sigabbrev_np (stop_requested),
              stopped_in_cycle ? "true" : "false");
    if (stopped_in_cycle)
      azp_info ("stopped during a cycle: run the same command to resume it");
    else
      azp_info ("stopped between cycles");
    fflush (stdout);
  }
  ret = stopped_in_cycle ? EXIT_ERROR : EXIT_OK;
 out:
  /* Leave the blobs unleased on a clean exit; after a failure keep the
   * lease so no one else writes a half-replicated disk.
   */
  if (ret == EXIT_OK || stopped_in_cycle)
    for (size_t i = 0; job.disks && i < job.j.ndisks; i++)
      if (job.disks[i].blob && !job.j.disks[i].managed)
        blob_lease_release (job.disks[i].blob);
  if (job.j.next_cycle) {
    job.j.next_cycle = 0;       /* no process waits for it any more */
    journal_save (&job.j);
  }
  job_close (&job);
  stopper_end (&stopper);
 out_args:
  free (a.disks);
  free (a.formats);
  free (a.to);
  return ret;
}

static const struct command replicate_cmd = {
  "replicate", "replicate a VM's disks to Azure page blobs (with deltas)",
  replicate_run,
};
COMMAND (replicate_cmd);
