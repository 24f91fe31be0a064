/* tests/fuzz: the helpers of fuzz.h. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static char dir[64];
static char file[128];

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
      close (fd) == -1) {
    perror (file);
    abort ();
  }
  return file;
}
