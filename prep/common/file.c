/* Files written so that a crash leaves the old content or the new,
 * never a mix: write a temporary file, fsync it, rename it over the
 * old one, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
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
write_file_atomic (const char *path, const void *buf, size_t len)
{
  CLEANUP_FREE char *tmp = xasprintf ("%s.tmp.%d", path, (int) getpid ());
  const char *p = buf;
  int fd;

  if (!tmp)
    return -1;
  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1) {
    azp_error ("%s: %m", tmp);
    return -1;
  }
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
