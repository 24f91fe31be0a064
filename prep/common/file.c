/* Files written so that a crash leaves the old content or the new,
 * never a mix: write a temporary file, fsync it, rename it over the
 * old one, fsync the directory.  Temporary files get names nobody can
 * guess, are created exclusively (a symlink or file planted beside the
 * target is never followed or reused) and are readable by their owner
 * only: they may hold guest bytes or secrets. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"

int
fsync_dir_of (const char *path)
{
  CLEANUP_FREE char *copy = xstrdup (path);
  int fd, r;

  if (!copy)
    return -1;
  fd = open (dirname (copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1)
    return -1;
  r = fsync (fd);
  close (fd);
  return r;
}

int
create_temp_beside (const char *path, const char *tag, char **tmp)
{
  int fd;

  *tmp = xasprintf ("%s%s.XXXXXX", path, tag);
  if (!*tmp)
    return -1;
  /* mkostemp: O_CREAT | O_EXCL, mode 0600, a random suffix. */
  fd = mkostemp (*tmp, O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1) {
    azp_error ("%s: cannot create a temporary file: %m", *tmp);
    free (*tmp);
    *tmp = NULL;
    return -1;
  }
  /* The umask cannot widen it, but a caller's file may have been made
   * elsewhere: say the mode once, here. */
  if (fchmod (fd, 0600) == -1) {
    azp_error ("%s: chmod: %m", *tmp);
    close (fd);
    unlink (*tmp);
    free (*tmp);
    *tmp = NULL;
    return -1;
  }
  return fd;
}

char *
create_tempdir_beside (const char *path, const char *tag)
{
  char *dir = xasprintf ("%s%s.XXXXXX", path, tag);

  if (dir && !mkdtemp (dir)) {
    azp_error ("%s: cannot create a temporary directory: %m", dir);
    free (dir);
    return NULL;
  }
  return dir;
}

int
write_file_atomic (const char *path, const void *buf, size_t len)
{
  CLEANUP_FREE char *tmp = NULL;
  const char *p = buf;
  int fd = create_temp_beside (path, ".tmp", &tmp);

  if (fd == -1)
    return -1;
  while (len > 0) {
    ssize_t r = write (fd, p, len);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      azp_error ("%s: write: %m", tmp);
      goto fail;
    }
    p += r;
    len -= r;
  }
  if (fsync (fd) == -1) {
    azp_error ("%s: fsync: %m", tmp);
    goto fail;
  }
  if (close (fd) == -1) {
    fd = -1;
    azp_error ("%s: close: %m", tmp);
    goto fail;
  }
  fd = -1;
  if (rename (tmp, path) == -1) {
    azp_error ("rename %s: %m", path);
    goto fail;
  }
  /* The rename is durable only once the directory is. */
  fsync_dir_of (path);
  return 0;
 fail:
  if (fd >= 0)
    close (fd);
  unlink (tmp);
  return -1;
}

/* mkdir -p without a process: each missing component of path in turn
 * (the parents 0777 less the umask, the last one exactly mode), an
 * existing directory (or a link to one) kept as it is. */
int
make_dirs (const char *path, mode_t mode)
{
  CLEANUP_FREE char *p = xstrdup (path);
  size_t n = p ? strlen (p) : 0;
  struct stat st;

  if (!p)
    return -1;
  if (n == 0) {
    azp_error ("mkdir: an empty path");
    return -1;
  }
  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  for (size_t i = 1; i <= n; i++) {
    bool last = i == n;

    if (!last && (p[i] != '/' || p[i - 1] == '/'))
      continue;
    p[i] = '\0';
    if (mkdir (p, last ? mode : 0777) == 0) {
      if (last && chmod (p, mode) == -1) {
        azp_error ("chmod %s: %m", p);
        return -1;
      }
    }
    else if (errno != EEXIST || stat (p, &st) == -1 || !S_ISDIR (st.st_mode)) {
      if (errno == EEXIST)
        errno = ENOTDIR;
      azp_error ("mkdir %s: %m", p);
      return -1;
    }
    if (!last)
      p[i] = '/';
  }
  return 0;
}
