/* tests/fuzz: the helpers of fuzz.h. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static char dir[64];
static char file[128];
static struct stat file_st;     /* the input file, once written */

char *
fuzz_string (const uint8_t *data, size_t size)
{
  char *s = malloc (size + 1);

  if (!s)
    abort ();
  memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

static void
remove_dir (void)
{
  if (file[0])
    unlink (file);
  rmdir (dir);
}

const char *
fuzz_file (const uint8_t *data, size_t size, const char *suffix)
{
  int fd;

  if (!dir[0]) {
    const char *tmp = getenv ("TMPDIR");
    snprintf (dir, sizeof dir, "%s/azprep-fuzz-XXXXXX",
              tmp && strlen (tmp) < 32 ? tmp : "/tmp");
    if (!mkdtemp (dir)) {
      perror (dir);
      abort ();
    }
    atexit (remove_dir);
  }
  if (file[0])
    unlink (file);
  snprintf (file, sizeof file, "%s/input%s", dir, suffix);
  fd = open (file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd == -1 || write (fd, data, size) != (ssize_t) size ||
      fstat (fd, &file_st) == -1 || close (fd) == -1) {
    perror (file);
    abort ();
  }
  return file;
}

int
fuzz_fd_mark (void)
{
  int fd = dup (0);

  if (fd >= 0)
    close (fd);
  return fd;
}

void
fuzz_fd_release (int mark, const char *what)
{
  static bool told;
  int leaked = 0;

  if (mark < 0)
    return;
  /* Only descriptors of the input file: others may be a library's,
   * opened once and kept. */
  for (int fd = mark; fd < mark + 256; fd++) {
    struct stat st;
    if (fstat (fd, &st) == 0 && st.st_dev == file_st.st_dev &&
        st.st_ino == file_st.st_ino && close (fd) == 0)
      leaked++;
  }
  if (leaked && !told) {
    fprintf (stderr, "fuzz: %s left %d file descriptor(s) open\n", what,
             leaked);
    told = true;
  }
  if (leaked && getenv ("FUZZ_FD_STRICT"))
    abort ();
}
