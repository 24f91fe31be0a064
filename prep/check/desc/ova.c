/* OVA archives read in place.  An OVA is a tar (ustar, with GNU or pax
 * long names): the .ovf member is read with pread, and each disk member
 * is served, decoded, by a read-only qemu-nbd that reads the member's
 * byte range of the archive (qemu's raw driver with offset and size
 * under the disk's format driver: a streamOptimized VMDK works as it
 * is).  Nothing is extracted, so there are no paths to escape through;
 * every header is checksummed and every range checked against the
 * archive's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/image.h"
#include "prep/common/json.h"
#include "prep/check/desc/desc.h"

#define BLOCK 512
#define MAX_MEMBERS 4096
#define MAX_NAME 4096

struct ova_member {
  char *name;
  int64_t offset, size;
};

struct ova {
  char *path;
  int fd;
  int64_t file_size;
  struct ova_member *m;
  size_t n;
};

static void
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
  for (size_t i = 0; i < BLOCK; i++)
    sum += i >= 148 && i < 156 ? ' ' : h[i];
  return want == sum;
}

static int
pread_all (struct ova *o, void *buf, size_t len, int64_t off)
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
  if (pread_all (o, text, size, off) == -1)
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
static int
ova_open (struct ova *o, const char *path)
{
  unsigned char h[BLOCK];
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
  while (off + BLOCK <= o->file_size) {
    int64_t size;
    char type;

    if (pread_all (o, h, BLOCK, off) == -1)
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
    off += BLOCK;
    if (size < 0 || size > o->file_size - off) {
      azp_error ("%s: tar member at byte %lld runs past the end of the "
                 "archive", path, (long long) off - BLOCK);
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
    off += (size + BLOCK - 1) / BLOCK * BLOCK;
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

static const struct ova_member *
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

static uint64_t
le64 (const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static uint64_t
be64 (const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

/* A sparse VMDK header (at byte off of the member, the start or the
 * stream's footer): NULL if qemu reads only this member through it,
 * else why not.  Its capacity 0 makes qemu take the extents from the
 * embedded descriptor (any host file); a parent is a backing file. */
static char *
vmdk_refuse (struct ova *o, const struct ova_member *m, int64_t off)
{
  unsigned char h[64];
  uint64_t doff, dsize;
  CLEANUP_FREE char *desc = NULL;

  if (pread_all (o, h, sizeof h, m->offset + off) == -1)
    return xstrdup (log_last_error ());
  if (memcmp (h, "KDMV", 4))
    return xstrdup ("a VMDK whose stream footer is damaged");
  if (le64 (h + 12) == 0)
    return xstrdup ("a VMDK whose embedded descriptor names its extents "
                    "(other files): refused");
  doff = le64 (h + 28);
  dsize = le64 (h + 36);
  if (doff == 0)
    return NULL;
  if (dsize == 0 || dsize > 128 || doff > (uint64_t) m->size / BLOCK ||
      dsize > (uint64_t) m->size / BLOCK - doff)
    return xstrdup ("a VMDK whose embedded descriptor lies outside it");
  desc = malloc (dsize * BLOCK + 1);
  if (!desc)
    return xstrdup ("out of memory");
  if (pread_all (o, desc, dsize * BLOCK, m->offset + doff * BLOCK) == -1)
    return xstrdup (log_last_error ());
  desc[dsize * BLOCK] = '\0';
  if (memmem (desc, dsize * BLOCK, "parentFileNameHint", 18))
    return xstrdup ("a VMDK that names a parent disk (a snapshot delta): "
                    "refused; export the VM with its snapshots "
                    "consolidated");
  return NULL;
}

/* The disk format of a member, from its magic; NULL (with a message
 * in *why) for what cannot be read in place, or would make qemu read
 * another file (a backing file, an external data file or extent). */
static const char *
member_format (struct ova *o, const struct ova_member *m, char **why)
{
  unsigned char h[BLOCK];

  if (m->size < BLOCK) {
    *why = xasprintf ("%lld bytes: too small for a disk", (long long) m->size);
    return NULL;
  }
  if (pread_all (o, h, sizeof h, m->offset) == -1) {
    *why = xstrdup (log_last_error ());
    return NULL;
  }
  if (!memcmp (h, "KDMV", 4)) {
    *why = vmdk_refuse (o, m, 0);
    /* A stream's grain directory "at the end": qemu reads the footer. */
    if (!*why && be64 (h + 56) == UINT64_MAX)
      *why = m->size < 3 * BLOCK
        ? xstrdup ("a VMDK stream cut short")
        : vmdk_refuse (o, m, m->size - 2 * BLOCK);
    return *why ? NULL : "vmdk";
  }
  if (!memcmp (h, "# Disk DescriptorFile", 21)) {
    *why = xstrdup ("a VMDK descriptor whose extents are other files: "
                    "not readable inside an OVA");
    return NULL;
  }
  if (!memcmp (h, "QFI\xfb", 4)) {
    if (be64 (h + 8) != 0)
      *why = xstrdup ("a qcow2 image with a backing file: refused; an "
                      "OVA's disks must be whole");
    else if (be64 (h + 72) & 4 && h[7] >= 3)   /* data file bit */
      *why = xstrdup ("a qcow2 image with an external data file: refused");
    return *why ? NULL : "qcow2";
  }
  if (!memcmp (h, "conectix", 8))
    return "vpc";
  if (!memcmp (h, "vhdxfile", 8))
    return "vhdx";
  return "raw";
}

struct window {
  const char *ova;
  const struct ova_member *m;
};

/* A VMDK extent qemu opened: only the member's own window. */
static bool
extent_in_member (const char *file, void *arg)
{
  const struct window *w = arg;
  CLEANUP_CJSON cJSON *j = NULL;
  const cJSON *off;
  const char *fn, *drv;

  if (strncmp (file, "json:", 5) || !(j = cJSON_Parse (file + 5)))
    return false;
  /* qemu gives the offset as a number or as text. */
  off = cJSON_GetObjectItem (j, "offset");
  fn = json_str (cJSON_GetObjectItem (j, "file"), "filename");
  drv = json_str (j, "driver");
  return drv && !strcmp (drv, "raw") && fn && !strcmp (fn, w->ova) &&
    ((cJSON_IsNumber (off) && off->valuedouble == (double) w->m->offset) ||
     (cJSON_IsString (off) &&
      strtoll (off->valuestring, NULL, 10) == w->m->offset));
}

/* Virtual size of the member as a disk (and, for qcow2, whether its
 * tables are whole); -1 with a message in *why. */
static int64_t
member_probe (const char *ova, const struct ova_member *m, const char *opts,
              const char *fmt, char **why)
{
  CLEANUP_FREE char *out = NULL, *err = NULL;
  const char *info[] = { "qemu-img", "info", "--output=json", "-U", opts,
                         NULL };
  struct window w = { ova, m };
  cJSON *j, *v;
  int64_t size = -1;

  if (run_command_full (&out, &err, info) != 0) {
    *why = first_line (err && *err ? err : "qemu-img info failed");
    return -1;
  }
  j = cJSON_Parse (out);
  v = cJSON_GetObjectItem (j, "virtual-size");
  if (cJSON_IsNumber (v))
    size = (int64_t) v->valuedouble;
  *why = j ? image_external (j, extent_in_member, &w) : NULL;
  cJSON_Delete (j);
  if (*why) {
    char *r = xasprintf ("%s: refused; an OVA's disks must be whole", *why);
    free (*why);
    *why = r;
    return -1;
  }
  if (size < BLOCK) {
    *why = xstrdup ("no virtual size");
    return -1;
  }
  if (!strcmp (fmt, "qcow2")) {
    /* As for plain files (prep/check/vm.c): info opens a truncated qcow2. */
    const char *check[] = { "qemu-img", "check", "-U", "-q", opts, NULL };
    int r;
    free (out); free (err);
    out = err = NULL;
    r = run_command_full (&out, &err, check);
    if (r != 0 && r != 3) {
      CLEANUP_FREE char *l = first_line (err && *err ? err : out);
      *why = xasprintf ("qemu-img check: %s", l && *l ? l
                        : "the image is damaged");
      return -1;
    }
  }
  return size;
}

/* Serve the member with a read-only qemu-nbd on dir/diskN.sock. */
static int
member_serve (struct vm_desc *d, size_t i, const char *opts)
{
  CLEANUP_FREE char *sock = xasprintf ("%s/disk%zu.sock", d->ova_dir, i);
  CLEANUP_FREE char *pidfile = xasprintf ("%s/disk%zu.pid", d->ova_dir, i);
  CLEANUP_FREE char *err = NULL, *pidtext = NULL;
  const char *argv[] = { "qemu-nbd", "--read-only", "--persistent",
                         "--shared=8", "--fork", "--pid-file", pidfile,
                         "--socket", sock, "--", opts, NULL };
  char *end;
  long pid;

  if (!sock || !pidfile)
    return -1;
  if (run_command_full (NULL, &err, argv) != 0) {
    CLEANUP_FREE char *why = first_line (err);
    azp_error ("%s: qemu-nbd cannot serve %s: %s", d->source, d->disks[i],
               why ? why : "");
    return -1;
  }
  pidtext = desc_slurp (pidfile, NULL);
  pid = pidtext ? strtol (pidtext, &end, 10) : 0;
  if (pid <= 1) {
    azp_error ("%s: qemu-nbd left no pid file", d->source);
    return -1;
  }
  d->nbd_pid[i] = (pid_t) pid;
  d->nbd_server[i] = xasprintf ("unix:%s", sock);
  return d->nbd_server[i] ? 0 : -1;
}

int
ova_serve_disks (struct vm_desc *d, const char *path, char *const *hrefs)
{
  const char *tmp = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/var/tmp";
  CLEANUP_FREE char *tmpl = xasprintf ("%s/azprep-ova-XXXXXX", tmp);
  struct ova o;
  int ret = -1;

  if (ova_open (&o, path) == -1)
    return -1;
  d->nbd_server = calloc (d->ndisks + 1, sizeof *d->nbd_server);
  d->nbd_pid = calloc (d->ndisks + 1, sizeof *d->nbd_pid);
  d->nbd_size = calloc (d->ndisks + 1, sizeof *d->nbd_size);
  d->disk_error = calloc (d->ndisks + 1, sizeof *d->disk_error);
  if (!d->nbd_server || !d->nbd_pid || !d->nbd_size || !d->disk_error ||
      !tmpl) {
    azp_error ("out of memory");
    goto out;
  }
  if (!mkdtemp (tmpl)) {
    azp_error ("%s: cannot create a temporary directory: %m", tmp);
    goto out;
  }
  d->ova_dir = xstrdup (tmpl);
  for (size_t i = 0; i < d->ndisks && hrefs[i]; i++) {
    bool twice;
    const struct ova_member *m = ova_find (&o, hrefs[i], &twice);
    CLEANUP_FREE char *opts = NULL;
    char *why = NULL;
    const char *fmt;
    if (!m) {
      d->disk_error[i] = xasprintf (twice
                                    ? "\"%s\" is in the OVA more than once"
                                    : "\"%s\" is not a member of the OVA",
                                    hrefs[i]);
      continue;
    }
    fmt = member_format (&o, m, &why);
    /* The format driver over the member's bytes, with no backing. */
    opts = fmt ? image_no_backing (fmt, path, m->offset, m->size) : NULL;
    if (fmt && opts)
      d->nbd_size[i] = member_probe (path, m, opts, fmt, &why);
    if (!fmt || !opts || d->nbd_size[i] < 0) {
      d->disk_error[i] = why ? why : xstrdup ("cannot be read");
      continue;
    }
    azp_debug ("%s: member %s: %s at byte %lld, %lld bytes, virtual size %lld",
               path, hrefs[i], fmt, (long long) m->offset, (long long) m->size,
               (long long) d->nbd_size[i]);
    if (member_serve (d, i, opts) == -1)
      goto out;
  }
  ret = 0;
 out:
  ova_close (&o);
  return ret;
}

/* The .ovf member's text (bounded), and its name. */
char *
ova_read_ovf (const char *path, char **member_r, size_t *len_r)
{
  struct ova o;
  const struct ova_member *m = NULL;
  char *text = NULL;

  *member_r = NULL;
  if (ova_open (&o, path) == -1)
    return NULL;
  for (size_t i = 0; i < o.n; i++) {
    size_t l = strlen (o.m[i].name);
    if (l > 4 && !strcasecmp (o.m[i].name + l - 4, ".ovf")) {
      if (m) {
        azp_error ("%s: more than one .ovf member (%s, %s): refused", path,
                   m->name, o.m[i].name);
        ova_close (&o);
        return NULL;
      }
      m = &o.m[i];
    }
  }
  if (!m || !desc_safe_relative (m->name))
    azp_error ("%s: no .ovf member in the OVA", path);
  else if (m->size > DESC_MAX_SIZE)
    azp_error ("%s: %s is larger than %d bytes: refused", path, m->name,
               DESC_MAX_SIZE);
  else if ((text = malloc (m->size + 1)) &&
           pread_all (&o, text, m->size, m->offset) == 0) {
    text[m->size] = '\0';
    *len_r = m->size;
    *member_r = xstrdup (m->name);
  }
  else {
    free (text);
    text = NULL;
  }
  ova_close (&o);
  return text;
}

void
ova_stop (struct vm_desc *d)
{
  for (size_t i = 0; d->nbd_pid && i < d->ndisks; i++)
    if (d->nbd_pid[i] > 1)
      kill (d->nbd_pid[i], SIGTERM);
  if (d->ova_dir) {
    const char *argv[] = { "rm", "-rf", "--", d->ova_dir, NULL };
    run_command (NULL, argv);
  }
  free (d->ova_dir);
  free (d->nbd_pid);
  free (d->nbd_size);
  for (size_t i = 0; i < d->ndisks; i++) {
    if (d->nbd_server)
      free (d->nbd_server[i]);
    if (d->disk_error)
      free (d->disk_error[i]);
  }
  free (d->nbd_server);
  free (d->disk_error);
}
