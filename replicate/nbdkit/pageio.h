/* replicate/nbdkit: the nbdkit-azblob plugin, which serves a page blob
 * as a block device, and its page layer.
 *
 * A page blob holding a fixed VHD seen as a block device: the device
 * is the blob without its last 512 bytes (the footer, which the guest
 * never touches); reads become ranged reads, writes become Put Page
 * (512-aligned, at most 4 MiB each, read-modify-write at unaligned
 * edges), zeroing becomes Put Page clear.  Aligned writes are gathered
 * (write-back) in one window of up to 4 MiB and sent as one Put Page per
 * run of written pages, so that a guest's 4 KiB writes do not each cost
 * a request: the window is sent at pageio_flush, before any other
 * operation that touches it, and when a write falls outside it; a Put
 * Page of the window that fails fails that operation and every later
 * flush and write (the blob has lost an acknowledged write).  The I/O
 * itself is a table of
 * operations (the blob client in the nbdkit plugin, memory in the unit
 * test), so this part is pure and tested alone.
 */
#ifndef AZPREP_PAGEIO_H
#define AZPREP_PAGEIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define PAGEIO_PAGE 512
#define PAGEIO_MAX_PUT (4 * 1024 * 1024)

struct pageio_ops {
  /* Read [offset, offset + count) of the blob.  0 or -1 (reported). */
  int (*read) (void *h, void *buf, uint64_t count, uint64_t offset);
  /* Put Page update; offset and count 512-aligned, count <= 4 MiB. */
  int (*write) (void *h, const void *buf, uint64_t count, uint64_t offset);
  /* Put Page clear; the same alignment. */
  int (*clear) (void *h, uint64_t count, uint64_t offset);
};

struct pageio {
  const struct pageio_ops *ops;
  void *h;
  uint64_t size;               /* device size: blob size - 512 */
  /* Unaligned writes read and rewrite whole pages: they exclude every
   * other write while they do. */
  pthread_rwlock_t lock;
  /* The write-back window: wb_dirty[i] when page i of
   * [wb_start, wb_start + 4 MiB) holds a write not yet sent. */
  pthread_mutex_t wb_lock;
  char *wb_buf;
  uint64_t wb_start;
  unsigned char wb_dirty[PAGEIO_MAX_PUT / PAGEIO_PAGE];
  bool wb_any;
  bool wb_failed;              /* an acknowledged write was lost */
  /* Counters (bytes that crossed the network, requests; the writes the
   * client sent, and the errors of gathered writes). */
  uint64_t bytes_read, bytes_written, bytes_cleared;
  uint64_t reads, writes, clears;
  uint64_t client_writes, write_errors;
  pthread_mutex_t stats_lock;
};

/* blob_size: the whole blob, footer included; a multiple of 512 and at
 * least 1024.  0 or -1 (reported). */
int pageio_init (struct pageio *p, const struct pageio_ops *ops, void *h,
                 uint64_t blob_size);
void pageio_destroy (struct pageio *p);

/* Device I/O; the range must lie within p->size.  0 or -1 with errno
 * set (EIO from the operations, ENOSPC out of range). */
int pageio_pread (struct pageio *p, void *buf, uint64_t count,
                  uint64_t offset);
int pageio_pwrite (struct pageio *p, const void *buf, uint64_t count,
                   uint64_t offset);
int pageio_zero (struct pageio *p, uint64_t count, uint64_t offset);
/* Send the gathered writes.  0, or -1 with errno EIO if one was ever
 * lost. */
int pageio_flush (struct pageio *p);

#endif
