/* Block device on a page blob: alignment, the footer, counters.  See
 * pageio.h. */
#include <errno.h>
#include <string.h>

#include "prep/common/common.h"
#include "replicate/nbdkit/pageio.h"

#define ALIGN_DOWN(x) ((x) & ~(uint64_t) (PAGEIO_PAGE - 1))
#define WB_PAGES (PAGEIO_MAX_PUT / PAGEIO_PAGE)
/* A window starts at its first write rounded down to this, so that a
 * write just below it (requests arrive out of order) still fits. */
#define WB_ALIGN (64 * 1024)

int
pageio_init (struct pageio *p, const struct pageio_ops *ops, void *h,
             uint64_t blob_size)
{
  memset (p, 0, sizeof *p);
  if (blob_size % PAGEIO_PAGE || blob_size < 2 * PAGEIO_PAGE) {
    azp_error ("page blob of %llu bytes: not a fixed VHD (a multiple of 512 "
               "with a footer)", (unsigned long long) blob_size);
    return -1;
  }
  p->wb_buf = malloc (PAGEIO_MAX_PUT);
  if (!p->wb_buf) {
    azp_error ("out of memory");
    return -1;
  }
  p->ops = ops;
  p->h = h;
  p->size = blob_size - PAGEIO_PAGE;
  pthread_rwlock_init (&p->lock, NULL);
  pthread_mutex_init (&p->wb_lock, NULL);
  pthread_mutex_init (&p->stats_lock, NULL);
  return 0;
}

void
pageio_destroy (struct pageio *p)
{
  pthread_rwlock_destroy (&p->lock);
  pthread_mutex_destroy (&p->wb_lock);
  pthread_mutex_destroy (&p->stats_lock);
  free (p->wb_buf);
  p->wb_buf = NULL;
}

static void
count (struct pageio *p, uint64_t *bytes, uint64_t *requests, uint64_t n)
{
  pthread_mutex_lock (&p->stats_lock);
  *bytes += n;
  (*requests)++;
  pthread_mutex_unlock (&p->stats_lock);
}

/* Never past the device: the footer stays the replicator's. */
static int
in_range (struct pageio *p, uint64_t count, uint64_t offset)
{
  if (offset > p->size || count > p->size - offset) {
    errno = ENOSPC;
    return 0;
  }
  return 1;
}

/* Read [offset, offset + n) into rbuf, or write it from wbuf (when
 * not NULL), in requests of at most 4 MiB. */
static int
transfer (struct pageio *p, char *rbuf, const char *wbuf, uint64_t n,
          uint64_t offset)
{
  while (n > 0) {
    uint64_t c = n > PAGEIO_MAX_PUT ? PAGEIO_MAX_PUT : n;
    int r = wbuf ? p->ops->write (p->h, wbuf, c, offset)
      : p->ops->read (p->h, rbuf, c, offset);
    if (r == -1) {
      errno = EIO;
      return -1;
    }
    if (wbuf) {
      count (p, &p->bytes_written, &p->writes, c);
      wbuf += c;
    }
    else {
      count (p, &p->bytes_read, &p->reads, c);
      rbuf += c;
    }
    offset += c;
    n -= c;
  }
  return 0;
}

/* Send the window's runs of written pages, one Put Page each; with
 * wb_lock held.  The window is empty afterwards, sent or lost. */
static int
wb_push (struct pageio *p)
{
  int r = 0;

  for (size_t i = 0, j; p->wb_any && i < WB_PAGES; i = j) {
    if (!p->wb_dirty[i]) {
      j = i + 1;
      continue;
    }
    for (j = i; j < WB_PAGES && p->wb_dirty[j]; j++)
      ;
    if (r == 0 &&
        transfer (p, NULL, p->wb_buf + i * PAGEIO_PAGE,
                  (j - i) * PAGEIO_PAGE,
                  p->wb_start + i * PAGEIO_PAGE) == -1)
      r = -1;
  }
  memset (p->wb_dirty, 0, sizeof p->wb_dirty);
  p->wb_any = false;
  if (r == -1) {
    azp_error ("a Put Page of acknowledged writes at %llu failed: the "
               "blob lost them", (unsigned long long) p->wb_start);
    p->wb_failed = true;
    pthread_mutex_lock (&p->stats_lock);
    p->write_errors++;
    pthread_mutex_unlock (&p->stats_lock);
    errno = EIO;
  }
  return r;
}

/* Send the window first if [offset, offset + n) touches it (a read,
 * a zero or an unaligned write after a gathered write sees it). */
static int
wb_settle (struct pageio *p, uint64_t n, uint64_t offset)
{
  int r = 0;

  pthread_mutex_lock (&p->wb_lock);
  if (p->wb_any && offset < p->wb_start + PAGEIO_MAX_PUT &&
      offset + n > p->wb_start)
    r = wb_push (p);
  pthread_mutex_unlock (&p->wb_lock);
  return r;
}

/* Gather an aligned write into the window (sending the window first
 * if the write does not fit in it).  1 gathered, 0 too large to gather
 * (write it now), -1 error. */
static int
wb_gather (struct pageio *p, const char *buf, uint64_t n, uint64_t offset)
{
  int r = 1;

  pthread_mutex_lock (&p->wb_lock);
  if (p->wb_failed) {
    errno = EIO;
    r = -1;
    goto out;
  }
  if (p->wb_any && (offset < p->wb_start ||
                    offset + n > p->wb_start + PAGEIO_MAX_PUT) &&
      wb_push (p) == -1) {
    r = -1;
    goto out;
  }
  if (!p->wb_any) {
    p->wb_start = offset - offset % WB_ALIGN;
    if (offset + n > p->wb_start + PAGEIO_MAX_PUT)
      p->wb_start = offset;
    if (n > PAGEIO_MAX_PUT) {
      r = 0;
      goto out;
    }
  }
  memcpy (p->wb_buf + (offset - p->wb_start), buf, n);
  memset (p->wb_dirty + (offset - p->wb_start) / PAGEIO_PAGE, 1,
          n / PAGEIO_PAGE);
  p->wb_any = true;
 out:
  pthread_mutex_unlock (&p->wb_lock);
  return r;
}

int
pageio_flush (struct pageio *p)
{
  int r;

  pthread_mutex_lock (&p->wb_lock);
  r = p->wb_failed ? -1 : wb_push (p);
  pthread_mutex_unlock (&p->wb_lock);
  if (r == -1)
    errno = EIO;
  return r;
}

/* Write n < 512 bytes (buf, or zeros if buf is NULL) at offset within
 * one page: read the page, merge, write it back.  Called with the
 * write lock held. */
static int
rmw_page (struct pageio *p, const char *buf, uint64_t n, uint64_t offset)
{
  char page[PAGEIO_PAGE];
  uint64_t start = ALIGN_DOWN (offset);

  if (transfer (p, page, NULL, PAGEIO_PAGE, start) == -1)
    return -1;
  if (buf)
    memcpy (page + (offset - start), buf, n);
  else
    memset (page + (offset - start), 0, n);
  return transfer (p, NULL, page, PAGEIO_PAGE, start);
}

int
pageio_pread (struct pageio *p, void *buf, uint64_t n, uint64_t offset)
{
  if (!in_range (p, n, offset) || wb_settle (p, n, offset) == -1)
    return -1;
  return transfer (p, buf, NULL, n, offset);
}

/* Write or zero (buf NULL) [offset, offset + n): unaligned edges by
 * read-modify-write under the exclusive lock, the aligned middle as
 * Put Page update or clear. */
static int
write_or_zero (struct pageio *p, const char *buf, uint64_t n, uint64_t offset)
{
  bool aligned = offset % PAGEIO_PAGE == 0 && n % PAGEIO_PAGE == 0;
  int r = -1;

  if (!in_range (p, n, offset))
    return -1;
  if (aligned)
    pthread_rwlock_rdlock (&p->lock);
  else
    pthread_rwlock_wrlock (&p->lock);
  if (buf && aligned && n > 0) {
    r = wb_gather (p, buf, n, offset);
    if (r != 0) {
      r = r == 1 ? 0 : -1;
      goto out;
    }
    r = -1;
  }
  else if (wb_settle (p, n, offset) == -1)
    goto out;

  if (offset % PAGEIO_PAGE) {
    uint64_t head = PAGEIO_PAGE - offset % PAGEIO_PAGE;
    if (head > n)
      head = n;
    if (rmw_page (p, buf, head, offset) == -1)
      goto out;
    if (buf)
      buf += head;
    offset += head;
    n -= head;
  }
  if (n >= PAGEIO_PAGE) {
    uint64_t mid = ALIGN_DOWN (n);
    if (buf) {
      if (transfer (p, NULL, buf, mid, offset) == -1)
        goto out;
      buf += mid;
    }
    else {
      if (p->ops->clear (p->h, mid, offset) == -1) {
        errno = EIO;
        goto out;
      }
      count (p, &p->bytes_cleared, &p->clears, mid);
    }
    offset += mid;
    n -= mid;
  }
  if (n > 0 && rmw_page (p, buf, n, offset) == -1)
    goto out;
  r = 0;
 out:
  pthread_rwlock_unlock (&p->lock);
  return r;
}

int
pageio_pwrite (struct pageio *p, const void *buf, uint64_t n, uint64_t offset)
{
  pthread_mutex_lock (&p->stats_lock);
  p->client_writes++;
  pthread_mutex_unlock (&p->stats_lock);
  return write_or_zero (p, buf, n, offset);
}

int
pageio_zero (struct pageio *p, uint64_t n, uint64_t offset)
{
  return write_or_zero (p, NULL, n, offset);
}
