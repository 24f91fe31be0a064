/* The per-block manifest (see manifest.h). */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "prep/common/common.h"
#include "replicate/engine/manifest.h"

#define MANIFEST_PAGE 512           /* a page of the remote copy */

struct manifest {
  char *path;
  int fd;
  unsigned char *map;
  size_t len;
  /* A remote copy (a page blob in a state container): one byte per
   * MANIFEST_PAGE, set when an entry there changes, cleared (atomically,
   * before the page is read) when it is uploaded, so an entry set while
   * uploading marks its page again. */
  unsigned char *dirty;
  pthread_mutex_t hint;         /* the dirty pages are in [lo, hi) */
  size_t lo, hi;
  manifest_put_fn put;
  void *opaque;
};

static const unsigned char unknown[MANIFEST_ENTRY] = {
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

struct manifest *
manifest_open (const char *path, uint64_t size)
{
  struct manifest *m = calloc (1, sizeof *m);
  uint64_t n = (size + MANIFEST_BLOCK - 1) / MANIFEST_BLOCK;
  struct stat st;

  if (!m || !(m->path = xstrdup (path))) {
    free (m);
    return NULL;
  }
  m->fd = -1;
  m->len = n * MANIFEST_ENTRY;
  m->fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m->fd == -1) {
    azp_error ("manifest %s: %m", path);
    goto fail;
  }
  if (fstat (m->fd, &st) == -1) {
    azp_error ("manifest %s: %m", path);
    goto fail;
  }
  if ((uint64_t) st.st_size != m->len) {
    if (st.st_size != 0) {
      azp_error ("manifest %s: wrong size for this disk (move it away, and the "
                 "journal with it, to start over)", path);
      goto fail;
    }
    if (ftruncate (m->fd, m->len) == -1) {
      azp_error ("manifest %s: %m", path);
      goto fail;
    }
  }
  m->map = mmap (NULL, m->len, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
  if (m->map == MAP_FAILED) {
    m->map = NULL;
    azp_error ("manifest %s: mmap: %m", path);
    goto fail;
  }
  return m;
 fail:
  manifest_close (m);
  return NULL;
}

int
manifest_sync (struct manifest *m)
{
  if (msync (m->map, m->len, MS_SYNC) == -1) {
    azp_error ("manifest %s: msync: %m", m->path);
    return -1;
  }
  return manifest_push (m);
}

/* Page p of the remote copy changed. */
static void
mark (struct manifest *m, size_t p)
{
  pthread_mutex_lock (&m->hint);
  __atomic_store_n (&m->dirty[p], 1, __ATOMIC_RELEASE);
  if (p < m->lo)
    m->lo = p;
  if (p + 1 > m->hi)
    m->hi = p + 1;
  pthread_mutex_unlock (&m->hint);
}

size_t
manifest_remote_size (uint64_t size)
{
  uint64_t n = (size + MANIFEST_BLOCK - 1) / MANIFEST_BLOCK;
  return (n * MANIFEST_ENTRY + MANIFEST_PAGE - 1) / MANIFEST_PAGE
    * MANIFEST_PAGE;
}

unsigned char *
manifest_map (struct manifest *m, size_t *len)
{
  *len = m->len;
  return m->map;
}

int
manifest_set_remote (struct manifest *m, manifest_put_fn put, void *opaque)
{
  free (m->dirty);
  m->dirty = calloc (manifest_remote_size (m->len / MANIFEST_ENTRY *
                                           MANIFEST_BLOCK) / MANIFEST_PAGE,
                     1);
  if (!m->dirty) {
    azp_error ("out of memory");
    return -1;
  }
  pthread_mutex_init (&m->hint, NULL);
  m->lo = SIZE_MAX;
  m->hi = 0;
  m->put = put;
  m->opaque = opaque;
  return 0;
}

int
manifest_push (struct manifest *m)
{
  size_t np, lo;
  unsigned char page[MANIFEST_PAGE * 64];

  if (!m->put)
    return 0;
  pthread_mutex_lock (&m->hint);
  lo = m->lo;
  np = m->hi;
  m->lo = SIZE_MAX;
  m->hi = 0;
  pthread_mutex_unlock (&m->hint);
  for (size_t p = lo; p < np; ) {
    size_t q = p, len;
    while (q < np && q - p < 64 && __atomic_exchange_n (&m->dirty[q], 0,
                                                        __ATOMIC_ACQ_REL))
      q++;
    if (q == p) {
      p++;
      continue;
    }
    /* The map's tail may end inside the last page: zeros beyond. */
    memset (page, 0, sizeof page);
    len = (q - p) * MANIFEST_PAGE;
    memcpy (page, m->map + p * MANIFEST_PAGE,
            p * MANIFEST_PAGE + len > m->len ? m->len - p * MANIFEST_PAGE
            : len);
    if (m->put (m->opaque, p * MANIFEST_PAGE, page, len) == -1) {
      for (size_t k = p; k < np; k++)
        if (k < q || m->dirty[k])
          mark (m, k);
      return -1;
    }
    p = q;
  }
  return 0;
}

void
manifest_close (struct manifest *m)
{
  if (!m)
    return;
  if (m->dirty)
    pthread_mutex_destroy (&m->hint);
  free (m->dirty);
  if (m->map)
    munmap (m->map, m->len);
  if (m->fd >= 0)
    close (m->fd);
  free (m->path);
  free (m);
}

bool
manifest_equal (const struct manifest *m, uint64_t b,
                const unsigned char d[MANIFEST_ENTRY])
{
  return memcmp (m->map + b * MANIFEST_ENTRY, d, MANIFEST_ENTRY) == 0;
}

void
manifest_set (struct manifest *m, uint64_t b,
              const unsigned char d[MANIFEST_ENTRY])
{
  memcpy (m->map + b * MANIFEST_ENTRY, d, MANIFEST_ENTRY);
  if (m->dirty)
    mark (m, b * MANIFEST_ENTRY / MANIFEST_PAGE);
}

void
manifest_set_unknown (struct manifest *m, uint64_t b)
{
  manifest_set (m, b, unknown);
}

bool
is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;
  /* The first 16 bytes, then memcmp against itself shifted. */
  for (size_t i = 0; i < 16 && i < len; i++)
    if (p[i])
      return false;
  return len <= 16 || memcmp (p, p + 16, len - 16) == 0;
}

void
manifest_digest (const void *block, size_t len, bool zero,
                 unsigned char d[MANIFEST_ENTRY])
{
  unsigned char full[EVP_MAX_MD_SIZE];
  unsigned int dl = 0;
  if (zero) {
    memset (d, 0, MANIFEST_ENTRY);
    return;
  }
  /* SHA-256 (hardware-accelerated on current CPUs, twice MD5's speed),
   * truncated to 128 bits.
   */
  EVP_Digest (block, len, full, &dl, EVP_sha256 (), NULL);
  memcpy (d, full, MANIFEST_ENTRY);
}
