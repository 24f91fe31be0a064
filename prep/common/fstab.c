/* The one fstab(5) reader and the network-filesystem table (see
 * fstab.h).  Inspection (its mountpoints), check (its rules) and the
 * linux-fstab fixup (which rewrites lines in place) all split lines
 * here, so that they can never read one line two ways. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/fstab.h"

/* Filesystem types that are not disks of the VM.  Each name is here
 * because some guest writes it in fstab:
 *   nfs, nfs4          NFS (nfs4 is the explicit v4 type);
 *   cifs, smb3, smbfs  SMB shares (smb3 is cifs's alias for SMB 3;
 *                      smbfs is the old name, still in old fstabs);
 *   glusterfs          GlusterFS's native client (mount.glusterfs);
 *   fuse.glusterfs     the same, named as the kernel lists it;
 *   ceph               CephFS's kernel client;
 *   sshfs, fuse.sshfs  SSHFS (mount.fuse's type, and its old name);
 *   davfs              WebDAV through davfs2;
 *   afs                AFS (OpenAFS, kAFS);
 *   9p                 a host folder shared by the hypervisor
 *                      (virtio-9p): no network, but no disk either, and
 *                      no such share on Azure. */
static const char *const network_types[] = {
  "nfs", "nfs4", "cifs", "smb3", "smbfs", "glusterfs", "fuse.glusterfs",
  "ceph", "sshfs", "fuse.sshfs", "davfs", "afs", "9p", NULL
};

bool
fstab_type_is_network (const char *type)
{
  for (size_t i = 0; type && network_types[i]; i++)
    if (!strcmp (type, network_types[i]))
      return true;
  return false;
}

bool
fstab_has_option (const char *opts, const char *opt)
{
  size_t ol = strlen (opt);

  for (const char *p = opts; p; p = strchr (p, ',')) {
    if (*p == ',')
      p++;
    if (!strncmp (p, opt, ol) && (p[ol] == ',' || p[ol] == '\0'))
      return true;
  }
  return false;
}

bool
fstab_is_network (const struct fstab_entry *e)
{
  return fstab_type_is_network (e->type) ||
    fstab_has_option (e->opts, "_netdev");
}

static bool
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

void
fstab_split_line (const char *line, size_t len, struct fstab_line *fl)
{
  size_t i = 0;

  fl->nfields = 0;
  for (;;) {
    while (i < len && is_blank (line[i]))
      i++;
    if (i == len || line[i] == '#')
      return;
    if (fl->nfields < FSTAB_NFIELDS)
      fl->f[fl->nfields].start = i;
    while (i < len && !is_blank (line[i]))
      i++;
    if (fl->nfields < FSTAB_NFIELDS)
      fl->f[fl->nfields].len = i - fl->f[fl->nfields].start;
    fl->nfields++;
  }
}

static bool
is_octal (char c)
{
  return c >= '0' && c <= '7';
}

char *
fstab_field (const char *line, const struct fstab_line *fl, size_t i)
{
  const char *s = line + fl->f[i].start;
  size_t n = fl->f[i].len, w = 0;
  char *r = malloc (n + 1);

  if (!r) {
    azp_error ("out of memory");
    return NULL;
  }
  for (size_t k = 0; k < n; k++) {
    /* \000 would end the string: it stays as written. */
    if (s[k] == '\\' && k + 3 < n && s[k + 1] >= '0' &&
        s[k + 1] <= '3' && is_octal (s[k + 2]) && is_octal (s[k + 3]) &&
        (s[k + 1] != '0' || s[k + 2] != '0' || s[k + 3] != '0')) {
      r[w++] = (char) ((s[k + 1] - '0') * 64 + (s[k + 2] - '0') * 8 +
                       (s[k + 3] - '0'));
      k += 3;
    }
    else
      r[w++] = s[k];
  }
  r[w] = '\0';
  return r;
}

/* A dump or pass field: its decimal value, 0 if it is not one. */
static int
field_number (const char *line, const struct fstab_line *fl, size_t i)
{
  int v = 0;

  if (i >= fl->nfields)
    return 0;
  for (size_t k = 0; k < fl->f[i].len; k++) {
    char c = line[fl->f[i].start + k];
    if (c < '0' || c > '9' || v > 99999)
      return 0;
    v = v * 10 + (c - '0');
  }
  return v;
}

int
fstab_entry_of_line (const char *line, const struct fstab_line *fl,
                     size_t lineno, struct fstab_entry *e)
{
  memset (e, 0, sizeof *e);
  if (fl->nfields < 3) {
    azp_error ("fstab line %zu: %zu fields, expected 3 or more", lineno,
               fl->nfields);
    return -1;
  }
  e->spec = fstab_field (line, fl, FSTAB_SPEC);
  e->mp = fstab_field (line, fl, FSTAB_FILE);
  e->type = fstab_field (line, fl, FSTAB_TYPE);
  e->opts = fl->nfields > FSTAB_OPTS ? fstab_field (line, fl, FSTAB_OPTS)
    : xstrdup ("defaults");
  e->freq = field_number (line, fl, FSTAB_FREQ);
  e->passno = field_number (line, fl, FSTAB_PASSNO);
  e->lineno = lineno;
  return e->spec && e->mp && e->type && e->opts ? 0 : -1;
}

void
fstab_entry_clear (struct fstab_entry *e)
{
  free (e->spec);
  free (e->mp);
  free (e->type);
  free (e->opts);
  memset (e, 0, sizeof *e);
}

void
fstab_free (struct fstab_entry *e, ssize_t n)
{
  for (ssize_t i = 0; i < n; i++)
    fstab_entry_clear (&e[i]);
  free (e);
}

ssize_t
fstab_parse (const char *text, size_t len, struct fstab_entry **out)
{
  struct fstab_entry *e = NULL;
  ssize_t n = 0;
  size_t lineno = 0;

  *out = NULL;
  for (size_t at = 0; at < len; ) {
    const char *line = text + at, *nl = memchr (line, '\n', len - at);
    size_t ll = nl ? (size_t) (nl - line) : len - at;
    struct fstab_line fl;
    struct fstab_entry *ne;

    at += ll + (nl != NULL);
    lineno++;
    fstab_split_line (line, ll, &fl);
    if (fl.nfields < 3)
      continue;
    ne = realloc (e, (n + 1) * sizeof *ne);
    if (!ne) {
      azp_error ("out of memory");
      fstab_free (e, n);
      return -1;
    }
    e = ne;
    if (fstab_entry_of_line (line, &fl, lineno, &e[n]) == -1) {
      fstab_free (e, n + 1);
      return -1;
    }
    n++;
  }
  *out = e;
  return n;
}
