/* linux-fstab's transforms of fstab and crypttab text (see
 * fstab-edit.h and linux-fstab.c for what changes and why).  No guest
 * here: devices come through a devmap, findings go to a report. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/fstab.h"
#include "prep/report.h"
#include "distros/distro.h"
#include "fixups/fstab-edit.h"

static const char *const system_mps[] = {
  "/", "/boot", "/boot/efi", "/efi", "/usr", "/var", NULL
};

static bool
is_system_mp (const char *mp)
{
  for (size_t i = 0; system_mps[i]; i++)
    if (!strcmp (mp, system_mps[i]))
      return true;
  return false;
}

/* Line with field fi (as written) replaced by repl. */
static char *
replace_field (const char *l, const struct fstab_line *fl, size_t fi,
               const char *repl)
{
  return xasprintf ("%.*s%s%s", (int) fl->f[fi].start, l, repl,
                    l + fl->f[fi].start + fl->f[fi].len);
}

struct ctx {
  const struct fstab_edit *ed;
  bool fix;
  const char *file;
  char **system_disks;
};

static int
finding (struct ctx *c, size_t lineno, const char *fmt, const char *a,
         const char *b)
{
  return report_finding (c->ed->rep, SEV_BLOCKER, "linux-fstab-entry",
                         c->file, NULL, true, "line %zu: %s%s%s", lineno,
                         a, fmt, b);
}

/* The new spec for an unstable device name, or NULL (none needed);
 * *err set on error. */
static char *
stable_spec (struct ctx *c, const char *spec, const char *mp, size_t lineno,
             bool *err)
{
  CLEANUP_FREE char *uuid = NULL;

  *err = false;
  if (!device_unstable (spec))
    return NULL;
  uuid = c->ed->dm->uuid (c->ed->dm->opaque, spec, mp);
  if (!uuid) {
    /* Not on the disks given: a disk not attached, or a name azprep
     * cannot map.  Only a human can decide. */
    if (!c->fix &&
        report_finding (c->ed->rep, SEV_WARNING, "linux-fstab-unresolved",
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
    struct fstab_line fl;
    CLEANUP_FSTAB_ENTRY struct fstab_entry e = { NULL };
    CLEANUP_FREE char *disk = NULL;

    fstab_split_line (ls->l[i], strlen (ls->l[i]), &fl);
    if (fl.nfields < 3)
      continue;
    if (fstab_entry_of_line (ls->l[i], &fl, i + 1, &e) == -1)
      return -1;
    if (!is_system_mp (e.mp))
      continue;
    disk = c->ed->dm->disk (c->ed->dm->opaque, e.spec, e.mp);
    if (disk && !strv_has (c->system_disks, disk) &&
        strv_add (&c->system_disks, disk) == -1)
      return -1;
  }
  return 0;
}

/* Replace line i by nline (taken), or fail if it is NULL. */
static int
set_line (struct lines *ls, size_t i, char *nline)
{
  if (!nline)
    return -1;
  free (ls->l[i]);
  ls->l[i] = nline;
  return 0;
}

static int
fstab_line (struct ctx *c, struct lines *ls, size_t i, bool *changed)
{
  struct fstab_line fl;
  const char *l = ls->l[i];
  CLEANUP_FSTAB_ENTRY struct fstab_entry e = { NULL };
  CLEANUP_FREE char *nspec = NULL, *opts = NULL, *disk = NULL;
  bool err, net, swap, want_nofail = false, want_netdev = false;

  fstab_split_line (l, strlen (l), &fl);
  if (fl.nfields == 0)
    return 0;
  if (fl.nfields < 3 || fl.nfields > FSTAB_NFIELDS) {
    azp_error ("%s: line %zu cannot be parsed (%zu fields, expected 3 to 6): "
               "%s", c->file, i + 1, fl.nfields, l);
    return -1;
  }
  if (fstab_entry_of_line (l, &fl, i + 1, &e) == -1)
    return -1;
  /* The same test as check's fstab-network-filesystem rule. */
  net = fstab_is_network (&e);
  swap = !strcmp (e.type, "swap");
  if (!net) {
    nspec = stable_spec (c, e.spec, swap ? NULL : e.mp, i + 1, &err);
    if (err)
      return -1;
  }
  if (net) {
    want_netdev = !fstab_has_option (e.opts, "_netdev");
    want_nofail = !fstab_has_option (e.opts, "nofail");
  }
  else if (!is_system_mp (e.mp) && !fstab_has_option (e.opts, "nofail")) {
    disk = c->ed->dm->disk (c->ed->dm->opaque, e.spec, swap ? NULL : e.mp);
    want_nofail = disk && c->system_disks &&
      !strv_has (c->system_disks, disk);
  }
  if (!nspec && !want_nofail && !want_netdev)
    return 0;
  if (!c->fix) {
    if (nspec && finding (c, i + 1, " becomes ", e.spec, nspec) == -1)
      return -1;
    if ((want_nofail || want_netdev) &&
        finding (c, i + 1, net ? " (network filesystem) needs "
                 : " (data disk) needs ", e.mp,
                 want_netdev ? "_netdev,nofail" : "nofail") == -1)
      return -1;
    return 0;
  }
  /* Options first (later field), then the spec, so offsets hold. */
  if (want_nofail || want_netdev) {
    const char *add = want_netdev && want_nofail ? "_netdev,nofail"
      : want_netdev ? "_netdev" : "nofail";
    if (fl.nfields > FSTAB_OPTS) {
      opts = xasprintf ("%.*s,%s", (int) fl.f[FSTAB_OPTS].len,
                        l + fl.f[FSTAB_OPTS].start, add);
      if (set_line (ls, i, opts ? replace_field (l, &fl, FSTAB_OPTS, opts)
                    : NULL) == -1)
        return -1;
    }
    else {
      /* After the type, so that a trailing comment stays one. */
      size_t end = fl.f[FSTAB_TYPE].start + fl.f[FSTAB_TYPE].len;
      if (set_line (ls, i, xasprintf ("%.*s\tdefaults,%s%s", (int) end, l,
                                      add, l + end)) == -1)
        return -1;
    }
    l = ls->l[i];
  }
  if (nspec && set_line (ls, i, replace_field (l, &fl, FSTAB_SPEC,
                                               nspec)) == -1)
    return -1;
  *changed = true;
  return 0;
}

static int
crypttab_line (struct ctx *c, struct lines *ls, size_t i, bool *changed)
{
  struct fstab_line fl;
  CLEANUP_FREE char *dev = NULL, *nspec = NULL;
  bool err;

  /* crypttab is split as fstab is: name, device, key, options. */
  fstab_split_line (ls->l[i], strlen (ls->l[i]), &fl);
  if (fl.nfields == 0)
    return 0;
  if (fl.nfields < 2) {
    azp_error ("%s: line %zu cannot be parsed: %s", c->file, i + 1, ls->l[i]);
    return -1;
  }
  dev = strndup (ls->l[i] + fl.f[1].start, fl.f[1].len);
  nspec = dev ? stable_spec (c, dev, NULL, i + 1, &err) : NULL;
  if (!dev || err)
    return -1;
  if (!nspec)
    return 0;
  if (!c->fix)
    return finding (c, i + 1, " becomes ", dev, nspec);
  if (set_line (ls, i, replace_field (ls->l[i], &fl, 1, nspec)) == -1)
    return -1;
  *changed = true;
  return 0;
}

static int
edit_text (const struct fstab_edit *ed, const char *text, char **out,
           bool fstab)
{
  struct ctx c = { ed, ed->fix, ed->file, NULL };
  struct lines ls;
  bool changed = false;
  int r = 0;

  *out = NULL;
  if (lines_split (&ls, text) == -1)
    return -1;
  if (fstab && disks_of_system (&c, &ls) == -1)
    r = -1;
  for (size_t i = 0; r == 0 && i < ls.n; i++)
    r = fstab ? fstab_line (&c, &ls, i, &changed)
      : crypttab_line (&c, &ls, i, &changed);
  if (r == 0 && changed && !(*out = lines_join (&ls)))
    r = -1;
  lines_free (&ls);
  free_string_list (c.system_disks);
  return r;
}

int
fstab_edit_text (const struct fstab_edit *ed, const char *text, char **out)
{
  return edit_text (ed, text, out, true);
}

int
crypttab_edit_text (const struct fstab_edit *ed, const char *text,
                    char **out)
{
  return edit_text (ed, text, out, false);
}
