/* Listing an initramfs the way the kernel unpacks it: a sequence of cpio
 * "newc" archives, each uncompressed or compressed, padded with zeroes
 * (Debian and dracut prepend an uncompressed early-microcode archive
 * to the compressed main one).  guestfs_initrd_list only reads one
 * gzip archive, so the file is downloaded and read here.
 *
 * The initramfs comes from the guest: it may be built to hurt.  It is
 * read as a stream, never held in memory or unpacked to disk: the
 * decompressor's output goes through a pipe and only the names are
 * kept, at most INITRD_UNPACKED_MAX bytes are read from it and at most
 * INITRD_MAX_FILES names kept (a real one unpacks to some hundreds of
 * MiB and a few thousand files).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define INITRD_MAX ((int64_t) 1 << 30)
#define INITRD_UNPACKED_MAX ((uint64_t) 1 << 30)
#define INITRD_MAX_FILES 100000
#define NEWC_HDR 110
#define NEWC_NAME_MAX 4096

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

/* One byte stream read forward: the file, or a decompressor's output. */
struct stream {
  const char *path;          /* the guest file, for messages */
  int fd;
  bool unpacked;             /* a decompressor's output */
  bool eof;
  uint64_t off;              /* bytes consumed */
  uint64_t got;              /* bytes read from fd */
  size_t pos, end;           /* unconsumed bytes: buf[pos..end) */
  unsigned char buf[NEWC_NAME_MAX * 4];
};

/* The names found, in order (a counted list: no quadratic appends). */
struct names {
  char **v;
  size_t n, cap;
};

/* Make at least want bytes (<= sizeof buf) available, fewer only at
 * the end of the stream.  Returns how many are, or -1 (reported). */
static ssize_t
fill (struct stream *s, size_t want)
{
  if (s->end - s->pos >= want)
    return s->end - s->pos;
  memmove (s->buf, s->buf + s->pos, s->end - s->pos);
  s->end -= s->pos;
  s->pos = 0;
  while (s->end < want && !s->eof) {
    ssize_t r = read (s->fd, s->buf + s->end, sizeof s->buf - s->end);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      azp_error ("%s: read: %m", s->path);
      return -1;
    }
    s->eof = r == 0;
    s->end += r;
    s->got += r;
    if (s->unpacked && s->got > INITRD_UNPACKED_MAX) {
      azp_error ("%s: the initramfs unpacks to more than %llu MiB: not "
                 "reading it (a decompression bomb?)", s->path,
                 (unsigned long long) (INITRD_UNPACKED_MAX >> 20));
      return -1;
    }
  }
  return s->end - s->pos;
}

static void
consume (struct stream *s, size_t n)
{
  s->pos += n;
  s->off += n;
}

/* Skip n bytes; at most up to the end if partial_ok, else -1 when the
 * stream ends first. */
static int
skip (struct stream *s, uint64_t n, bool partial_ok)
{
  while (n > 0) {
    size_t want = n < sizeof s->buf ? n : sizeof s->buf;
    ssize_t avail = fill (s, want);
    if (avail == -1)
      return -1;
    if (avail == 0) {
      if (partial_ok)
        return 0;
      azp_error ("%s: truncated cpio archive", s->path);
      return -1;
    }
    want = (size_t) avail < want ? (size_t) avail : want;
    consume (s, want);
    n -= want;
  }
  return 0;
}

static int
hex8 (const unsigned char *p, size_t *r)
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

static int
names_add (const char *path, struct names *l, const char *name)
{
  if (l->n >= INITRD_MAX_FILES) {
    azp_error ("%s: more than %d files in the initramfs: not reading it",
               path, INITRD_MAX_FILES);
    return -1;
  }
  if (l->n + 1 >= l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    char **nv = realloc (l->v, cap * sizeof *nv);
    if (!nv) {
      azp_error ("out of memory");
      return -1;
    }
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n] = strdup (name);
  if (!l->v[l->n]) {
    azp_error ("out of memory");
    return -1;
  }
  l->v[++l->n] = NULL;
  return 0;
}

/* Read one newc archive, up to and past its trailer, adding names. */
static int
parse_newc (struct stream *s, struct names *l)
{
  for (;;) {
    uint64_t start = s->off;
    size_t filesize, namesize;
    const unsigned char *h;
    const char *name;
    ssize_t avail = fill (s, NEWC_HDR);

    if (avail == -1)
      return -1;
    h = s->buf + s->pos;
    if ((size_t) avail < NEWC_HDR ||
        (memcmp (h, "070701", 6) && memcmp (h, "070702", 6)) ||
        hex8 (h + 6 + 6 * 8, &filesize) == -1 ||
        hex8 (h + 6 + 11 * 8, &namesize) == -1 ||
        namesize == 0 || namesize > NEWC_NAME_MAX) {
      azp_error ("%s: corrupt cpio archive at offset %llu", s->path,
                 (unsigned long long) start);
      return -1;
    }
    consume (s, NEWC_HDR);
    avail = fill (s, namesize);
    if (avail == -1)
      return -1;
    if ((size_t) avail < namesize) {
      azp_error ("%s: truncated cpio archive", s->path);
      return -1;
    }
    name = (const char *) s->buf + s->pos;
    if (name[namesize - 1] != '\0') {
      azp_error ("%s: corrupt cpio name at offset %llu", s->path,
                 (unsigned long long) start);
      return -1;
    }
    if (!strcmp (name, "TRAILER!!!"))
      /* Its padding may be cut short at the end of the file. */
      return skip (s, namesize + (-(s->off + namesize) & 3), true);
    if (names_add (s->path, l, name) == -1)
      return -1;
    consume (s, namesize);
    if (skip (s, -s->off & 3, false) == -1 ||
        skip (s, filesize, false) == -1 ||
        skip (s, -s->off & 3, true) == -1)
      return -1;
  }
}

static int parse_stream (struct stream *s, struct names *l);

/* Spawn the decompressor reading fd from off, its output on *out_r. */
static pid_t
spawn_decompressor (const char *argv0, const char *arg, int fd, uint64_t off,
                    int *out_r)
{
  int p[2];
  pid_t pid;

  if (lseek (fd, off, SEEK_SET) == -1 || pipe2 (p, O_CLOEXEC) == -1)
    return -1;
  pid = fork ();
  if (pid == -1) {
    close (p[0]);
    close (p[1]);
    return -1;
  }
  if (pid == 0) {
    int nfd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
    const char *argv[] = { argv0, arg, NULL };
    if (dup2 (fd, 0) == -1 || dup2 (p[1], 1) == -1)
      _exit (126);
    if (nfd >= 0)
      dup2 (nfd, 2);
    execvp (argv[0], (char **) argv);
    _exit (127);
  }
  close (p[1]);
  *out_r = p[0];
  return pid;
}

/* The rest of the file is one compressed stream (as for the kernel):
 * stream its decompressed output through the cpio reader. */
static int
decompress_rest (struct stream *s, struct names *l)
{
  ssize_t avail = fill (s, 6);

  if (avail == -1)
    return -1;
  for (size_t i = 0; i < sizeof compressors / sizeof compressors[0]; i++) {
    struct stream *u;
    int status, r;
    pid_t pid;

    if ((size_t) avail < compressors[i].len ||
        memcmp (s->buf + s->pos, compressors[i].magic, compressors[i].len))
      continue;
    u = calloc (1, sizeof *u);
    if (!u) {
      azp_error ("out of memory");
      return -1;
    }
    u->path = s->path;
    u->unpacked = true;
    pid = spawn_decompressor (compressors[i].argv0, compressors[i].arg,
                              s->fd, s->off, &u->fd);
    if (pid == -1) {
      azp_error ("%s: %s: %m", s->path, compressors[i].argv0);
      free (u);
      return -1;
    }
    r = parse_stream (u, l);
    close (u->fd);
    /* Trailing padding makes gzip warn (exit 2): what counts is that
     * the output held complete cpio archives. */
    if (r == -1 || u->got == 0)
      kill (pid, SIGKILL);
    while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
      ;
    if (r == 0 && u->got == 0) {
      azp_error ("%s: cannot decompress with %s%s", s->path,
                 compressors[i].argv0,
                 WIFEXITED (status) && WEXITSTATUS (status) == 127
                 ? " (is it installed?)" : "");
      r = -1;
    }
    free (u);
    return r;
  }
  azp_error ("%s: not an initramfs (unknown format at offset %llu)",
             s->path, (unsigned long long) s->off);
  return -1;
}

/* Archives and zero padding to the end of the stream; in the file, a
 * compressed archive runs to its end. */
static int
parse_stream (struct stream *s, struct names *l)
{
  for (;;) {
    ssize_t avail;

    while ((avail = fill (s, 1)) > 0 && s->buf[s->pos] == '\0')
      consume (s, 1);
    if (avail <= 0)
      return avail;
    avail = fill (s, 6);
    if (avail == -1)
      return -1;
    if (avail >= 6 && (!memcmp (s->buf + s->pos, "070701", 6) ||
                       !memcmp (s->buf + s->pos, "070702", 6))) {
      if (parse_newc (s, l) == -1)
        return -1;
      continue;
    }
    if (s->unpacked) {
      azp_error ("%s: not a cpio archive at offset %llu of the "
                 "decompressed initramfs", s->path,
                 (unsigned long long) s->off);
      return -1;
    }
    return decompress_rest (s, l);
  }
}

char **
initrd_list_fd (const char *path, int fd)
{
  struct names l = { .v = calloc (1, sizeof (char *)), .cap = 1 };
  struct stream *s = calloc (1, sizeof *s);
  int r;

  if (!s || !l.v) {
    free (s);
    free (l.v);
    azp_error ("out of memory");
    return NULL;
  }
  s->path = path;
  s->fd = fd;
  r = parse_stream (s, &l);
  free (s);
  if (r == -1) {
    free_string_list (l.v);
    return NULL;
  }
  return l.v;
}

/* A copy of a listing. */
static char **
listing_copy (char *const *files)
{
  char **c = calloc (1, sizeof *c);

  for (size_t i = 0; c && files[i]; i++)
    if (strv_add (&c, files[i]) == -1) {
      free_string_list (c);
      return NULL;
    }
  if (!c)
    azp_error ("out of memory");
  return c;
}

/* Keep (a copy of) path's listing for the file of identity id. */
static void
listing_keep (struct guest *gs, const char *path, const int64_t *id,
              char *const *files)
{
  struct distro_data *d = gs->distro_data;
  struct initrd_listing *l = NULL, *nl;

  if (!d)
    return;
  for (size_t i = 0; i < d->nlistings && !l; i++)
    if (!strcmp (d->listings[i].path, path))
      l = &d->listings[i];
  if (!l) {
    nl = realloc (d->listings, (d->nlistings + 1) * sizeof *nl);
    if (!nl)
      return;
    d->listings = nl;
    l = &nl[d->nlistings];
    l->path = strdup (path);
    l->files = NULL;
    if (!l->path)
      return;
    d->nlistings++;
  }
  free_string_list (l->files);
  l->files = listing_copy (files);
  memcpy (l->id, id, sizeof l->id);
}

/* path's kept listing if the file is still the one of identity id. */
static char **
listing_kept (struct guest *gs, const char *path, const int64_t *id)
{
  struct distro_data *d = gs->distro_data;

  for (size_t i = 0; d && i < d->nlistings; i++)
    if (!strcmp (d->listings[i].path, path) && d->listings[i].files &&
        !memcmp (d->listings[i].id, id, sizeof d->listings[i].id))
      return listing_copy (d->listings[i].files);
  return NULL;
}

char **
initrd_list (struct guest *gs, const char *path)
{
  char tmpl[] = "/var/tmp/azprep-initrd-XXXXXX";
  CLEANUP_CLOSE int fd = -1;
  struct guestfs_statns *st = guestfs_statns (gs->g, path);
  int64_t size, id[6];
  char **files;

  if (!st) {
    azp_error ("%s: %s", path, guestfs_last_error (gs->g));
    return NULL;
  }
  size = st->st_size;
  id[0] = st->st_ino; id[1] = st->st_size;
  id[2] = st->st_mtime_sec; id[3] = st->st_mtime_nsec;
  id[4] = st->st_ctime_sec; id[5] = st->st_ctime_nsec;
  guestfs_free_statns (st);
  if ((files = listing_kept (gs, path, id))) {
    azp_debug ("%s: unchanged since it was listed", path);
    return files;
  }
  if (size > INITRD_MAX) {
    azp_error ("%s: initramfs too large (%lld bytes)", path, (long long) size);
    return NULL;
  }
  /* mkstemp: mode 0600, a name nobody else chose. */
  fd = mkstemp (tmpl);
  if (fd == -1) {
    azp_error ("%s: %m", tmpl);
    return NULL;
  }
  unlink (tmpl);
  if (guest_copy_to_fd (gs, path, (uint64_t) size, fd, tmpl) == -1)
    return NULL;
  if (lseek (fd, 0, SEEK_SET) == -1) {
    azp_error ("%s: %m", tmpl);
    return NULL;
  }
  files = initrd_list_fd (path, fd);
  if (files)
    listing_keep (gs, path, id, files);
  return files;
}
