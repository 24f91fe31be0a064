/* One replication cycle of one disk: scan the source in 4 MiB chunks
 * (block status skips holes; a bitmap, when trusted, skips clean
 * chunks), digest each 64 KiB block, and send the runs of blocks whose
 * digest differs from the manifest (what the blob holds): data with Put
 * Page, zeros with a clear (or zero data on a managed disk).  The
 * initial copy is the same thing against a fresh blob, whose manifest is
 * all zeros.
 */
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "prep/common/common.h"
#include "replicate/engine/replicate.h"

#define BPC (CHUNK / MANIFEST_BLOCK)      /* blocks per chunk */

struct chunk {
  uint64_t off, len;
  int outstanding;            /* writes in flight + 1 while submitting */
};

struct cstate {
  pthread_mutex_t lock;
  struct jdisk *jd;
  struct manifest *man;
  uint64_t sent;              /* data bytes written this run */
};

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
static int
send_run (struct job *job, struct rdisk *d, struct cstate *cs,
          struct blob_writer *w, struct chunk *c, const unsigned char *buf,
          unsigned char (*dig)[MANIFEST_ENTRY], size_t b0, size_t b1,
          bool zero)
{
  uint64_t off = c->off + b0 * MANIFEST_BLOCK;
  size_t len = (b1 - b0) * MANIFEST_BLOCK;
  bool clear = zero && !d->jd->managed;
  struct tag *t = malloc (sizeof *t);
  void *data = NULL;

  if (!t) {
    azp_error ("out of memory");
    return -1;
  }
  t->chunk = c;
  t->clear = clear;
  memcpy (t->digests, dig + b0, (b1 - b0) * MANIFEST_ENTRY);
  if (!clear) {
    data = malloc (len);
    if (!data) {
      free (t);
      azp_error ("out of memory");
      return -1;
    }
    memcpy (data, buf + b0 * MANIFEST_BLOCK, len);
  }
  pthread_mutex_lock (&cs->lock);
  c->outstanding++;
  pthread_mutex_unlock (&cs->lock);
  if (blob_writer_put (w, off, data, len, t) == -1) {
    pthread_mutex_lock (&cs->lock);
    c->outstanding--;
    pthread_mutex_unlock (&cs->lock);
    free (t);
    return -1;
  }
  return 0;
}

static int
do_chunk (struct job *job, struct rdisk *d, struct cstate *cs,
          struct blob_writer *w, uint64_t off, unsigned char *buf,
          bool use_bitmap)
{
  struct jdisk *jd = d->jd;
  uint64_t len = jd->size - off < CHUNK ? jd->size - off : CHUNK;
  uint64_t ssize = source_size (d->src);
  uint64_t rlen = off >= ssize ? 0 : (ssize - off < len ? ssize - off : len);
  struct extents e = { { 0 } };
  unsigned char dig[BPC][MANIFEST_ENTRY];
  bool zero[BPC], want[BPC], changed[BPC];
  struct chunk *c;
  size_t nb = len / MANIFEST_BLOCK, b0;
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
    if (source_dirty (d->src, off, rlen, dirty_cb, &dirty) == -1)
      return -1;
    if (!dirty)
      goto done_clean;       /* nothing changed here since the bitmap began */
  }
  if (rlen > 0 && source_extents (d->src, off, rlen, extent_cb, &e) == -1)
    goto out;
  if (d->have_changed && restrict_to (&e.data, want, off, nb) == -1)
    goto out;
  if (e.data.n > 0) {
    memset (buf, 0, len);
    for (size_t i = 0; i < e.data.n; i++)
      if (source_pread (d->src, buf + (e.data.r[i].start - off),
                        e.data.r[i].end - e.data.r[i].start,
                        e.data.r[i].start) == -1)
        goto out;
  }
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
    manifest_digest (buf + k * MANIFEST_BLOCK, MANIFEST_BLOCK, zero[k],
                     dig[k]);
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
      if (send_run (job, d, cs, w, c, buf, dig, b0, k, zero[b0]) == -1) {
        pthread_mutex_lock (&cs->lock);
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
  for (uint64_t off = 0; off < jd->size; off += CHUNK) {
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
    if (!skip && do_chunk (job, d, &cs, w, off, buf, use_bitmap) == -1) {
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
