/* linux-fstab: /etc/fstab and /etc/crypttab on names that survive the
 * move.  Device names (/dev/sdX, /dev/vdX, /dev/nvmeXnYpZ, by-path)
 * become UUID=; UUID=, LABEL=, PARTUUID= and LVM / device-mapper names
 * stay.  Network filesystems keep their line and get _netdev,nofail
 * (commenting them out would silently lose data mounts; with nofail
 * the boot never waits for them).  Mounts on disks other than the
 * system disk (the one holding /, /boot, /usr, /var) get nofail, so a
 * data disk attached late or not at all does not stop the boot.
 * Everything else on a line (comments, blanks, tabs, the other fields
 * and options) is kept byte for byte. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define MAX_FIELDS 8

static const char *const netfs[] = {
  "nfs", "nfs4", "cifs", "smbfs", "smb3", "glusterfs", "ceph", "davfs",
  "fuse.sshfs", "sshfs", "9p", NULL
};
static const char *const system_mps[] = {
  "/", "/boot", "/boot/efi", "/efi", "/usr", "/var", NULL
};

struct field { size_t start, len; };

static size_t
split_fields (const char *l, struct field *f)
{
  size_t n = 0, i = 0;
  while (l[i] && n < MAX_FIELDS) {
    i += strspn (l + i, " \t\r");
    if (!l[i] || l[i] == '#')
      break;
    f[n].start = i;
    f[n].len = strcspn (l + i, " \t\r");
    i += f[n].len;
    n++;
  }
  return n;
}

static bool
field_is (const char *l, const struct field *f, const char *s)
{
  return f->len == strlen (s) && !strncmp (l + f->start, s, f->len);
}

static bool
in_list (const char *l, const struct field *f, const char *const *list)
{
  for (size_t i = 0; list[i]; i++)
    if (field_is (l, f, list[i]))
      return true;
  return false;
}

/* Does the comma-separated options field hold opt? */
static bool
has_opt (const char *l, const struct field *f, const char *opt)
{
  size_t ol = strlen (opt);
  for (size_t i = 0; i < f->len; ) {
    size_t n = strcspn (l + f->start + i, ",");
    if (n > f->len - i)
      n = f->len - i;
    if (n == ol && !strncmp (l + f->start + i, opt, ol))
      return true;
    i += n + 1;
  }
  return false;
}

/* Line with field fi replaced by repl. */
static char *
replace_field (const char *l, const struct field *f, const char *repl)
{
  return xasprintf ("%.*s%s%s", (int) f->start, l, repl,
                    l + f->start + f->len);
}

struct ctx {
  struct guest *gs;
  bool fix;
  const char *file;
  char **system_disks;
};

static int
finding (struct ctx *c, size_t lineno, const char *fmt, const char *a,
         const char *b)
{
  return report_finding (c->gs->report, SEV_BLOCKER, "linux-fstab-entry",
                         c->file, NULL, true, "line %zu: %s%s%s", lineno,
                         a, fmt, b);
}

/* The new spec for an unstable device name, or NULL (none needed);
 * *err set on error. */
static char *
stable_spec (struct ctx *c, const char *spec, const char *mp, size_t lineno,
             bool *err)
{
  CLEANUP_FREE char *dev = NULL, *uuid = NULL;

  *err = false;
  if (!device_unstable (spec))
    return NULL;
  dev = device_resolve (c->gs, spec, mp);
  uuid = dev ? device_uuid (c->gs, dev) : NULL;
  if (!uuid) {
    /* Not on the disks given: a disk not attached, or a name azprep
     * cannot map.  Only a human can decide. */
    if (!c->fix &&
        report_finding (c->gs->report, SEV_WARNING, "linux-fstab-unresolved",
                        c->file, "give every disk of the VM, or fix the "
                        "line by hand", false, "line %zu: %s is not on the "
                        "given disks; it cannot be made stable", lineno,
                        spec) == -1)
      *err = true;
    return NULL;
  }
  return xasprintf ("UUID=%s", uuid);
}

static int
disks_of_system (struct ctx *c, const struct lines *ls)
{
  for (size_t i = 0; i < ls->n; i++) {
    struct field f[MAX_FIELDS];
    size_t n = split_fields (ls->l[i], f);
    CLEANUP_FREE char *spec = NULL, *mp = NULL, *dev = NULL, *disk = NULL;
    if (n < 2 || !in_list (ls->l[i], &f[1], system_mps))
      continue;
    spec = strndup (ls->l[i] + f[0].start, f[0].len);
    mp = strndup (ls->l[i] + f[1].start, f[1].len);
    dev = spec && mp ? device_resolve (c->gs, spec, mp) : NULL;
    disk = dev ? device_disk (c->gs, dev) : NULL;
    if (disk && !strv_has (c->system_disks, disk) &&
        strv_add (&c->system_disks, disk) == -1)
      return -1;
  }
  return 0;
}

static int
fstab_line (struct ctx *c, struct lines *ls, size_t i, bool *changed)
{
  struct field f[MAX_FIELDS];
  const char *l = ls->l[i];
  size_t n = split_fields (l, f);
  CLEANUP_FREE char *spec = NULL, *mp = NULL, *nspec = NULL;
  CLEANUP_FREE char *opts = NULL, *nline = NULL, *dev = NULL, *disk = NULL;
  bool err, net, swap, want_nofail = false, want_netdev = false;

  if (n == 0)
    return 0;
  if (n < 3 || n > 6) {
    azp_error ("%s: line %zu cannot be parsed (%zu fields, expected 3 to 6): "
               "%s", c->file, i + 1, n, l);
    return -1;
  }
  spec = strndup (l + f[0].start, f[0].len);
  mp = strndup (l + f[1].start, f[1].len);
  if (!spec || !mp)
    return -1;
  net = in_list (l, &f[2], netfs);
  swap = field_is (l, &f[2], "swap");
  if (!net) {
    nspec = stable_spec (c, spec, swap ? NULL : mp, i + 1, &err);
    if (err)
      return -1;
  }
  if (net) {
    want_netdev = n < 4 || !has_opt (l, &f[3], "_netdev");
    want_nofail = n < 4 || !has_opt (l, &f[3], "nofail");
  }
  else if (!in_list (l, &f[1], system_mps) &&
           !(n >= 4 && has_opt (l, &f[3], "nofail"))) {
    dev = device_resolve (c->gs, spec, swap ? NULL : mp);
    disk = dev ? device_disk (c->gs, dev) : NULL;
    want_nofail = disk && c->system_disks &&
      !strv_has (c->system_disks, disk);
  }
  if (!nspec && !want_nofail && !want_netdev)
    return 0;
  if (!c->fix) {
    if (nspec && finding (c, i + 1, " becomes ", spec, nspec) == -1)
      return -1;
    if ((want_nofail || want_netdev) &&
        finding (c, i + 1, net ? " (network filesystem) needs "
                 : " (data disk) needs ", mp,
                 want_netdev ? "_netdev,nofail" : "nofail") == -1)
      return -1;
    return 0;
  }
  /* Options first (later field), then the spec, so offsets hold. */
  if (want_nofail || want_netdev) {
    const char *add = want_netdev && want_nofail ? "_netdev,nofail"
      : want_netdev ? "_netdev" : "nofail";
    if (n >= 4) {
      opts = xasprintf ("%.*s,%s", (int) f[3].len, l + f[3].start, add);
      nline = opts ? replace_field (l, &f[3], opts) : NULL;
    }
    else
      nline = xasprintf ("%s\tdefaults,%s", l, add);
    if (!nline)
      return -1;
    free (ls->l[i]);
    ls->l[i] = nline;
    nline = NULL;
    l = ls->l[i];
  }
  if (nspec) {
    nline = replace_field (l, &f[0], nspec);
    if (!nline)
      return -1;
    free (ls->l[i]);
    ls->l[i] = nline;
    nline = NULL;
  }
  *changed = true;
  return 0;
}

static int
crypttab_line (struct ctx *c, struct lines *ls, size_t i, bool *changed)
{
  struct field f[MAX_FIELDS];
  size_t n = split_fields (ls->l[i], f);
  CLEANUP_FREE char *dev = NULL, *nspec = NULL;
  bool err;

  if (n == 0)
    return 0;
  if (n < 2) {
    azp_error ("%s: line %zu cannot be parsed: %s", c->file, i + 1, ls->l[i]);
    return -1;
  }
  dev = strndup (ls->l[i] + f[1].start, f[1].len);
  nspec = dev ? stable_spec (c, dev, NULL, i + 1, &err) : NULL;
  if (!dev || err)
    return -1;
  if (!nspec)
    return 0;
  if (!c->fix)
    return finding (c, i + 1, " becomes ", dev, nspec);
  {
    char *nl = replace_field (ls->l[i], &f[1], nspec);
    if (!nl)
      return -1;
    free (ls->l[i]);
    ls->l[i] = nl;
  }
  *changed = true;
  return 0;
}

static int
run_file (struct guest *gs, bool fix, const char *file, bool fstab)
{
  struct ctx c = { gs, fix, file, NULL };
  CLEANUP_FREE char *text = NULL, *out = NULL;
  struct lines ls;
  bool changed = false;
  size_t len;
  int r = 0;

  if (!guest_exists (gs, file))
    return 0;
  text = guest_read_file (gs, file, 1 << 20, &len);
  if (!text)
    return -1;
  if (strlen (text) != len) {
    azp_error ("%s: not a text file", file);
    return -1;
  }
  if (lines_split (&ls, text) == -1)
    return -1;
  if (fstab && disks_of_system (&c, &ls) == -1)
    r = -1;
  for (size_t i = 0; r == 0 && i < ls.n; i++)
    r = fstab ? fstab_line (&c, &ls, i, &changed)
      : crypttab_line (&c, &ls, i, &changed);
  if (r == 0 && changed) {
    out = lines_join (&ls);
    r = out ? guest_write_file (gs, file, out, strlen (out)) : -1;
  }
  lines_free (&ls);
  free_string_list (c.system_disks);
  return r;
}

static int
run (struct guest *gs, bool fix)
{
  if (run_file (gs, fix, "/etc/fstab", true) == -1 ||
      run_file (gs, fix, "/etc/crypttab", false) == -1)
    return -1;
  return 0;
}

static const struct fixup linux_fstab = {
  .name = "linux-fstab",
  .heading = "fstab and crypttab on UUIDs; nofail for data and network "
             "mounts",
  .order = 120,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_fstab);
