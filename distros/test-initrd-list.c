/* Unit tests of the initramfs lister (initrd-list.c) on files built
 * here: an early uncompressed archive followed by a compressed one (as
 * Debian and dracut write them), damaged archives, and a decompression
 * bomb (tests/data/initrd-bomb.bz2: 979 bytes that unpack to 1.2 GB),
 * which must be refused without being unpacked to disk or memory. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "distros/distro.h"
#include "prep/common/unit.h"

struct buf { char *p; size_t n; };

static void
put (struct buf *b, const void *data, size_t n)
{
  b->p = realloc (b->p, b->n + n + 4);
  if (!b->p)
    abort ();
  memcpy (b->p + b->n, data, n);
  b->n += n;
}

/* One newc member: header, name, padding, data, padding. */
static void
member (struct buf *b, const char *name, const char *data)
{
  char h[128];
  size_t nlen = strlen (name) + 1, dlen = strlen (data);

  snprintf (h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X"
            "%08X%08X%08X", 1, 0100644, 0, 0, 1, 0, (unsigned) dlen, 0, 0,
            0, 0, (unsigned) nlen, 0);
  put (b, h, 110);
  put (b, name, nlen);
  put (b, "\0\0\0", -b->n & 3);
  put (b, data, dlen);
  put (b, "\0\0\0", -b->n & 3);
}

/* A memory file holding b (at its start). */
static int
memfile (const void *p, size_t n)
{
  int fd = memfd_create ("initrd", MFD_CLOEXEC);

  if (fd == -1 || write (fd, p, n) != (ssize_t) n ||
      lseek (fd, 0, SEEK_SET) == -1)
    abort ();
  return fd;
}

/* b compressed by tool (gzip -c ...), appended to out. */
static void
compress (const char *tool, const struct buf *b, struct buf *out)
{
  int in = memfile (b->p, b->n), p[2], status;
  char chunk[65536];
  ssize_t r;
  pid_t pid;

  if (pipe (p) == -1 || (pid = fork ()) == -1)
    abort ();
  if (pid == 0) {
    dup2 (in, 0);
    dup2 (p[1], 1);
    execlp (tool, tool, "-c", NULL);
    _exit (127);
  }
  close (p[1]);
  while ((r = read (p[0], chunk, sizeof chunk)) > 0)
    put (out, chunk, r);
  close (p[0]);
  close (in);
  waitpid (pid, &status, 0);
}

static char **
list_buf (const struct buf *b)
{
  int fd = memfile (b->p, b->n);
  char **l = initrd_list_fd ("/boot/initrd.img", fd);

  close (fd);
  return l;
}

static void
test_layered (const char *tool)
{
  struct buf early = { 0 }, main_ = { 0 }, file = { 0 };
  char **l;

  member (&early, "kernel/x86/microcode/GenuineIntel.bin", "ucode");
  member (&early, "TRAILER!!!", "");
  put (&early, "\0\0\0\0\0\0\0\0", 8);
  member (&main_, "usr/lib/modules/6.1.0/kernel/drivers/hv/hv_vmbus.ko", "x");
  member (&main_, "init", "#!/bin/sh\n");
  member (&main_, "TRAILER!!!", "");
  put (&file, early.p, early.n);
  compress (tool, &main_, &file);
  l = list_buf (&file);
  CHECK (l != NULL);
  if (l) {
    CHECK_STR (l[0], "kernel/x86/microcode/GenuineIntel.bin");
    CHECK_STR (l[1], "usr/lib/modules/6.1.0/kernel/drivers/hv/hv_vmbus.ko");
    CHECK_STR (l[2], "init");
    CHECK (l[3] == NULL);
    free_string_list (l);
  }
  /* Cut short: an error, not a shorter list. */
  file.n = early.n + (file.n - early.n) / 2;
  l = list_buf (&file);
  CHECK (l == NULL);
  free_string_list (l);
  free (early.p);
  free (main_.p);
  free (file.p);
}

static void
test_damaged (void)
{
  struct buf b = { 0 };
  char **l;

  member (&b, "init", "abc");
  member (&b, "TRAILER!!!", "");
  /* A name size past the end of the file. */
  memcpy (b.p + 6 + 11 * 8, "7FFFFFFF", 8);
  l = list_buf (&b);
  CHECK (l == NULL);
  /* Unknown bytes where an archive should be. */
  b.n = 0;
  put (&b, "MZ\x90\0garbage", 11);
  l = list_buf (&b);
  CHECK (l == NULL);
  free (b.p);
}

static void
test_bomb (void)
{
  int fd = open ("tests/data/initrd-bomb.bz2", O_RDONLY | O_CLOEXEC);
  char **l;

  CHECK (fd >= 0);
  if (fd == -1)
    return;
  l = initrd_list_fd ("/boot/initrd.img", fd);
  CHECK (l == NULL);
  CHECK (strstr (log_last_error (), "decompression bomb") != NULL);
  free_string_list (l);
  close (fd);
}

int
main (void)
{
  test_layered ("gzip");
  test_layered ("zstd");
  test_layered ("xz");
  test_damaged ();
  test_bomb ();
  return UNIT_RESULT ("test-initrd-list");
}
