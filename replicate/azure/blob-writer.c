/* Parallel page writes: a small pool of worker threads, each sending one
 * request at a time on a pooled (reused) connection.  The queue is
 * bounded, and a write never starts while an overlapping one is queued
 * or in flight, so a retry can never race a newer write of the same
 * pages.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "prep/common/common.h"
#include "replicate/azure/blob-internal.h"

struct item {
  uint64_t offset, len;
  void *buf;                  /* NULL: clear */
  void *tag;
  bool busy;                  /* taken by a worker */
};

struct blob_writer {
  struct blob *b;
  blob_write_done done;
  void *opaque;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct item *items;         /* queued and in flight */
  size_t nitems, cap;
  pthread_t *threads;
  int nthreads;
  bool failed, closing;
};

static bool
overlaps (const struct blob_writer *w, uint64_t off, uint64_t len)
{
  for (size_t i = 0; i < w->nitems; i++)
    if (off < w->items[i].offset + w->items[i].len &&
        w->items[i].offset < off + len)
      return true;
  return false;
}

static void *
worker (void *arg)
{
  struct blob_writer *w = arg;

  pthread_mutex_lock (&w->lock);
  for (;;) {
    struct item it;
    size_t i;
    bool ok = false;

    for (i = 0; i < w->nitems && w->items[i].busy; i++)
      ;
    if (i == w->nitems) {
      if (w->closing)
        break;
      pthread_cond_wait (&w->cond, &w->lock);
      continue;
    }
    w->items[i].busy = true;
    it = w->items[i];
    if (!w->failed) {
      pthread_mutex_unlock (&w->lock);
      ok = (it.buf ? blob_put_page (w->b, it.offset, it.buf, it.len)
            : blob_clear_pages (w->b, it.offset, it.len)) == 0;
      free (it.buf);
      if (w->done)
        w->done (w->opaque, it.tag, it.offset, it.len, ok);
      pthread_mutex_lock (&w->lock);
    }
    else {
      free (it.buf);
      if (w->done) {
        pthread_mutex_unlock (&w->lock);
        w->done (w->opaque, it.tag, it.offset, it.len, false);
        pthread_mutex_lock (&w->lock);
      }
    }
    if (!ok)
      w->failed = true;
    /* Remove the item (find it again: the array may have moved). */
    for (i = 0; i < w->nitems; i++)
      if (w->items[i].busy && w->items[i].offset == it.offset &&
          w->items[i].len == it.len) {
        w->items[i] = w->items[--w->nitems];
        break;
      }
    pthread_cond_broadcast (&w->cond);
  }
  pthread_mutex_unlock (&w->lock);
  return NULL;
}

struct blob_writer *
blob_writer_new (struct blob *b, int parallel, blob_write_done done,
                 void *opaque)
{
  struct blob_writer *w = calloc (1, sizeof *w);

  if (!w) {
    azp_error ("out of memory");
    return NULL;
  }
  if (parallel < 1)
    parallel = 1;
  w->b = b;
  w->done = done;
  w->opaque = opaque;
  w->cap = parallel + 2;      /* a little read-ahead beyond in-flight */
  w->items = calloc (w->cap, sizeof *w->items);
  w->threads = calloc (parallel, sizeof *w->threads);
  pthread_mutex_init (&w->lock, NULL);
  pthread_cond_init (&w->cond, NULL);
  if (!w->items || !w->threads) {
    azp_error ("out of memory");
    goto fail;
  }
  for (; w->nthreads < parallel; w->nthreads++) {
    int e = pthread_create (&w->threads[w->nthreads], NULL, worker, w);
    if (e) {
      errno = e;
      azp_error ("pthread_create: %m");
      w->failed = true;
      blob_writer_finish (w);
      return NULL;
    }
  }
  return w;
 fail:
  free (w->items);
  free (w->threads);
  free (w);
  return NULL;
}

int
blob_writer_put (struct blob_writer *w, uint64_t offset, void *buf,
                 size_t len, void *tag)
{
  int r = 0;

  pthread_mutex_lock (&w->lock);
  while (!w->failed && (w->nitems == w->cap || overlaps (w, offset, len)))
    pthread_cond_wait (&w->cond, &w->lock);
  if (w->failed) {
    free (buf);
    r = -1;
  }
  else {
    w->items[w->nitems++] = (struct item) { offset, len, buf, tag, false };
    pthread_cond_broadcast (&w->cond);
  }
  pthread_mutex_unlock (&w->lock);
  return r;
}

int
blob_writer_finish (struct blob_writer *w)
{
  int r;

  pthread_mutex_lock (&w->lock);
  w->closing = true;
  pthread_cond_broadcast (&w->cond);
  pthread_mutex_unlock (&w->lock);
  for (int i = 0; i < w->nthreads; i++)
    pthread_join (w->threads[i], NULL);
  r = w->failed ? -1 : 0;
  for (size_t i = 0; i < w->nitems; i++)
    free (w->items[i].buf);
  pthread_mutex_destroy (&w->lock);
  pthread_cond_destroy (&w->cond);
  free (w->items);
  free (w->threads);
  free (w);
  return r;
}
