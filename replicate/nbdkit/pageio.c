/* Block device on a page blob: alignment, the footer, counters.  See
 * pageio.h. */
#include <errno.h>
#include <string.h>

#include "prep/common/common.h"
#include "replicate/nbdkit/pageio.h"

#define ALIGN_DOWN(x) ((x) & ~(uint64_t) (PAGEIO_PAGE - 1))

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
  p->ops = ops;
  p->h = h;
  p->size = blob_size - PAGEIO_PAGE;
  pthread_rwlock_init (&p->lock, NULL);
  pthread_mutex_init (&p->stats_lock, NULL);
  return 0;
}

void
pageio_destroy (struct pageio *p)
{
  pthread_rwlock_destroy (&p->lock);
  pthread_mutex_destroy (&p->stats_lock);
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
  if (!in_range (p, n, offset))
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
  return write_or_zero (p, buf, n, offset);
}

int
pageio_zero (struct pageio *p, uint64_t n, uint64_t offset)
{
  return write_or_zero (p, NULL, n, offset);
}
