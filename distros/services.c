/* Services: systemd units (links in /etc/systemd/system/TARGET.wants) or
 * SysV init scripts (links in /etc/rcN.d), whichever the guest boots
 * with.  Names are given without ".service". */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define UNIT_MAX (256 << 10)

static const char *const unit_dirs[] = {
  "/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system",
  NULL
};
static const char *const sysv_levels = "2345";

/* Other hypervisors' guest tools (linux-vmware-tools, inspection). */
const char *const hypervisor_tools[] = {
  /* VMware */
  "open-vm-tools", "vmtoolsd", "vmware-tools", "vmware-tools-thinprint",
  "vgauth", "vgauthd", "run-vmblock\\x2dfuse", "vmware-vmblock-fuse",
  /* VirtualBox, Parallels, Xen */
  "vboxadd", "vboxadd-service", "prltoolsd", "xe-linux-distribution",
  NULL
};

static bool
use_systemd (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);
  return d && d->systemd;
}

/* Can dir hold an entry named name?  On a read-only handle the
 * directory is listed once and the answer is "no" when the name is not
 * in it: one question per directory instead of one per unit and
 * directory (a dozen hypervisor tools, three unit directories).  When
 * it may (or cannot be listed), the caller asks about the file itself:
 * the entry may be a dangling link. */
static bool
may_hold (struct guest *gs, const char *dir, const char *name)
{
  struct distro_data *d = gs->readonly ? distro_get (gs) : NULL;
  struct dir_names *l = NULL, *nl;

  if (!d)
    return true;
  for (size_t i = 0; i < d->ndirs && !l; i++)
    if (!strcmp (d->dirs[i].dir, dir))
      l = &d->dirs[i];
  if (!l) {
    nl = realloc (d->dirs, (d->ndirs + 1) * sizeof *nl);
    if (!nl)
      return true;
    d->dirs = nl;
    l = &nl[d->ndirs];
    l->dir = xstrdup (dir);
    if (!l->dir)
      return true;
    guestfs_push_error_handler (gs->g, NULL, NULL);
    l->names = guest_ls (gs->g, dir);
    guestfs_pop_error_handler (gs->g);
    d->ndirs++;
  }
  return !l->names || strv_has (l->names, name);
}

/* The unit file's path, or NULL. */
static char *
unit_path (struct guest *gs, const char *name)
{
  CLEANUP_FREE char *file = xasprintf ("%s.service", name);

  for (size_t i = 0; file && unit_dirs[i]; i++) {
    char *p;
    int r;
    if (!may_hold (gs, unit_dirs[i], file))
      continue;
    p = xasprintf ("%s/%s", unit_dirs[i], file);
    if (!p)
      return NULL;
    r = guest_is_file (gs->g, p, true);
    if (r > 0)
      return p;
    free (p);
  }
  return NULL;
}

static bool
masked (struct guest *gs, const char *name)
{
  CLEANUP_FREE char *file = xasprintf ("%s.service", name);
  CLEANUP_FREE char *p = xasprintf ("/etc/systemd/system/%s", file);
  CLEANUP_FREE char *t = NULL;
  if (!p || !may_hold (gs, "/etc/systemd/system", file))
    return false;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  t = guestfs_readlink (gs->g, p);
  guestfs_pop_error_handler (gs->g);
  return t && !strcmp (t, "/dev/null");
}

char **
service_links (struct guest *gs, const char *name)
{
  CLEANUP_FREE char *pat = NULL;
  char **r;

  if (use_systemd (gs))
    pat = xasprintf ("/etc/systemd/system/*.wants/%s.service", name);
  else
    pat = xasprintf ("/etc/rc[%s].d/S[0-9][0-9]%s", sysv_levels, name);
  if (!pat)
    return NULL;
  r = guestfs_glob_expand (gs->g, pat);
  if (!r)
    azp_error ("%s: %s", pat, guestfs_last_error (gs->g));
  return r;
}

bool
service_installed (struct guest *gs, const char *name)
{
  if (use_systemd (gs)) {
    CLEANUP_FREE char *p = unit_path (gs, name);
    if (p)
      return true;
  }
  {
    CLEANUP_FREE char *s = xasprintf ("/etc/init.d/%s", name);
    return s && may_hold (gs, "/etc/init.d", name) && guest_exists (gs, s);
  }
}

bool
service_enabled (struct guest *gs, const char *name)
{
  CLEANUP_FREE_STRING_LIST char **links = service_links (gs, name);
  if (use_systemd (gs) && masked (gs, name))
    return false;
  return links && links[0];
}

/* The target a unit wants to be linked from: its [Install] WantedBy=. */
static char *
wanted_by (struct guest *gs, const char *unit)
{
  CLEANUP_FREE char *text = guest_read_file (gs, unit, UNIT_MAX, NULL);
  const char *p = text ? strstr (text, "\nWantedBy=") : NULL;
  if (p) {
    p += strlen ("\nWantedBy=");
    return strndup (p, strcspn (p, " \t\r\n"));
  }
  return xstrdup ("multi-user.target");
}

char *
service_enable_link (struct guest *gs, const char *name)
{
  if (use_systemd (gs)) {
    CLEANUP_FREE char *unit = unit_path (gs, name), *target = NULL;
    if (!unit)
      return xasprintf ("/etc/systemd/system/multi-user.target.wants/"
                        "%s.service", name);
    target = wanted_by (gs, unit);
    return target ? xasprintf ("/etc/systemd/system/%s.wants/%s.service",
                               target, name) : NULL;
  }
  return xasprintf ("/etc/rc%c.d/S20%s", sysv_levels[0], name);
}

int
service_enable (struct guest *gs, const char *name)
{
  if (use_systemd (gs)) {
    CLEANUP_FREE char *unit = unit_path (gs, name);
    CLEANUP_FREE char *target = NULL, *dir = NULL, *link = NULL;
    CLEANUP_FREE char *mask = NULL;

    if (masked (gs, name)) {
      mask = xasprintf ("/etc/systemd/system/%s.service", name);
      if (!mask || guest_remove_file (gs, mask) == -1)
        return -1;
      free (unit);
      unit = unit_path (gs, name);
    }
    if (!unit) {
      azp_error ("%s.service: no unit file in the guest", name);
      return -1;
    }
    target = wanted_by (gs, unit);
    dir = xasprintf ("/etc/systemd/system/%s.wants", target ? target : "");
    link = xasprintf ("%s/%s.service", dir ? dir : "", name);
    if (!target || !dir || !link)
      return -1;
    if (!gs->dry_run && guestfs_mkdir_p (gs->g, dir) == -1) {
      azp_error ("%s: %s", dir, guestfs_last_error (gs->g));
      return -1;
    }
    return guest_symlink (gs, unit, link);
  }
  for (const char *l = sysv_levels; *l; l++) {
    CLEANUP_FREE char *link = xasprintf ("/etc/rc%c.d/S20%s", *l, name);
    CLEANUP_FREE char *target = xasprintf ("../init.d/%s", name);
    CLEANUP_FREE char *dir = xasprintf ("/etc/rc%c.d", *l);
    CLEANUP_FREE char *kpat = xasprintf ("/etc/rc%c.d/K[0-9][0-9]%s", *l,
                                         name);
    CLEANUP_FREE_STRING_LIST char **kill = NULL;
    if (!link || !target || !dir || !kpat)
      return -1;
    kill = guestfs_glob_expand (gs->g, kpat);
    for (size_t i = 0; kill && kill[i]; i++)
      if (guest_remove_file (gs, kill[i]) == -1)
        return -1;
    if (!gs->dry_run && guestfs_mkdir_p (gs->g, dir) == -1) {
      azp_error ("%s: %s", dir, guestfs_last_error (gs->g));
      return -1;
    }
    if (guest_symlink (gs, target, link) == -1)
      return -1;
  }
  return 0;
}

int
service_disable (struct guest *gs, const char *name)
{
  CLEANUP_FREE_STRING_LIST char **links = service_links (gs, name);

  if (!links)
    return -1;
  for (size_t i = 0; links[i]; i++)
    if (guest_remove_file (gs, links[i]) == -1)
      return -1;
  return 0;
}
