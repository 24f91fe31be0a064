/* The tar reader of OVA archives (ustar, GNU long names and base-256
 * sizes, pax path and size records): the members' names and byte
 * ranges, nothing extracted.  Every header is checksummed, every range
 * checked against the archive's size, every extended record parsed to
 * its own length.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/check/desc/tar.h"

#define MAX_MEMBERS 4096
#define MAX_NAME 4096

void
ova_close (struct ova *o)
{
  for (size_t i = 0; i < o->n; i++)
    free (o->m[i].name);
  free (o->m);
  if (o->fd >= 0)
    close (o->fd);
  o->m = NULL;
  o->n = 0;
  o->fd = -1;
}

/* A numeric header field: octal text, or GNU base-256 (first byte's
 * high bit set) for sizes of 8 GiB and more.  -1 if malformed. */
static int64_t
tar_number (const unsigned char *p, size_t len)
{
  int64_t v = 0;
  size_t i = 0;

  if (p[0] & 0x80) {
    if (p[0] != 0x80)
      return -1;
    for (i = 1; i < len; i++) {
      if (v > (INT64_MAX >> 8))
        return -1;
      v = (v << 8) | p[i];
    }
    return v;
  }
  while (i < len && p[i] == ' ')
    i++;
  for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
    if (v > (INT64_MAX >> 3))
      return -1;
    v = (v << 3) | (p[i] - '0');
  }
  if (i < len && p[i] != ' ' && p[i] != '\0')
    return -1;
  return v;
}

static bool
checksum_ok (const unsigned char *h)
{
  int64_t want = tar_number (h + 148, 8);
  int64_t sum = 0;
  for (size_t i = 0; i < OVA_BLOCK; i++)
    sum += i >= 148 && i < 156 ? ' ' : h[i];
  return want == sum;
}

int
ova_pread (struct ova *o, void *buf, size_t len, int64_t off)
{
  size_t done = 0;
  while (done < len) {
    ssize_t r = pread (o->fd, (char *) buf + done, len - done, off + done);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      if (r == 0)
        azp_error ("%s: truncated at byte %lld", o->path,
                   (long long) (off + done));
      else
        azp_error ("%s: %m", o->path);
      return -1;
    }
    done += r;
  }
  return 0;
}

/* "path=" and "size=" of a pax extended header: records
 * "LEN key=value\n", LEN counting the whole record.  -1 if a record is
 * malformed (GNU tar refuses those too). */
static int
pax_record (const char *text, size_t len, char **name, int64_t *size)
{
  size_t i = 0;

  while (i < len) {
    size_t rl = 0, j = i, klen, vlen;
    const char *kv, *val, *eq;

    for (; j < len && text[j] >= '0' && text[j] <= '9' && rl <= len; j++)
      rl = rl * 10 + (text[j] - '0');
    /* Digits, a space, "k=" and the newline at the least. */
    if (j == i || j >= len || text[j] != ' ' || rl > len - i ||
        rl < j - i + 4 || text[i + rl - 1] != '\n')
      return -1;
    kv = text + j + 1;
    eq = memchr (kv, '=', text + i + rl - 1 - kv);
    if (!eq || eq == kv)
      return -1;
    klen = eq - kv;
    val = eq + 1;
    vlen = text + i + rl - 1 - val;
    if (klen == 4 && !memcmp (kv, "path", 4)) {
      if (vlen == 0 || vlen >= MAX_NAME || memchr (val, '\0', vlen))
        return -1;
      free (*name);
      *name = strndup (val, vlen);
      if (!*name)
        return -1;
    }
    else if (klen == 4 && !memcmp (kv, "size", 4)) {
      int64_t s = 0;
      if (vlen == 0 || vlen > 18)
        return -1;
      for (size_t k = 0; k < vlen; k++) {
        if (val[k] < '0' || val[k] > '9')
          return -1;
        s = s * 10 + (val[k] - '0');
      }
      *size = s;
    }
    i += rl;
  }
  return 0;
}

/* An extended header's text (GNU long name or pax records) applied to
 * the pending name and size of the next member.  -1 after an error. */
static int
ova_extended (struct ova *o, char type, int64_t size, int64_t off,
              char **name, int64_t *paxsize)
{
  CLEANUP_FREE char *text = NULL;

  if (size > 65536) {
    azp_error ("%s: tar extended header of %lld bytes: refused", o->path,
               (long long) size);
    return -1;
  }
  text = malloc (size + 1);
  if (!text) {
    azp_error ("out of memory");
    return -1;
  }
  if (ova_pread (o, text, size, off) == -1)
    return -1;
  text[size] = '\0';
  if (type == 'L') {
    size_t n = strnlen (text, size);
    if (n == 0 || n >= MAX_NAME) {
      azp_error ("%s: tar long name at byte %lld is empty or too long",
                 o->path, (long long) off);
      return -1;
    }
    free (*name);
    *name = strndup (text, n);
    return *name ? 0 : -1;
  }
  if (pax_record (text, size, name, paxsize) == -1) {
    azp_error ("%s: malformed pax extended header at byte %lld", o->path,
               (long long) off);
    return -1;
  }
  return 0;
}

static int
ova_add (struct ova *o, char *name, int64_t off, int64_t size)
{
  struct ova_member *nm;

  if (!name || o->n >= MAX_MEMBERS ||
      !(nm = realloc (o->m, (o->n + 1) * sizeof *nm))) {
    free (name);
    azp_error ("%s: too many tar members, or out of memory", o->path);
    return -1;
  }
  o->m = nm;
  nm[o->n].name = name;
  nm[o->n].offset = off;
  nm[o->n].size = size;
  o->n++;
  return 0;
}

/* Read the member list.  -1 after an error naming the archive, with
 * the archive closed. */
int
ova_open (struct ova *o, const char *path)
{
  unsigned char h[OVA_BLOCK];
  int64_t off = 0;
  char *longname = NULL;
  int64_t paxsize = -1;
  struct stat st;

  memset (o, 0, sizeof *o);
  o->path = (char *) path;
  o->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (o->fd == -1 || fstat (o->fd, &st) == -1) {
    azp_error ("%s: %m", path);
    goto fail;
  }
  o->file_size = st.st_size;
  while (off + OVA_BLOCK <= o->file_size) {
    int64_t size;
    char type;

    if (ova_pread (o, h, OVA_BLOCK, off) == -1)
      goto fail;
    if (h[0] == '\0')                    /* end of archive */
      break;
    if (!checksum_ok (h)) {
      azp_error ("%s: not an OVA: bad tar header at byte %lld", path,
                 (long long) off);
      goto fail;
    }
    size = tar_number (h + 124, 12);
    type = (char) h[156];
    if (type != 'x' && type != 'L' && type != 'g' && paxsize >= 0)
      size = paxsize;                    /* pax size of this member */
    off += OVA_BLOCK;
    if (size < 0 || size > o->file_size - off) {
      azp_error ("%s: tar member at byte %lld runs past the end of the "
                 "archive", path, (long long) off - OVA_BLOCK);
      goto fail;
    }
    if (type == 'L' || type == 'x') {    /* GNU long name, pax header */
      if (ova_extended (o, type, size, off, &longname, &paxsize) == -1)
        goto fail;
    }
    else if (type != 'g') {
      char *name = longname;
      if (!name && !memcmp (h + 257, "ustar\0", 6) && h[345])   /* POSIX */
        name = xasprintf ("%.155s/%.100s", (char *) h + 345, (char *) h);
      else if (!name)
        name = strndup ((char *) h, 100);
      longname = NULL;
      paxsize = -1;
      if (type != '0' && type != '\0' && type != '7')
        free (name);                     /* not a regular file */
      else if (ova_add (o, name, off, size) == -1)
        goto fail;
    }
    off += (size + OVA_BLOCK - 1) / OVA_BLOCK * OVA_BLOCK;
  }
  free (longname);
  if (o->n == 0) {
    azp_error ("%s: not an OVA: no tar members", path);
    ova_close (o);
    return -1;
  }
  return 0;
 fail:
  free (longname);
  ova_close (o);
  return -1;
}

const struct ova_member *
ova_find (const struct ova *o, const char *name, bool *twice)
{
  const struct ova_member *found = NULL;

  *twice = false;
  if (!strncmp (name, "./", 2))
    name += 2;
  for (size_t i = 0; i < o->n; i++) {
    const char *m = o->m[i].name;
    if (!strncmp (m, "./", 2))
      m += 2;
    if (strcmp (m, name))
      continue;
    /* Which copy counts differs between tools: refuse to guess. */
    if (found)
      *twice = true;
    found = &o->m[i];
  }
  return *twice ? NULL : found;
}
