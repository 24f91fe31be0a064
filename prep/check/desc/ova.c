/* OVA archives read in place.  An OVA is a tar (ustar, with GNU or pax
 * long names): the .ovf member is read with pread, and each disk member
 * is served, decoded, by a read-only qemu-nbd that reads the member's
 * byte range of the archive (qemu's raw driver with offset and size
 * under the disk's format driver: a streamOptimized VMDK works as it
 * is).  Nothing is extracted, so there are no paths to escape through
 * (the tar reader is tar.c).  A member is opened with no backing file,
 * and refused if qemu would read any other file through it: its bytes
 * come from whoever made the OVA.
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
#include "prep/check/desc/tar.h"

#define BLOCK OVA_BLOCK

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

  if (ova_pread (o, h, sizeof h, m->offset + off) == -1)
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
  if (ova_pread (o, desc, dsize * BLOCK, m->offset + doff * BLOCK) == -1)
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
  if (ova_pread (o, h, sizeof h, m->offset) == -1) {
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
           ova_pread (&o, text, m->size, m->offset) == 0) {
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
