/* The per-block manifest (see manifest.h). */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "prep/common/common.h"
#include "replicate/engine/manifest.h"

struct manifest {
  char *path;
  int fd;
  unsigned char *map;
  size_t len;
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
  return 0;
}

void
manifest_close (struct manifest *m)
{
  if (!m)
    return;
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
