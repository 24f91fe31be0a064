/* A job's state in a container of the storage account (see state.h):
 * the journal blob, the manifest page blobs, and the lease that is the
 * job's lock, renewed by a thread of its own.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/engine/internal.h"
#include "replicate/engine/state.h"

#define MAX_DISKS 64

struct sblob {
  struct state *s;
  struct blob_client *client;
  char *container;
  char *worker;                 /* HOST/PID */
  char lease[37];               /* this worker's lease id */
  int secs;                     /* lease duration */
  int64_t wait_lock;            /* --wait-lock */
  char *name;                   /* the locked job, or NULL */
  struct blob *journal;         /* jobs/NAME/journal.json (the lock) */
  struct mslot {                /* jobs/NAME/diskI.manifest */
    struct sblob *b;
    struct blob *mb;
  } man[MAX_DISKS];
  size_t nman;
  volatile sig_atomic_t *stop;
  pthread_mutex_t lock;         /* man, nman; the thread's wake-up */
  pthread_cond_t cond;
  pthread_t thread;
  bool running, quit;
  bool locked;                  /* the journal's lease is ours */
  bool joined;                  /* ...and our parent's (STATE_JOIN_ENV):
                                 * never released here */
};

static struct sblob *
sb (const struct state *s)
{
  return s->backend;
}

const char *
state_lease_id (const struct state *s)
{
  return state_remote (s) ? sb (s)->lease : NULL;
}

void
state_counters (const struct state *s, uint64_t *requests, uint64_t *bytes)
{
  *requests = state_remote (s) ? blob_client_requests (sb (s)->client) : 0;
  *bytes = state_remote (s) ? blob_client_bytes_sent (sb (s)->client) : 0;
}

/* migrate's final cycle: take the parent's lease id and worker name
 * (STATE_JOIN_ENV) out of the environment.  0 or -1. */
static int
join_parent (struct sblob *b)
{
  const char *v = getenv (STATE_JOIN_ENV);
  const char *sp = v ? strchr (v, ' ') : NULL;

  if (!v)
    return 0;
  if (!sp || sp - v != 36 || !sp[1]) {
    azp_error ("%s: not a lease id and a worker", STATE_JOIN_ENV);
    return -1;
  }
  memcpy (b->lease, v, 36);
  b->lease[36] = '\0';
  free (b->worker);
  b->worker = xstrdup (sp + 1);
  b->joined = true;
  /* For this run only, not its children; wiped as the secrets are. */
  memset ((char *) v, 0, strlen (v));
  unsetenv (STATE_JOIN_ENV);
  return b->worker ? 0 : -1;
}

char *
state_join_env (const struct state *s)
{
  const struct sblob *b = state_remote (s) ? sb (s) : NULL;

  if (!b || !b->locked) {
    azp_error ("internal error: no lock in a state container to share");
    return NULL;
  }
  return xasprintf ("%s %s", b->lease, b->worker);
}

int
state_blob_init (struct state *s, const struct state_opts *o,
                 const struct creds *cr, const struct blob_opts *bo)
{
  struct sblob *b = calloc (1, sizeof *b);
  struct blob_opts own = *bo;
  unsigned char u[16];
  const char *env = getenv (STATE_LEASE_ENV);

  if (!b) {
    azp_error ("out of memory");
    return -1;
  }
  s->backend = b;
  b->s = s;
  pthread_mutex_init (&b->lock, NULL);
  pthread_cond_init (&b->cond, NULL);
  b->stop = o->stop;
  b->wait_lock = o->wait_lock;
  b->secs = o->lease_seconds ? o->lease_seconds : STATE_LEASE_DEFAULT;
  if (!o->lease_seconds && env && *env) {
    int64_t v;
    if (parse_int64 (env, &v) == -1 || v < 15 || v > 60) {
      azp_error ("%s: the state lease lasts 15 to 60 seconds, not %s",
                 STATE_LEASE_ENV, env);
      return -1;
    }
    b->secs = v;
  }
  if (!cr->endpoint) {
    azp_error ("--state-container needs a storage account: set "
               "AZURE_STORAGE_CONNECTION_STRING (or AZURE_STORAGE_ACCOUNT and "
               "AZURE_STORAGE_KEY) or use --credentials FILE");
    return -1;
  }
  own.fence = &s->lost;         /* nothing more once the lease is lost */
  b->client = blob_client_new (cr, &own);
  b->container = xstrdup (o->container);
  b->worker = state_worker_id ();
  s->where = xasprintf ("%s/%s", cr->endpoint, o->container);
  free (s->dir);
  s->dir = xasprintf ("%s/remote/%s", o->dir ? o->dir
                      : "", o->container);
  if (!b->client || !b->container || !b->worker || !s->where || !s->dir)
    return -1;
  if (!o->dir) {
    CLEANUP_FREE char *d = replicate_default_state_dir ();
    free (s->dir);
    s->dir = d ? xasprintf ("%s/remote/%s", d, o->container) : NULL;
    if (!s->dir)
      return -1;
  }
  if (random_uuid (u, b->lease) == -1 || join_parent (b) == -1)
    return -1;
  if (o->readonly)
    return 0;
  if (make_dirs (s->dir, 0700) == -1) {
    azp_error ("%s: cannot create the state cache", s->dir);
    return -1;
  }
  if (!cr->sas && blob_container_create (b->client, o->container) == -1)
    return -1;
  return 0;
}

/* The lease is lost: fence every write, stop the run. */
static void
lose (struct sblob *b, const char *why)
{
  if (__atomic_exchange_n (&b->s->lost, 1, __ATOMIC_ACQ_REL))
    return;
  azp_error ("job %s: the lease on its state (%s/jobs/%s/journal.json) is "
             "lost (%s): every write stopped; another worker may hold the "
             "job now (azprep status --all --state-container %s)", b->name,
             b->s->where, b->name, why, b->container);
  if (b->stop && !*b->stop)
    *b->stop = SIGTERM;
}

static bool
definitive (void)
{
  const char *c = blob_error_code ();
  return blob_error_status () == 409 || blob_error_status () == 412 ||
    strstr (c, "Lease") != NULL;
}

/* Renew every lease of the job a third of its duration after the last
 * success (then every second until one works); lose it once renewal is
 * refused, or when the lease is within a third of its duration (5 s at
 * least) of expiring without one: the requests in flight then have that
 * long to land before it does.
 */
static void *
renew_thread (void *arg)
{
  struct sblob *b = arg;
  struct timespec last, now, wake;
  /* Test hooks: renewals not sent (a network that drops them); the
   * deadline not kept (a worker that cannot tell how long it was paused:
   * the service's 412 must stop it). */
  bool blocked = getenv ("AZPREP_TEST_BLOCK_RENEWAL") != NULL;
  bool no_deadline = getenv ("AZPREP_TEST_NO_RENEW_DEADLINE") != NULL;
  double margin = b->secs / 3.0 > 5 ? b->secs / 3.0 : 5;

  /* CLOCK_BOOTTIME counts a suspended host's sleep, as the service's
   * lease does. */
  clock_gettime (CLOCK_BOOTTIME, &last);
  pthread_mutex_lock (&b->lock);
  while (!b->quit && !b->s->lost) {
    double since;
    bool ok = true;

    clock_gettime (CLOCK_REALTIME, &wake);
    wake.tv_sec += 1;
    pthread_cond_timedwait (&b->cond, &b->lock, &wake);
    if (b->quit)
      break;
    clock_gettime (CLOCK_BOOTTIME, &now);
    since = (now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9;
    if (since >= b->secs - margin && !no_deadline) {
      pthread_mutex_unlock (&b->lock);
      lose (b, "not renewed in time");
      pthread_mutex_lock (&b->lock);
      break;
    }
    if (since < b->secs / 3.0 || blocked)
      continue;
    pthread_mutex_unlock (&b->lock);
    ok = blob_lease_renew (b->journal) == 0;
    for (size_t i = 0; ok && i < b->nman; i++)
      ok = blob_lease_renew (b->man[i].mb) == 0;
    if (!ok && definitive ())
      lose (b, "the service refused to renew it");
    pthread_mutex_lock (&b->lock);
    if (ok)
      last = now;
  }
  pthread_mutex_unlock (&b->lock);
  return NULL;
}

/* Acquire blob's lease with this worker's id: 0, 1 held by someone
 * else, -1 error.  take: break another holder's lease first (a
 * takeover: the caller holds the job's lock).  present: the blob must
 * exist: 2 if it does not (not reported).
 */
static int
acquire (struct sblob *b, struct blob *bl, bool take, bool present)
{
  const char *c;

  if (take && blob_lease_break_now (bl) == -1)
    return -1;
  if ((present ? blob_lease_try_present : blob_lease_try)
      (bl, b->lease, b->secs) == 0)
    return 0;
  c = blob_error_code ();
  if (present && (!strcmp (c, "BlobNotFound") ||
                  !strcmp (c, "ContainerNotFound")))
    return 2;
  return strcmp (c, "LeaseAlreadyPresent") ? -1 : 1;
}

static void
report_busy (struct sblob *b, const char *name, const char *what)
{
  struct blob_props p;
  const char *w = NULL;

  if (blob_get_properties (b->journal, NULL, &p) == 0)
    w = blob_props_meta (&p, "azprep_worker");
  azp_error ("%s %s: refused: the job is held by worker %s (a lease on "
             "%s/jobs/%s/journal.json); stop it first, wait for its lease "
             "to expire (%d s at most after it dies), or give --wait-lock "
             "SECS", what, name, w ? w : "(unknown)", b->s->where, name,
             b->secs);
  blob_props_free (&p);
}

static struct blob *
journal_blob (struct sblob *b, const char *name)
{
  CLEANUP_FREE char *bn = xasprintf ("jobs/%s/journal.json", name);
  return bn ? blob_open (b->client, b->container, bn) : NULL;
}

static int
blob_holder (struct state *s, const char *name, char **worker, bool *held)
{
  struct blob *jb = journal_blob (sb (s), name);
  struct blob_props p;
  const char *w;

  if (!jb || blob_get_properties (jb, NULL, &p) == -1) {
    blob_close (jb);
    return -1;
  }
  w = blob_props_meta (&p, "azprep_worker");
  *worker = w ? xstrdup (w) : NULL;
  *held = p.lease_state && !strcmp (p.lease_state, "leased");
  blob_props_free (&p);
  blob_close (jb);
  return 0;
}

static int
blob_lock (struct state *s, const char *name, const char *what,
           bool present)
{
  struct sblob *b = sb (s);
  CLEANUP_FREE char *wm = xasprintf ("azprep_worker=%s", b->worker);
  const char *meta[] = { wm, NULL };
  time_t until = time (NULL) + b->wait_lock;
  int r;

  if (!wm || !(b->name = xstrdup (name)))
    return -1;
  b->journal = journal_blob (b, name);
  if (!b->journal)
    return -1;
  /* An empty journal blob: a job with no journal yet.  A job that must
   * exist is never created: the lease on its journal blob is taken
   * only if the blob is there, in one request (a check first would
   * leave a window for a complete elsewhere to remove it). */
  if (!present && blob_put_block_blob (b->journal, "", 0, NULL, true) == -1)
    return -1;
  for (;;) {
    r = acquire (b, b->journal, false, present);
    if (r == 2)
      return -2;
    if (r <= 0)
      break;
    if (time (NULL) >= until) {
      report_busy (b, name, what);
      return -4;
    }
    if (b->stop && *b->stop)
      return -1;
    sleep (1);
  }
  if (r == -1)
    return -1;
  b->locked = true;
  blob_set_lease_id (b->journal, b->lease);
  if (blob_set_metadata (b->journal, meta) == -1)
    return -1;
  if (pthread_create (&b->thread, NULL, renew_thread, b) != 0) {
    azp_error ("cannot start the lease renewal thread");
    return -1;
  }
  b->running = true;
  azp_debug ("job %s: locked in %s by %s (lease %d s)", name, s->where,
             b->worker, b->secs);
  return 0;
}

/* The journal's copy: Put Blob under the lease, naming the worker. */
static int
journal_sink (void *opaque, const char *json, size_t len)
{
  struct sblob *b = opaque;
  CLEANUP_FREE char *wm = xasprintf ("azprep_worker=%s", b->worker);
  const char *meta[] = { wm, NULL };

  if (!wm)
    return -1;
  if (blob_put_block_blob (b->journal, json, len, meta, false) == -1) {
    if (definitive ())
      lose (b, "the journal write was refused");
    return -1;
  }
  return 0;
}

/* The locked job's journal (replicate) gets the sink that saves it
 * under the lease; any other job's (status --all, verify) is only read
 * from its own blob. */
static int
blob_journal_load (struct state *s, const char *name, struct journal *j,
                   bool *exists)
{
  struct sblob *b = sb (s);
  bool locked = b->journal && b->name && !strcmp (b->name, name);
  struct blob *jb = locked ? b->journal : journal_blob (b, name);
  CLEANUP_FREE char *buf = NULL;
  size_t len;
  int r = -1;

  memset (j, 0, sizeof *j);
  *exists = false;
  j->path = xasprintf ("%s/%s.json", s->dir, name);
  if (!j->path || !jb)
    goto out;
  r = blob_get_all (jb, JOURNAL_MAX, &buf, &len);
  if (r == 1 || (r == 0 && len == 0)) {
    unlink (j->path);
    r = 0;
  }
  else if (r == 0) {
    *exists = true;
    r = journal_parse (j, blob_name (jb), buf, len);
  }
  if (locked) {
    j->sink = journal_sink;
    j->sink_opaque = b;
  }
 out:
  if (!locked)
    blob_close (jb);
  return r;
}

static int
manifest_put (void *opaque, uint64_t off, const void *buf, size_t len)
{
  struct mslot *ms = opaque;

  if (blob_put_page (ms->mb, off, buf, len) == 0)
    return 0;
  if (definitive ())
    lose (ms->b, "a manifest write was refused");
  return -1;
}

/* Fill the fresh local manifest from the page blob's written pages,
 * in reads of up to 4 MiB that span the gaps under 1 MiB between them
 * (pages pushed one by one come back as many small ranges; the gaps
 * read as zeros, as they are in the map).
 */
static int
fetch_manifest (struct blob *mb, struct manifest *m)
{
  const uint64_t max = 4 * 1024 * 1024, gap = 1024 * 1024;
  struct rangelist rl = { 0 };
  size_t len;
  unsigned char *map = manifest_map (m, &len);
  int r = 0;

  if (blob_get_page_ranges (mb, NULL, 0, 0, &rl) == -1)
    return -1;
  for (size_t k = 0; k < rl.n && r == 0; ) {
    uint64_t s = rl.r[k].start, e = rl.r[k].end;
    while (++k < rl.n && rl.r[k].start - e < gap && rl.r[k].end - s <= max)
      e = rl.r[k].end;
    if (s >= len)
      break;
    for (uint64_t off = s; off < e && off < len && r == 0; off += max) {
      uint64_t end = e - off > max ? off + max : e;
      r = blob_get_range (mb, NULL, off, map + off,
                          (end < len ? end : len) - off);
    }
  }
  rangelist_free (&rl);
  return r;
}

static struct manifest *
blob_manifest_open (struct state *s, const struct journal *j, size_t i)
{
  struct sblob *b = sb (s);
  const struct jdisk *jd = &j->disks[i];
  CLEANUP_FREE char *path = xasprintf ("%s/%s", s->dir, jd->manifest);
  CLEANUP_FREE char *bn = xasprintf ("jobs/%s/disk%zu.manifest", j->name, i);
  size_t rsize = manifest_remote_size (jd->size);
  struct blob_props p;
  struct manifest *m = NULL;
  struct blob *mb;

  if (!path || !bn || b->nman >= MAX_DISKS)
    return NULL;
  mb = blob_open (b->client, b->container, bn);
  if (!mb || blob_get_properties (mb, NULL, &p) == -1)
    goto fail;
  if (!p.exists && blob_create_page_blob (mb, rsize, NULL) == -1 &&
      strcmp (blob_error_code (), "BlobAlreadyExists"))
    goto fail_p;
  if (p.exists && p.size != rsize) {
    azp_error ("%s: %" PRIu64 " bytes, not the %zu of this disk's manifest",
               blob_name (mb), p.size, rsize);
    goto fail_p;
  }
  /* We hold the job's lock: a lease still on the manifest is a stale
   * worker's. */
  if (acquire (b, mb, true, false) != 0)
    goto fail_p;
  blob_set_lease_id (mb, b->lease);
  /* The cache is rebuilt from the container: another worker may have
   * run the job since this host last did. */
  unlink (path);
  m = manifest_open (path, jd->size);
  if (!m || fetch_manifest (mb, m) == -1)
    goto fail_p;
  blob_props_free (&p);
  pthread_mutex_lock (&b->lock);
  b->man[b->nman].b = b;
  b->man[b->nman].mb = mb;
  if (manifest_set_remote (m, manifest_put, &b->man[b->nman]) == -1) {
    pthread_mutex_unlock (&b->lock);
    goto fail;
  }
  b->nman++;
  pthread_mutex_unlock (&b->lock);
  return m;
 fail_p:
  blob_props_free (&p);
 fail:
  manifest_close (m);
  blob_close (mb);
  return NULL;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static char **
blob_list (struct state *s)
{
  struct sblob *b = sb (s);
  struct blob *c = blob_open (b->client, b->container, NULL);
  struct blob_list l;
  char **names;
  size_t k = 0;

  if (!c)
    return NULL;
  if (blob_list_prefix (c, "jobs/", &l) == -1) {
    blob_close (c);
    return NULL;
  }
  blob_close (c);
  names = calloc (l.n + 1, sizeof *names);
  for (size_t i = 0; names && i < l.n; i++) {
    const char *n = l.items[i].name + 5;
    size_t nl = strlen (n);
    if (nl > 13 && !strcmp (n + nl - 13, "/journal.json") &&
        !memchr (n, '/', nl - 13))
      names[k++] = strndup (n, nl - 13);
  }
  blob_list_free (&l);
  if (!names)
    azp_error ("out of memory");
  else
    qsort (names, k, sizeof *names, cmp_str);
  return names;
}

static void
stop_renewal (struct sblob *b)
{
  if (!b->running)
    return;
  pthread_mutex_lock (&b->lock);
  b->quit = true;
  pthread_cond_signal (&b->cond);
  pthread_mutex_unlock (&b->lock);
  pthread_join (b->thread, NULL);
  b->running = false;
}

/* A cache file, if there. */
static void
uncache (const char *dir, const char *file)
{
  CLEANUP_FREE char *p = file ? xasprintf ("%s/%s", dir, file) : NULL;

  if (p && unlink (p) == -1 && errno != ENOENT)
    azp_debug ("%s: %m", p);
}

/* complete: the manifests' blobs (a lease on one is a stale worker's:
 * broken), then the journal's under our lease, which goes with it. */
static int
blob_remove (struct state *s, const struct journal *j)
{
  struct sblob *b = sb (s);

  if (!b->locked || strcmp (b->name, j->name)) {
    azp_error ("internal error: job %s is not locked", j->name);
    return -1;
  }
  for (size_t i = 0; i < j->ndisks; i++) {
    CLEANUP_FREE char *bn = xasprintf ("jobs/%s/disk%zu.manifest", j->name,
                                       i);
    struct blob *mb = bn ? blob_open (b->client, b->container, bn) : NULL;
    int r = mb ? blob_delete_breaking (mb) : -1;

    blob_close (mb);
    if (r == -1)
      return -1;
    uncache (s->dir, j->disks[i].manifest);
  }
  /* No renewal of a blob about to go (its 404 would read as a lost
   * lease). */
  stop_renewal (b);
  if (blob_delete (b->journal, NULL, true) == -1)
    return -1;
  b->locked = false;
  if (unlink (j->path) == -1 && errno != ENOENT)
    azp_debug ("%s: %m", j->path);
  return 0;
}

static void
blob_state_close (struct state *s)
{
  struct sblob *b = sb (s);

  if (!b)
    return;
  stop_renewal (b);
  for (size_t i = 0; i < b->nman; i++) {
    if (!s->lost)
      blob_lease_release (b->man[i].mb);
    blob_close (b->man[i].mb);
  }
  if (b->journal && b->locked && !b->joined && !s->lost)
    blob_lease_release (b->journal);
  blob_close (b->journal);
  blob_client_free (b->client);
  pthread_mutex_destroy (&b->lock);
  pthread_cond_destroy (&b->cond);
  free (b->container);
  free (b->worker);
  free (b->name);
  free (b);
  s->backend = NULL;
}

const struct state_ops state_blob_ops = {
  .kind = "container",
  .lock = blob_lock,
  .journal_load = blob_journal_load,
  .manifest_open = blob_manifest_open,
  .list = blob_list,
  .holder = blob_holder,
  .remove = blob_remove,
  .close = blob_state_close,
};
