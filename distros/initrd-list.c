/* Listing an initramfs the way the kernel unpacks it: a sequence of cpio
 * "newc" archives, each uncompressed or compressed, padded with zeroes
 * (Debian and dracut prepend an uncompressed early-microcode archive
 * to the compressed main one).  guestfs_initrd_list only reads one
 * gzip archive, so the file is downloaded and read here.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define INITRD_MAX ((int64_t) 1 << 30)
#define NEWC_HDR 110

static const struct {
  const unsigned char magic[6];
  size_t len;
  const char *argv0, *arg;
} compressors[] = {
  { { 0x1f, 0x8b }, 2, "gzip", "-dc" },
  { { 0x28, 0xb5, 0x2f, 0xfd }, 4, "zstd", "-dcq" },
  { { 0xfd, '7', 'z', 'X', 'Z', 0 }, 6, "xz", "-dc" },
  { { 'B', 'Z', 'h' }, 3, "bzip2", "-dc" },
  { { 0x02, 0x21, 0x4c, 0x18 }, 4, "lz4", "-dc" },
  { { 0x5d, 0, 0 }, 3, "lzma", "-dc" },
};

static int
hex8 (const char *p, size_t *r)
{
  size_t v = 0;
  for (int i = 0; i < 8; i++) {
    int c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return -1;
    v = v * 16 + d;
  }
  *r = v;
  return 0;
}

static size_t
align4 (size_t n)
{
  return (n + 3) & ~(size_t) 3;
}

/* Parse one newc archive at buf+*off; append names; advance *off past
 * its trailer.  0 or -1. */
static int
parse_newc (const char *path, const char *buf, size_t len, size_t *off,
            char ***list)
{
  for (;;) {
    size_t o = *off, filesize, namesize;
    const char *name;

    if (len - o < NEWC_HDR ||
        (memcmp (buf + o, "070701", 6) && memcmp (buf + o, "070702", 6)) ||
        hex8 (buf + o + 6 + 6 * 8, &filesize) == -1 ||
        hex8 (buf + o + 6 + 11 * 8, &namesize) == -1 ||
        namesize == 0 || namesize > len - o - NEWC_HDR) {
      azp_error ("%s: corrupt cpio archive at offset %zu", path, o);
      return -1;
    }
    name = buf + o + NEWC_HDR;
    if (name[namesize - 1] != '\0') {
      azp_error ("%s: corrupt cpio name at offset %zu", path, o);
      return -1;
    }
    o = align4 (o + NEWC_HDR + namesize);
    if (o > len || filesize > len - o) {
      azp_error ("%s: truncated cpio archive", path);
      return -1;
    }
    *off = align4 (o + filesize);
    if (*off > len)
      *off = len;
    if (!strcmp (name, "TRAILER!!!"))
      return 0;
    if (strv_add (list, name) == -1)
      return -1;
  }
}

static int parse_all (const char *path, const char *buf, size_t len,
                      char ***list, int depth);

/* Read a whole host file into memory (bounded). */
static char *
slurp (const char *file, size_t *len_r)
{
  CLEANUP_FCLOSE FILE *fp = fopen (file, "r");
  char *buf = NULL;
  size_t len = 0, cap = 0, r;

  if (!fp)
    return NULL;
  do {
    if (len + 65536 > cap) {
      char *nb;
      cap = cap ? cap * 2 : 1 << 20;
      if (cap > (size_t) INITRD_MAX * 4 || !(nb = realloc (buf, cap))) {
        free (buf);
        return NULL;
      }
      buf = nb;
    }
    r = fread (buf + len, 1, cap - len, fp);
    len += r;
  } while (r > 0);
  *len_r = len;
  return buf;
}

/* Run argv with stdout into the file out.  Returns the exit status. */
static int
run_to_file (const char *const *argv, const char *out)
{
  int status;
  pid_t pid = fork ();

  if (pid == -1)
    return -1;
  if (pid == 0) {
    int fd = open (out, O_WRONLY | O_TRUNC | O_CLOEXEC);
    int nfd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd == -1)
      _exit (126);
    dup2 (fd, 1);
    if (nfd >= 0)
      dup2 (nfd, 2);
    execvp (argv[0], (char **) argv);
    _exit (127);
  }
  if (waitpid (pid, &status, 0) == -1)
    return -1;
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

static int
decompress_rest (const char *path, const char *buf, size_t len,
                 char ***list, int depth)
{
  char in[] = "/var/tmp/azprep-initrd-XXXXXX";
  char out[] = "/var/tmp/azprep-initrd-XXXXXX";
  int fd, r = -1;

  for (size_t i = 0; i < sizeof compressors / sizeof compressors[0]; i++) {
    CLEANUP_FREE char *data = NULL;
    size_t dlen = 0;
    int st;

    if (len < compressors[i].len ||
        memcmp (buf, compressors[i].magic, compressors[i].len))
      continue;
    if ((fd = mkstemp (in)) == -1 || close (fd) == -1 ||
        (fd = mkstemp (out)) == -1 || close (fd) == -1) {
      azp_error ("/var/tmp: %m");
      return -1;
    }
    if (write_file_atomic (in, buf, len) == 0) {
      const char *argv[] = { compressors[i].argv0, compressors[i].arg, in,
                             NULL };
      st = run_to_file (argv, out);
      /* Trailing padding makes gzip warn (exit 2); what counts is that
       * the output is a complete cpio archive. */
      data = st == 127 || st == -1 ? NULL : slurp (out, &dlen);
      if (!data || dlen == 0)
        azp_error ("%s: cannot decompress with %s (is it installed?)", path,
                   compressors[i].argv0);
      else
        r = parse_all (path, data, dlen, list, depth + 1);
    }
    unlink (in);
    unlink (out);
    return r;
  }
  azp_error ("%s: not an initramfs (unknown format at this offset)", path);
  return -1;
}

static int
parse_all (const char *path, const char *buf, size_t len, char ***list,
           int depth)
{
  size_t off = 0;

  if (depth > 2) {
    azp_error ("%s: nested compression", path);
    return -1;
  }
  while (off < len) {
    while (off < len && buf[off] == '\0')
      off++;
    if (off >= len)
      break;
    if (len - off >= 6 && (!memcmp (buf + off, "070701", 6) ||
                           !memcmp (buf + off, "070702", 6))) {
      if (parse_newc (path, buf, len, &off, list) == -1)
        return -1;
      continue;
    }
    /* A compressed archive runs to the end of the file. */
    return decompress_rest (path, buf + off, len - off, list, depth);
  }
  return 0;
}

char **
initrd_list (struct guest *gs, const char *path)
{
  char tmpl[] = "/var/tmp/azprep-initrd-XXXXXX";
  CLEANUP_FREE char *buf = NULL;
  char **list = NULL;
  int64_t size;
  size_t len;
  int fd;

  size = guestfs_filesize (gs->g, path);
  if (size == -1) {
    azp_error ("%s: %s", path, guestfs_last_error (gs->g));
    return NULL;
  }
  if (size > INITRD_MAX) {
    azp_error ("%s: initramfs too large (%lld bytes)", path, (long long) size);
    return NULL;
  }
  fd = mkstemp (tmpl);
  if (fd == -1) {
    azp_error ("%s: %m", tmpl);
    return NULL;
  }
  close (fd);
  if (guestfs_download (gs->g, path, tmpl) == -1) {
    azp_error ("%s: %s", path, guestfs_last_error (gs->g));
    unlink (tmpl);
    return NULL;
  }
  buf = slurp (tmpl, &len);
  unlink (tmpl);
  if (!buf) {
    azp_error ("%s: cannot read the downloaded copy", path);
    return NULL;
  }
  list = calloc (1, sizeof *list);
  if (!list || parse_all (path, buf, len, &list, 0) == -1) {
    free_string_list (list);
    return NULL;
  }
  return list;
}
