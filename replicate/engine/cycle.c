/* One replication cycle of one disk: scan the source in 4 MiB chunks
 * (block status skips holes; a bitmap, when trusted, skips clean
 * chunks), digest each 64 KiB block, and send the runs of blocks whose
 * digest differs from the manifest (what the blob holds): data with Put
 * Page, zeros with a clear (or zero data on a managed disk).  The
 * initial copy is the same thing against a fresh blob, whose manifest is
 * all zeros.
 */
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "prep/common/common.h"
#include "replicate/engine/replicate.h"

#define BPC (CHUNK / MANIFEST_BLOCK)      /* blocks per chunk */

struct chunk {
  uint64_t off, len;
  int outstanding;            /* writes in flight + 1 while submitting */
  bool failed;                /* a run was not queued: never done */
};

struct cstate {
  pthread_mutex_t lock;
  struct jdisk *jd;
  struct manifest *man;
  uint64_t sent;              /* data bytes written this run */
  /* The scanning thread's time by stage, for -v (nanoseconds): block
   * status, source reads, zero scan, digests, waiting for a free slot
   * in the writer's queue (the writers are the bottleneck then). */
  uint64_t t_status, t_read, t_zero, t_digest, t_queue;
};

/* The parallel readers of a changed-area delta share the counters. */
static void
stage_add (uint64_t *t, uint64_t ns)
{
  __atomic_fetch_add (t, ns, __ATOMIC_RELAXED);
}

struct tag {
  struct chunk *chunk;
  bool clear;
  unsigned char digests[BPC][MANIFEST_ENTRY];
};

/* Called with cs->lock held. */
static void
chunk_release (struct cstate *cs, struct chunk *c)
{
  if (--c->outstanding == 0) {
    if (!c->failed)
      rangelist_add (&cs->jd->done, c->off, c->off + c->len);
    free (c);
  }
}

static void
write_done (void *opaque, void *tagp, uint64_t offset, uint64_t len, bool ok)
{
  struct cstate *cs = opaque;
  struct tag *t = tagp;

  pthread_mutex_lock (&cs->lock);
  if (ok) {
    uint64_t b0 = offset / MANIFEST_BLOCK;
    for (uint64_t k = 0; k < len / MANIFEST_BLOCK; k++)
      manifest_set (cs->man, b0 + k, t->digests[k]);
    if (!t->clear)
      cs->sent += len;
    chunk_release (cs, t->chunk);
  }
  /* On failure the chunk never completes: it stays undone, and the
   * blocks stay "unknown" in the manifest, so they are sent again.
   */
  pthread_mutex_unlock (&cs->lock);
  free (t);
}

struct extents { struct rangelist data; };

static int
extent_cb (void *opaque, uint64_t off, uint64_t len, bool zero)
{
  struct extents *e = opaque;
  return zero ? 0 : rangelist_add (&e->data, off, off + len);
}

/* Keep of the data extents only the wanted blocks (want[k]: block k of
 * the chunk at off). */
static int
restrict_to (struct rangelist *data, const bool *want, uint64_t off,
             size_t nb)
{
  struct rangelist keep = { 0 };

  for (size_t k = 0; k < nb; k++) {
    uint64_t bs = off + k * MANIFEST_BLOCK, be = bs + MANIFEST_BLOCK;
    if (!want[k])
      continue;
    for (size_t i = 0; i < data->n; i++) {
      uint64_t s = data->r[i].start > bs ? data->r[i].start : bs;
      uint64_t e = data->r[i].end < be ? data->r[i].end : be;
      if (s < e && rangelist_add (&keep, s, e) == -1) {
        rangelist_free (&keep);
        return -1;
      }
    }
  }
  rangelist_free (data);
  *data = keep;
  return 0;
}

static int
dirty_cb (void *opaque, uint64_t off, uint64_t len, bool dirty)
{
  if (dirty)
    *(bool *) opaque = true;
  return 0;
}

static int
save_progress (struct job *job, struct cstate *cs, struct rdisk *d)
{
  int r;
  if (manifest_sync (d->man) == -1)
    return -1;
  pthread_mutex_lock (&cs->lock);
  rangelist_normalize (&d->jd->done);
  r = journal_save (&job->j);
  pthread_mutex_unlock (&cs->lock);
  return r;
}

/* Queue one run of blocks [b0, b1) of the chunk. */
/* A run of the whole chunk takes the chunk's buffer itself (*bufp is
 * then NULL: the caller allocates the next one) rather than a copy.
 */
static int
send_run (struct job *job, struct rdisk *d, struct cstate *cs,
          struct blob_writer *w, struct chunk *c, unsigned char **bufp,
          unsigned char (*dig)[MANIFEST_ENTRY], size_t b0, size_t b1,
          bool zero)
{
  uint64_t off = c->off + b0 * MANIFEST_BLOCK;
  size_t len = (b1 - b0) * MANIFEST_BLOCK;
  bool clear = zero && !d->jd->managed;
  struct tag *t = malloc (sizeof *t);
  void *data = NULL;
  uint64_t t0;
  int r;

  if (!t) {
    azp_error ("out of memory");
    return -1;
  }
  t->chunk = c;
  t->clear = clear;
  memcpy (t->digests, dig + b0, (b1 - b0) * MANIFEST_ENTRY);
  if (!clear && b0 == 0 && len == c->len) {
    data = *bufp;
    *bufp = NULL;
  }
  else if (!clear) {
    data = malloc (len);
    if (!data) {
      free (t);
      azp_error ("out of memory");
      return -1;
    }
    memcpy (data, *bufp + b0 * MANIFEST_BLOCK, len);
  }
  pthread_mutex_lock (&cs->lock);
  c->outstanding++;
  pthread_mutex_unlock (&cs->lock);
  t0 = monotonic_ns ();
  r = blob_writer_put (w, off, data, len, t);
  stage_add (&cs->t_queue, monotonic_ns () - t0);
  if (r == -1) {
    pthread_mutex_lock (&cs->lock);
    c->outstanding--;
    pthread_mutex_unlock (&cs->lock);
    free (t);
    return -1;
  }
  return 0;
}

/* [off, off + len), at most CHUNK bytes from a block boundary, read
 * from src (d->src, or another connection to it) into buf. */
static int
do_chunk (struct job *job, struct rdisk *d, struct cstate *cs,
          struct blob_writer *w, struct source *src, uint64_t off,
          uint64_t len, unsigned char **bufp, bool use_bitmap)
{
  unsigned char *buf = *bufp;
  struct jdisk *jd = d->jd;
  uint64_t ssize = source_size (src);
  uint64_t rlen = off >= ssize ? 0 : (ssize - off < len ? ssize - off : len);
  struct extents e = { { 0 } };
  unsigned char dig[BPC][MANIFEST_ENTRY];
  bool zero[BPC], want[BPC], changed[BPC];
  struct chunk *c;
  size_t nb = len / MANIFEST_BLOCK, b0;
  uint64_t t0, t1;
  int r = -1;

  for (size_t k = 0; k < nb; k++)
    want[k] = true;

  /* A source that says what changed (CBT): read and compare only the
   * 64 KiB blocks it names; the others are as the blob holds them.
   */
  if (d->have_changed) {
    if (!rangelist_overlaps (&d->changed, off, off + len))
      goto done_clean;
    for (size_t k = 0; k < nb; k++) {
      uint64_t bs = off + k * MANIFEST_BLOCK;
      want[k] = rangelist_overlaps (&d->changed, bs, bs + MANIFEST_BLOCK);
    }
  }
  if (use_bitmap && rlen > 0) {
    bool dirty = false;
    if (source_dirty (src, off, rlen, dirty_cb, &dirty) == -1)
      return -1;
    if (!dirty)
      goto done_clean;       /* nothing changed here since the bitmap began */
  }
  t0 = monotonic_ns ();
  /* The areas a changed-area source names are read whole (the zero
   * scan below finds zeros): a block status request for each would be
   * one more round trip per area. */
  if (rlen > 0 && d->have_changed) {
    if (rangelist_add (&e.data, off, off + rlen) == -1)
      goto out;
  }
  else if (rlen > 0 && source_extents (src, off, rlen, extent_cb, &e) == -1)
    goto out;
  t1 = monotonic_ns ();
  stage_add (&cs->t_status, t1 - t0);
  if (d->have_changed && restrict_to (&e.data, want, off, nb) == -1)
    goto out;
  if (e.data.n > 0) {
    uint64_t pos = off;       /* zero only the gaps between the reads */
    rangelist_normalize (&e.data);
    for (size_t i = 0; i < e.data.n; i++) {
      memset (buf + (pos - off), 0, e.data.r[i].start - pos);
      if (source_pread (src, buf + (e.data.r[i].start - off),
                        e.data.r[i].end - e.data.r[i].start,
                        e.data.r[i].start) == -1)
        goto out;
      pos = e.data.r[i].end;
    }
    memset (buf + (pos - off), 0, off + len - pos);
  }
  t0 = monotonic_ns ();
  stage_add (&cs->t_read, t0 - t1);
  for (size_t k = 0; k < nb; k++) {
    uint64_t bs = off + k * MANIFEST_BLOCK;
    if (!want[k])
      continue;
    /* Holes are zero; data extents get the zero scan (block status
     * may report written zeros as data).
     */
    zero[k] = e.data.n == 0 ||
      !rangelist_overlaps (&e.data, bs, bs + MANIFEST_BLOCK) ||
      is_zero (buf + k * MANIFEST_BLOCK, MANIFEST_BLOCK);
    t1 = monotonic_ns ();
    stage_add (&cs->t_zero, t1 - t0);
    manifest_digest (buf + k * MANIFEST_BLOCK, MANIFEST_BLOCK, zero[k],
                     dig[k]);
    t0 = monotonic_ns ();
    stage_add (&cs->t_digest, t0 - t1);
  }

  c = calloc (1, sizeof *c);
  if (!c) {
    azp_error ("out of memory");
    goto out;
  }
  c->off = off;
  c->len = len;
  c->outstanding = 1;
  /* Until a write is known to have landed, the blob's content there is
   * unknown: so the manifest says before anything is sent, in its
   * remote copy too (a state container), so that a run resumed
   * elsewhere after a crash sends these blocks again.
   */
  for (size_t k = 0; k < nb; k++) {
    changed[k] = want[k] &&
      !manifest_equal (d->man, off / MANIFEST_BLOCK + k, dig[k]);
    if (changed[k]) {
      pthread_mutex_lock (&cs->lock);
      manifest_set_unknown (d->man, off / MANIFEST_BLOCK + k);
      pthread_mutex_unlock (&cs->lock);
    }
  }
  if (manifest_push (d->man) == -1) {
    free (c);                   /* nothing queued: the chunk is not done */
    goto out;
  }
  /* Runs of changed blocks of one kind (zeros are sent as data on a
   * managed disk, so they merge with data there).
   */
  b0 = nb;
  for (size_t k = 0; k <= nb; k++) {
    bool chg = k < nb && changed[k];
    bool kind = k < nb && zero[k] && !jd->managed;
    if (b0 < nb && (!chg || kind != (zero[b0] && !jd->managed))) {
      if (send_run (job, d, cs, w, c, bufp, dig, b0, k, zero[b0]) == -1) {
        pthread_mutex_lock (&cs->lock);
        c->failed = true;
        chunk_release (cs, c);
        pthread_mutex_unlock (&cs->lock);
        goto out;
      }
      b0 = nb;
    }
    if (chg && b0 == nb)
      b0 = k;
  }
  pthread_mutex_lock (&cs->lock);
  chunk_release (cs, c);
  pthread_mutex_unlock (&cs->lock);
  r = 0;
  goto out;

 done_clean:
  pthread_mutex_lock (&cs->lock);
  rangelist_add (&jd->done, off, off + len);
  pthread_mutex_unlock (&cs->lock);
  r = 0;
 out:
  rangelist_free (&e.data);
  return r;
}

/* A delta from changed areas (vSphere CBT): the areas, rounded out to
 * whole blocks and cut in pieces of at most CHUNK bytes, are read by
 * up to --parallel readers at once, each on its own connection to the
 * source (nbdkit's curl plugin serves one request at a time per
 * connection), and each piece is compared and sent as it arrives, so
 * reads overlap each other and the uploads.  The chunk scan would read
 * them one at a time.
 */
struct pieces {
  struct job *job;
  struct rdisk *d;
  struct cstate *cs;
  struct blob_writer *w;
  struct progress *p;
  struct range *r;
  size_t n, next;             /* next piece to read; the rest: cs->lock */
  uint64_t bytes, read;       /* bytes of all pieces, of those done */
  int running;                /* readers still reading */
  bool failed, stopped;
  pthread_cond_t cond;        /* a reader finished */
};

struct reader {
  struct pieces *ps;
  struct source *src;
  pthread_t thread;
};

/* d->changed as pieces: block-aligned, within the disk, adjacent areas
 * merged, at most CHUNK bytes each.  0 or -1. */
static int
make_pieces (struct pieces *ps)
{
  const struct rangelist *c = &ps->d->changed;
  uint64_t size = ps->d->jd->size;
  struct rangelist al = { 0 };
  size_t cap = 0;

  for (size_t i = 0; i < c->n; i++) {
    uint64_t s = c->r[i].start / MANIFEST_BLOCK * MANIFEST_BLOCK;
    uint64_t e = (c->r[i].end + MANIFEST_BLOCK - 1) / MANIFEST_BLOCK *
      MANIFEST_BLOCK;
    if (e > size)
      e = size;
    if (s < e && rangelist_add (&al, s, e) == -1)
      goto fail;
  }
  rangelist_normalize (&al);
  for (size_t i = 0; i < al.n; i++)
    for (uint64_t s = al.r[i].start; s < al.r[i].end; s += CHUNK) {
      uint64_t e = al.r[i].end - s < CHUNK ? al.r[i].end : s + CHUNK;
      if (ps->n == cap) {
        struct range *r = realloc (ps->r, (cap = cap * 2 + 64) * sizeof *r);
        if (!r) {
          azp_error ("out of memory");
          goto fail;
        }
        ps->r = r;
      }
      ps->r[ps->n++] = (struct range) { s, e };
      ps->bytes += e - s;
    }
  rangelist_free (&al);
  return 0;
 fail:
  rangelist_free (&al);
  return -1;
}

static void *
read_pieces (void *arg)
{
  struct reader *rd = arg;
  struct pieces *ps = rd->ps;
  struct cstate *cs = ps->cs;
  unsigned char *buf = malloc (CHUNK);

  pthread_mutex_lock (&cs->lock);
  if (!buf) {
    azp_error ("out of memory");
    ps->failed = true;
  }
  while (!ps->failed && ps->next < ps->n) {
    struct range r = ps->r[ps->next++];
    int e;
    if (ps->job->stop && *ps->job->stop) {
      ps->stopped = true;
      break;
    }
    pthread_mutex_unlock (&cs->lock);
    if (!buf && !(buf = malloc (CHUNK))) {
      azp_error ("out of memory");
      e = -1;
    }
    else
      e = do_chunk (ps->job, ps->d, cs, ps->w, rd->src, r.start,
                    r.end - r.start, &buf, false);
    pthread_mutex_lock (&cs->lock);
    if (e == -1)
      ps->failed = true;
    ps->read += r.end - r.start;
    if (ps->p)
      progress_update (ps->p, ps->d->jd->size * (ps->read / (double) ps->bytes),
                       cs->jd->cycle_bytes + cs->sent, false);
  }
  ps->running--;
  pthread_cond_signal (&ps->cond);
  pthread_mutex_unlock (&cs->lock);
  free (buf);
  return NULL;
}

/* Read, compare and send the pieces; the journal is saved every 2 s.
 * 0, -1 error, 1 stopped. */
static int
copy_changed (struct job *job, struct rdisk *d, struct cstate *cs,
              struct blob_writer *w, struct progress *p)
{
  struct pieces ps = { .job = job, .d = d, .cs = cs, .w = w, .p = p };
  struct reader *rd;
  size_t nr;
  int r = 0;

  if (make_pieces (&ps) == -1)
    return -1;
  nr = ps.n < (size_t) job->parallel ? ps.n : (size_t) job->parallel;
  rd = calloc (nr ? nr : 1, sizeof *rd);
  if (!rd) {
    free (ps.r);
    azp_error ("out of memory");
    return -1;
  }
  pthread_cond_init (&ps.cond, NULL);
  pthread_mutex_lock (&cs->lock);
  for (size_t k = 0; k < nr; k++) {
    rd[k].ps = &ps;
    rd[k].src = k == 0 ? d->src : source_clone (d->src);
    if (!rd[k].src || pthread_create (&rd[k].thread, NULL, read_pieces,
                                      &rd[k])) {
      if (k > 0)
        source_close (rd[k].src);
      rd[k].src = NULL;
      break;
    }
    ps.running++;
  }
  if (nr > 0 && ps.running == 0) {
    azp_error ("%s: cannot start reading", d->jd->source);
    ps.failed = true;
  }
  while (ps.running > 0) {
    struct timespec t;
    clock_gettime (CLOCK_REALTIME, &t);
    t.tv_sec += 2;
    if (pthread_cond_timedwait (&ps.cond, &cs->lock, &t) == 0)
      continue;
    d->jd->cycle_bytes += cs->sent;
    d->jd->bytes_sent += cs->sent;
    cs->sent = 0;
    pthread_mutex_unlock (&cs->lock);
    if (save_progress (job, cs, d) == -1)
      r = -1;
    pthread_mutex_lock (&cs->lock);
  }
  pthread_mutex_unlock (&cs->lock);
  for (size_t k = 0; k < nr && rd[k].src; k++) {
    pthread_join (rd[k].thread, NULL);
    if (k > 0)
      source_close (rd[k].src);
  }
  pthread_cond_destroy (&ps.cond);
  free (rd);
  free (ps.r);
  if (r == -1 || ps.failed)
    return -1;
  return ps.stopped ? 1 : 0;
}

static void
report_stages (const struct cstate *cs, struct rdisk *d)
{
  uint64_t puts;
  double md5, put;

  blob_put_stats (d->blob, &puts, &md5, &put);
  azp_debug ("%s: scan thread: block status %.2f s, read %.2f s, zero scan "
             "%.2f s, digest %.2f s, waiting for the writers %.2f s; "
             "%" PRIu64 " Put Page: MD5 %.2f s, HTTP %.2f s "
             "(summed over the writers)", cs->jd->source,
             cs->t_status / 1e9, cs->t_read / 1e9, cs->t_zero / 1e9,
             cs->t_digest / 1e9, cs->t_queue / 1e9, puts, md5, put - md5);
}

int
cycle_copy_disk (struct job *job, size_t i, bool initial)
{
  struct rdisk *d = &job->disks[i];
  struct jdisk *jd = d->jd;
  struct cstate cs = { .jd = jd, .man = d->man };
  struct blob_writer *w;
  struct progress *p;
  unsigned char *buf;
  bool use_bitmap = !initial && job->use_bitmap && jd->bitmap &&
    source_has_bitmap (d->src);
  time_t last_save = time (NULL);
  bool stopped = false;
  uint64_t scanned = 0;
  int r = 0, fr;

  if (use_bitmap)
    azp_debug ("%s: delta from the dirty bitmap %s", jd->source, jd->bitmap);
  /* Each chunk's buffer goes to a writer thread, which frees it.  Keep
   * the freed 4 MiB buffers in the heap for the next chunks rather than
   * unmapping them: a fresh mapping costs a page fault per 4 KiB on
   * the first read into it (process-wide, and the same every call).
   */
  mallopt (M_MMAP_THRESHOLD, 2 * CHUNK);
  mallopt (M_TRIM_THRESHOLD, 4 * CHUNK * (job->parallel + 4));
  buf = malloc (CHUNK);
  if (!buf) {
    azp_error ("out of memory");
    return -1;
  }
  pthread_mutex_init (&cs.lock, NULL);
  w = blob_writer_new (d->blob, job->parallel, write_done, &cs);
  if (!w) {
    free (buf);
    return -1;
  }
  p = progress_new (job, i, jd->size);
  if (d->have_changed) {
    r = copy_changed (job, d, &cs, w, p);
    stopped = r == 1;
    r = r == -1 ? -1 : 0;
    scanned = stopped ? 0 : jd->size;
  }
  for (uint64_t off = 0; !d->have_changed && off < jd->size; off += CHUNK) {
    bool skip;
    uint64_t end = jd->size - off < CHUNK ? jd->size : off + CHUNK;

    if (job->stop && *job->stop) {
      stopped = true;
      break;
    }
    pthread_mutex_lock (&cs.lock);
    rangelist_normalize (&jd->done);
    skip = rangelist_covers (&jd->done, off, end);
    pthread_mutex_unlock (&cs.lock);
    if (!buf && !(buf = malloc (CHUNK))) {
      azp_error ("out of memory");
      r = -1;
      break;
    }
    if (!skip && do_chunk (job, d, &cs, w, d->src, off, end - off, &buf,
                           use_bitmap) == -1) {
      r = -1;
      break;
    }
    if (p) {
      pthread_mutex_lock (&cs.lock);
      uint64_t sent = cs.sent;
      pthread_mutex_unlock (&cs.lock);
      progress_update (p, end, jd->cycle_bytes + sent, false);
    }
    scanned = end;
    if (time (NULL) - last_save >= 2) {
      pthread_mutex_lock (&cs.lock);
      jd->cycle_bytes += cs.sent;
      jd->bytes_sent += cs.sent;
      cs.sent = 0;
      pthread_mutex_unlock (&cs.lock);
      if (save_progress (job, &cs, d) == -1) {
        r = -1;
        break;
      }
      last_save = time (NULL);
    }
  }
  fr = blob_writer_finish (w);
  if (fr == -1)
    r = -1;
  report_stages (&cs, d);
  jd->cycle_bytes += cs.sent;
  jd->bytes_sent += cs.sent;
  if (p) {
    progress_update (p, r == 0 && !stopped ? jd->size : scanned,
                     jd->cycle_bytes, true);
    progress_free (p);
  }
  if (save_progress (job, &cs, d) == -1)
    r = -1;
  pthread_mutex_destroy (&cs.lock);
  free (buf);
  return r == 0 && stopped ? 1 : r;
}
