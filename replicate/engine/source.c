/* Source disks: a local raw image read directly (pread, SEEK_DATA),
 * other local images through qemu-nbd, any NBD URI.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <libnbd.h>

#include "prep/common/common.h"
#include "prep/common/image.h"
#include "prep/common/json.h"
#include "replicate/engine/source.h"

struct source {
  struct nbd_handle *nbd;     /* NULL: a raw file read directly */
  int fd;                     /* the raw file, or -1 */
  uint64_t file_size;         /* its bytes (size is rounded up to 512) */
  char *name;
  char *uri;             /* an NBD URI source: where to connect again */
  char *bitmap_ctx;      /* "qemu:dirty-bitmap:NAME" or NULL */
  uint64_t size;
  bool can_status, has_bitmap;
};

/* A raw image needs no NBD server between the file and us: one copy
 * through a socket and a server process less per byte.  The size is
 * rounded up to 512 as qemu-nbd exposes it; the tail reads as zeros.
 */
static struct source *
source_open_raw (const char *path)
{
  struct source *s = calloc (1, sizeof *s);
  off_t end;

  if (!s) {
    azp_error ("out of memory");
    return NULL;
  }
  s->fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (s->fd == -1) {
    azp_error ("%s: %m", path);
    free (s);
    return NULL;
  }
  end = lseek (s->fd, 0, SEEK_END);
  s->name = xstrdup (path);
  if (end == -1 || !s->name) {
    if (end == -1)
      azp_error ("%s: %m", path);
    source_close (s);
    return NULL;
  }
  s->file_size = end;
  s->size = (s->file_size + 511) / 512 * 512;
  s->can_status = true;
  posix_fadvise (s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  azp_debug ("%s: raw, read directly", path);
  return s;
}

static struct source *
source_connect (const char *name, const char *bitmap_ctx,
                int (*connect) (struct nbd_handle *, void *), void *arg)
{
  struct source *s = calloc (1, sizeof *s);
  int64_t size;

  if (!s) {
    azp_error ("out of memory");
    return NULL;
  }
  s->fd = -1;
  s->name = xstrdup (name);
  s->bitmap_ctx = bitmap_ctx ? xstrdup (bitmap_ctx) : NULL;
  s->nbd = nbd_create ();
  if (!s->name || (bitmap_ctx && !s->bitmap_ctx) || !s->nbd)
    goto fail;
  if (nbd_add_meta_context (s->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1 ||
      (bitmap_ctx && nbd_add_meta_context (s->nbd, bitmap_ctx) == -1) ||
      connect (s->nbd, arg) == -1) {
    azp_error ("%s: %s", name, nbd_get_error ());
    goto fail;
  }
  size = nbd_get_size (s->nbd);
  if (size < 0) {
    azp_error ("%s: %s", name, nbd_get_error ());
    goto fail;
  }
  s->size = size;
  s->can_status =
    nbd_can_meta_context (s->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  s->has_bitmap = bitmap_ctx && nbd_can_meta_context (s->nbd, bitmap_ctx) == 1;
  if (bitmap_ctx && !s->has_bitmap)
    azp_warning ("%s: the dirty bitmap %s is not available; every changed "
                 "chunk is found by comparison instead", name, bitmap_ctx);
  return s;
 fail:
  source_close (s);
  return NULL;
}

static int
connect_argv (struct nbd_handle *nbd, void *arg)
{
  return nbd_connect_systemd_socket_activation (nbd, arg);
}

static int
connect_uri (struct nbd_handle *nbd, void *arg)
{
  return nbd_connect_uri (nbd, arg);
}

/* qemu-img info --output=json of path (cJSON, caller deletes). */
static cJSON *
image_info (const char *path)
{
  const char *argv[] = { "qemu-img", "info", "--output=json", "-U", "--",
                         path, NULL };
  CLEANUP_FREE char *out = NULL, *err = NULL;
  cJSON *j;
  int r = run_command_full (&out, &err, argv);

  if (r != 0) {
    CLEANUP_FREE char *l = err ? first_line (err) : NULL;
    azp_error ("%s: cannot read the image: %s", path,
               l && *l ? l : "qemu-img info failed");
    return NULL;
  }
  j = cJSON_Parse (out);
  if (!j)
    azp_error ("%s: qemu-img info: unexpected output", path);
  return j;
}

char **
source_list_bitmaps (const char *path)
{
  CLEANUP_CJSON cJSON *j = image_info (path);
  cJSON *b, *e;
  char **list;
  size_t n = 0;

  if (!j)
    return NULL;
  b = cJSON_GetObjectItem (cJSON_GetObjectItem (
        cJSON_GetObjectItem (j, "format-specific"), "data"), "bitmaps");
  list = calloc (cJSON_GetArraySize (b) + 1, sizeof *list);
  if (!list)
    return NULL;
  cJSON_ArrayForEach (e, b)
    if (json_str (e, "name") && (list[n] = strdup (json_str (e, "name"))))
      n++;
  return list;
}

struct source *
source_open_local (const char *path, const char *format, const char *bitmap)
{
  CLEANUP_FREE char *fmtopt = NULL, *ctx = NULL;
  CLEANUP_FREE char *fmt_detected = NULL, *image = NULL;
  const char *argv[12];
  size_t n = 0;

  if (access (path, R_OK) == -1) {
    azp_error ("%s: %m", path);
    return NULL;
  }
  if (!format) {
    CLEANUP_CJSON cJSON *j = image_info (path);
    if (!j)
      return NULL;
    if (json_str (j, "format"))
      fmt_detected = xstrdup (json_str (j, "format"));
    if (!fmt_detected) {
      azp_error ("%s: cannot tell the image format (give --format)", path);
      return NULL;
    }
    /* Read from the file's own bytes, which a guest may have written:
     * nothing it names is read (prep/common/image.c), and qemu-nbd
     * opens it with no backing file. */
    {
      CLEANUP_FREE char *why = image_local_refuse (j, path);
      if (why) {
        azp_error ("%s", why);
        return NULL;
      }
    }
    format = fmt_detected;
    if (strcmp (format, "raw") == 0 && !bitmap)
      return source_open_raw (path);
    image = image_no_backing (format, path, 0, -1);
    if (!image)
      return NULL;
  }
  else if (strcmp (format, "raw") == 0 && !bitmap)
    return source_open_raw (path);
  else {
    fmtopt = xasprintf ("--format=%s", format);
    if (!fmtopt)
      return NULL;
  }
  argv[n++] = "qemu-nbd";
  argv[n++] = "--read-only";
  if (fmtopt)
    argv[n++] = fmtopt;
  argv[n++] = "--shared=4";
  argv[n++] = "--cache=writethrough";
  if (bitmap) {
    argv[n++] = "-B";
    argv[n++] = bitmap;
    ctx = xasprintf ("qemu:dirty-bitmap:%s", bitmap);
    if (!ctx)
      return NULL;
  }
  argv[n++] = "--";
  argv[n++] = image ? image : path;
  argv[n] = NULL;
  return source_connect (path, ctx, connect_argv, (void *) argv);
}

struct source *
source_open_nbd (const char *uri, const char *bitmap)
{
  struct source *s = source_connect (uri, bitmap, connect_uri, (void *) uri);

  if (s && !(s->uri = xstrdup (uri))) {
    source_close (s);
    return NULL;
  }
  return s;
}

struct source *
source_clone (const struct source *s)
{
  struct source *c;

  if (!s->uri)
    return NULL;
  c = source_open_nbd (s->uri, s->has_bitmap ? s->bitmap_ctx : NULL);
  if (c && source_set_name (c, s->name) == -1) {
    source_close (c);
    return NULL;
  }
  return c;
}

void
source_close (struct source *s)
{
  if (!s)
    return;
  if (s->nbd) {
    nbd_shutdown (s->nbd, 0);
    nbd_close (s->nbd);
  }
  if (s->fd >= 0)
    close (s->fd);
  free (s->name);
  free (s->uri);
  free (s->bitmap_ctx);
  free (s);
}

const char *
source_name (const struct source *s)
{
  return s->name;
}

int
source_set_name (struct source *s, const char *name)
{
  char *n = xstrdup (name);

  if (!n)
    return -1;
  free (s->name);
  s->name = n;
  return 0;
}

uint64_t
source_size (const struct source *s)
{
  return s->size;
}

bool
source_has_bitmap (const struct source *s)
{
  return s->has_bitmap;
}

static int
raw_pread (struct source *s, unsigned char *buf, size_t count,
           uint64_t offset)
{
  while (count > 0) {
    ssize_t r;
    if (offset >= s->file_size) {
      memset (buf, 0, count);       /* the tail up to the 512 boundary */
      return 0;
    }
    r = pread (s->fd, buf, count, offset);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        azp_error ("%s: read at %" PRIu64 ": the file is shorter than "
                   "when it was opened", s->name, offset);
      else
        azp_error ("%s: read at %" PRIu64 ": %m", s->name, offset);
      return -1;
    }
    buf += r;
    count -= r;
    offset += r;
  }
  return 0;
}

/* Extents of the raw file from SEEK_DATA/SEEK_HOLE (all data where the
 * file system cannot tell). */
static int
raw_extents (struct source *s, uint64_t offset, uint64_t len,
             source_extent_fn f, void *opaque)
{
  uint64_t pos = offset, end = offset + len;

  while (pos < end) {
    off_t d, h;
    if (pos >= s->file_size)
      return f (opaque, pos, end - pos, true);
    d = lseek (s->fd, pos, SEEK_DATA);
    if (d == -1 && errno == ENXIO)
      d = s->file_size;                   /* a hole to the end */
    else if (d == -1)
      return f (opaque, pos, end - pos, false);
    if ((uint64_t) d > pos) {
      uint64_t e = (uint64_t) d < end ? (uint64_t) d : end;
      if (f (opaque, pos, e - pos, true) == -1)
        return -1;
      pos = e;
      continue;
    }
    h = lseek (s->fd, pos, SEEK_HOLE);
    if (h == -1 || (uint64_t) h <= pos)
      h = s->file_size;
    if ((uint64_t) h > end)
      h = end;
    if (f (opaque, pos, h - pos, false) == -1)
      return -1;
    pos = h;
  }
  return 0;
}

int
source_pread (struct source *s, void *buf, size_t count, uint64_t offset)
{
  if (!s->nbd)
    return raw_pread (s, buf, count, offset);
  if (nbd_pread (s->nbd, buf, count, offset, 0) == -1) {
    azp_error ("%s: read at %" PRIu64 ": %s", s->name, offset,
               nbd_get_error ());
    return -1;
  }
  return 0;
}

struct status_ctx {
  const char *want;
  uint32_t mask;        /* flag bits that make "flag" true */
  bool invert;          /* flag = !(flags & mask) */
  uint64_t pos, end;
  source_extent_fn f;
  void *opaque;
  int err;
};

static int
status_cb (void *opaque, const char *metacontext, uint64_t offset,
           uint32_t *entries, size_t nr, int *error_)
{
  struct status_ctx *c = opaque;

  if (strcmp (metacontext, c->want) != 0 || c->err)
    return 0;
  if (offset != c->pos) {
    c->err = -1;
    return 0;
  }
  for (size_t i = 0; i + 1 < nr && c->pos < c->end; i += 2) {
    uint64_t len = entries[i];
    bool flag = (entries[i + 1] & c->mask) != 0;
    if (c->invert)
      flag = !flag;
    if (len == 0) {
      c->err = -1;
      return 0;
    }
    if (len > c->end - c->pos)
      len = c->end - c->pos;
    if (c->f (c->opaque, c->pos, len, flag) == -1) {
      c->err = -2;
      return 0;
    }
    c->pos += len;
  }
  return 0;
}

static int
walk (struct source *s, const char *ctx, uint32_t mask, bool invert,
      bool fallback_flag, uint64_t offset, uint64_t len, source_extent_fn f,
      void *opaque)
{
  struct status_ctx c = { ctx, mask, invert, offset, offset + len, f, opaque,
                          0 };

  if (!ctx || !s->nbd || nbd_can_meta_context (s->nbd, ctx) != 1)
    return f (opaque, offset, len, fallback_flag);
  while (c.pos < c.end) {
    uint64_t before = c.pos, n = c.end - c.pos;
    if (n > (1ULL << 30))
      n = 1ULL << 30;
    if (nbd_block_status (s->nbd, n, c.pos,
                          (nbd_extent_callback) { .callback = status_cb,
                                                  .user_data = &c }, 0) == -1) {
      azp_error ("%s: block status at %" PRIu64 ": %s", s->name, c.pos,
                 nbd_get_error ());
      return -1;
    }
    if (c.err == -2)
      return -1;
    if (c.err || c.pos == before) {
      azp_error ("%s: the NBD server sent a bad block status reply at %" PRIu64,
                 s->name, before);
      return -1;
    }
  }
  return 0;
}

int
source_extents (struct source *s, uint64_t offset, uint64_t len,
                source_extent_fn f, void *opaque)
{
  if (!s->nbd)
    return raw_extents (s, offset, len, f, opaque);
  return walk (s, LIBNBD_CONTEXT_BASE_ALLOCATION, LIBNBD_STATE_ZERO, false,
               false, offset, len, f, opaque);
}

int
source_dirty (struct source *s, uint64_t offset, uint64_t len,
              source_extent_fn f, void *opaque)
{
  return walk (s, s->has_bitmap ? s->bitmap_ctx : NULL, 1, false, true,
               offset, len, f, opaque);
}
