/* Reading and writing guest files for fixups: bounded reads, one backup
 * of each original, every change reported.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"

#define BACKUP_SUFFIX ".azprep-orig"
#define SUMMARY_MAX 4096
#define PREAD_CHUNK (1024 * 1024)   /* below the protocol's 4 MiB message */

bool
guest_exists (struct guest *gs, const char *path)
{
  int r;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  r = guestfs_exists (gs->g, path);
  guestfs_pop_error_handler (gs->g);
  return r == 1;
}

/* Is path of this kind (S_IFREG, S_IFDIR)?  stat or lstat in the
 * daemon itself. */
static int
stat_is (guestfs_h *g, const char *path, bool follow, unsigned kind)
{
  struct guestfs_statns *st;
  int r, e;

  guestfs_push_error_handler (g, NULL, NULL);
  st = follow ? guestfs_statns (g, path) : guestfs_lstatns (g, path);
  e = st ? 0 : guestfs_last_errno (g);
  if (!st && e != ENOENT && e != ENOTDIR)
    azp_debug ("%s: %s", path, guestfs_last_error (g));
  guestfs_pop_error_handler (g);
  if (!st)
    return e == ENOENT || e == ENOTDIR ? 0 : -1;
  r = ((unsigned) st->st_mode & S_IFMT) == kind;
  guestfs_free_statns (st);
  return r;
}

int
guest_is_file (guestfs_h *g, const char *path, bool follow)
{
  return stat_is (g, path, follow, S_IFREG);
}

int
guest_is_dir (guestfs_h *g, const char *path, bool follow)
{
  return stat_is (g, path, follow, S_IFDIR);
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

char **
guest_ls (guestfs_h *g, const char *dir)
{
  struct guestfs_dirent_list *l = guestfs_readdir (g, dir);
  char **names;
  size_t n = 0;

  if (!l)
    return NULL;
  names = calloc (l->len + 1, sizeof *names);
  for (size_t i = 0; names && i < l->len; i++) {
    const char *name = l->val[i].name;
    if (!strcmp (name, ".") || !strcmp (name, ".."))
      continue;
    names[n] = strdup (name);
    if (!names[n]) {
      free_string_list (names);
      names = NULL;
      break;
    }
    n++;
  }
  guestfs_free_dirent_list (l);
  if (!names)
    azp_error ("out of memory");
  else
    qsort (names, n, sizeof *names, compare_names);
  return names;
}

/* Read path from offset 0 in chunks of at most PREAD_CHUNK, each given
 * to sink, until size bytes or the end of the file.  The bytes read,
 * or -1 (reported). */
static int64_t
pread_chunks (struct guest *gs, const char *path, uint64_t size,
              int (*sink) (void *opaque, const char *buf, size_t len),
              void *opaque)
{
  uint64_t len = 0;

  while (len < size) {
    uint64_t want = size - len;
    size_t got = 0;
    CLEANUP_FREE char *chunk = NULL;
    if (want > PREAD_CHUNK)
      want = PREAD_CHUNK;
    chunk = guestfs_pread (gs->g, path, (int) want, (int64_t) len, &got);
    if (!chunk) {
      azp_error ("%s: %s", path, guestfs_last_error (gs->g));
      return -1;
    }
    if (got == 0)               /* the file shrank */
      break;
    if (sink (opaque, chunk, got) == -1)
      return -1;
    len += got;
  }
  return (int64_t) len;
}

static int
to_memory (void *opaque, const char *buf, size_t len)
{
  char **end = opaque;
  memcpy (*end, buf, len);
  *end += len;
  return 0;
}

char *
guest_read_file (struct guest *gs, const char *path, size_t max,
                 size_t *len_r)
{
  int64_t size, len;
  char *buf, *end;

  size = guestfs_filesize (gs->g, path);
  if (size == -1) {
    azp_error ("%s: %s", path, guestfs_last_error (gs->g));
    return NULL;
  }
  if ((uint64_t) size > max) {
    azp_error ("%s: file is too large (%lld bytes, limit %zu)", path,
               (long long) size, max);
    return NULL;
  }
  /* pread is one round trip; read_file streams through a download,
   * which costs a few hundred ms per file under TCG. */
  buf = malloc ((size_t) size + 1);
  if (!buf) {
    azp_error ("out of memory");
    return NULL;
  }
  end = buf;
  len = pread_chunks (gs, path, (uint64_t) size, to_memory, &end);
  if (len == -1) {
    free (buf);
    return NULL;
  }
  buf[len] = '\0';
  if (len_r)
    *len_r = (size_t) len;
  return buf;
}

struct fd_sink {
  int fd;
  const char *name;
};

static int
to_fd (void *opaque, const char *buf, size_t len)
{
  const struct fd_sink *s = opaque;
  while (len > 0) {
    ssize_t r = write (s->fd, buf, len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      azp_error ("%s: write: %m", s->name);
      return -1;
    }
    buf += r;
    len -= (size_t) r;
  }
  return 0;
}

int
guest_copy_to_fd (struct guest *gs, const char *path, uint64_t size, int fd,
                  const char *name)
{
  struct fd_sink s = { fd, name };
  return pread_chunks (gs, path, size, to_fd, &s) == -1 ? -1 : 0;
}

/* What a change record says a file held: its text when short and
 * printable, else its size. */
static char *
summarize (const char *content, size_t len)
{
  bool text = len <= SUMMARY_MAX;
  for (size_t i = 0; text && i < len; i++)
    if (content[i] == '\0')
      text = false;
  if (text)
    return strndup (content, len);
  return xasprintf ("(%zu bytes)", len);
}

int
guest_backup_file (struct guest *gs, const char *path)
{
  if (gs->no_backup || !guest_exists (gs, path))
    return 0;
  return guest_backup_present (gs, path);
}

int
guest_backup_present (struct guest *gs, const char *path)
{
  CLEANUP_FREE char *bak = NULL;

  if (gs->no_backup)
    return 0;
  bak = xasprintf ("%s" BACKUP_SUFFIX, path);
  if (!bak)
    return -1;
  if (guest_exists (gs, bak))
    return 0;                   /* keep the first original only */
  if (guestfs_cp_a (gs->g, path, bak) == -1) {
    azp_error ("%s: cannot keep a backup: %s", path,
               guestfs_last_error (gs->g));
    return -1;
  }
  return 0;
}

int
guest_write_file (struct guest *gs, const char *path, const char *content,
                  size_t len)
{
  CLEANUP_FREE char *before = NULL, *old = NULL, *after = NULL;
  size_t oldlen = 0;

  if (guest_exists (gs, path)) {
    old = guest_read_file (gs, path, 64 << 20, &oldlen);
    if (!old)
      return -1;
    if (oldlen == len && !memcmp (old, content, len))
      return 0;
    before = summarize (old, oldlen);
  }
  after = summarize (content, len);
  if (gs->dry_run)
    return report_change (gs->report, "file", path, before, after);
  if ((old ? guest_backup_present (gs, path)
       : guest_backup_file (gs, path)) == -1)
    return -1;
  /* guestfs_write keeps owner and mode of an existing file. */
  if (guestfs_write (gs->g, path, content, len) == -1) {
    azp_error ("%s: cannot write: %s", path, guestfs_last_error (gs->g));
    return -1;
  }
  return report_change (gs->report, "file", path, before, after);
}

int
guest_remove_file (struct guest *gs, const char *path)
{
  CLEANUP_FREE char *before = NULL;
  int is_link;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  is_link = guestfs_is_symlink (gs->g, path);
  guestfs_pop_error_handler (gs->g);
  if (is_link == 1) {
    before = guestfs_readlink (gs->g, path);
    if (!before) {
      azp_error ("%s: %s", path, guestfs_last_error (gs->g));
      return -1;
    }
    if (!gs->dry_run && guestfs_rm (gs->g, path) == -1) {
      azp_error ("%s: cannot remove: %s", path, guestfs_last_error (gs->g));
      return -1;
    }
    return report_change (gs->report, "link", path, before, NULL);
  }
  if (!guest_exists (gs, path))
    return 0;
  {
    size_t len;
    CLEANUP_FREE char *old = guest_read_file (gs, path, 64 << 20, &len);
    if (!old)
      return -1;
    before = summarize (old, len);
  }
  if (!gs->dry_run) {
    CLEANUP_FREE char *bak = xasprintf ("%s" BACKUP_SUFFIX, path);
    if (!bak)
      return -1;
    /* The backup is the original itself, moved aside. */
    if (!gs->no_backup && !guest_exists (gs, bak)) {
      if (guestfs_mv (gs->g, path, bak) == -1) {
        azp_error ("%s: cannot move aside: %s", path,
                   guestfs_last_error (gs->g));
        return -1;
      }
    }
    else if (guestfs_rm (gs->g, path) == -1) {
      azp_error ("%s: cannot remove: %s", path, guestfs_last_error (gs->g));
      return -1;
    }
  }
  return report_change (gs->report, "file", path, before, NULL);
}

int
guest_symlink (struct guest *gs, const char *target, const char *link)
{
  CLEANUP_FREE char *before = NULL;
  int is_link;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  is_link = guestfs_is_symlink (gs->g, link);
  if (is_link == 1)
    before = guestfs_readlink (gs->g, link);
  guestfs_pop_error_handler (gs->g);
  if (before && !strcmp (before, target))
    return 0;
  if (!gs->dry_run) {
    if (is_link == 1 && guestfs_rm (gs->g, link) == -1) {
      azp_error ("%s: %s", link, guestfs_last_error (gs->g));
      return -1;
    }
    if (guestfs_ln_s (gs->g, target, link) == -1) {
      azp_error ("%s: cannot link to %s: %s", link, target,
                 guestfs_last_error (gs->g));
      return -1;
    }
  }
  return report_change (gs->report, "link", link, before, target);
}
