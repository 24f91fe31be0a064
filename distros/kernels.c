/* Installed kernels: /boot/vmlinuz-VERSION with /lib/modules/VERSION,
 * which Hyper-V drivers each has, and its initramfs. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define BUILTIN_MAX (4 << 20)
#define MODULES_DEP_MAX (32 << 20)

static const char *const other_initrd_names[] = {
  "/boot/initrd.img-%s", "/boot/initramfs-%s.img", "/boot/initrd-%s",
  "/boot/initrd-%s.img", NULL
};

/* "kernel/drivers/hv/hv_vmbus.ko.xz" -> "hv_vmbus" (modprobe's names
 * use '_' where file names may use '-').  NULL if not a module. */
static char *
module_name (const char *path)
{
  const char *base = strrchr (path, '/');
  const char *ko;
  char *name;

  base = base ? base + 1 : path;
  ko = strstr (base, ".ko");
  if (!ko || (ko[3] != '\0' && ko[3] != '.'))
    return NULL;
  name = strndup (base, ko - base);
  for (char *p = name; p && *p; p++)
    if (*p == '-')
      *p = '_';
  return name;
}

/* Add path's module to *modules if it is one azprep asks about. */
static int
note_module (char ***modules, const char *path)
{
  static const char *const required[] = HV_REQUIRED_DRIVERS;
  static const char *const optional[] = HV_OPTIONAL_DRIVERS;
  CLEANUP_FREE char *m = module_name (path);

  if (!m || strv_has (*modules, m) ||
      (!strv_has ((char *const *) required, m) &&
       !strv_has ((char *const *) optional, m)))
    return 0;
  return strv_add (modules, m);
}

static int
add_kernel_drivers (struct guest *gs, struct kernel *k)
{
  static const char *const required[] = HV_REQUIRED_DRIVERS;
  static const char *const optional[] = HV_OPTIONAL_DRIVERS;
  CLEANUP_FREE char *dir = xasprintf ("/lib/modules/%s", k->version);
  CLEANUP_FREE char *bpath = NULL;
  CLEANUP_FREE_STRING_LIST char **files = NULL, **modules = NULL;
  CLEANUP_FREE_STRING_LIST char **builtin = NULL;
  CLEANUP_FREE char *btxt = NULL, *dtxt = NULL, *dpath = NULL;

  if (!dir)
    return -1;
  /* modules.dep lists every module modprobe and the initramfs tools
   * can load (one read); without it (depmod never ran), list the
   * tree. */
  dpath = xasprintf ("%s/modules.dep", dir);
  if (dpath && guest_exists (gs, dpath)) {
    char *save = NULL;
    dtxt = guest_read_file (gs, dpath, MODULES_DEP_MAX, NULL);
    if (!dtxt)
      return -1;
    for (char *l = strtok_r (dtxt, "\n", &save); l;
         l = strtok_r (NULL, "\n", &save)) {
      char *colon = strchr (l, ':');
      if (colon)
        *colon = '\0';
      if (note_module (&modules, l) == -1)
        return -1;
    }
  }
  else if (!(files = guestfs_find (gs->g, dir))) {
    azp_error ("%s: %s", dir, guestfs_last_error (gs->g));
    return -1;
  }
  for (size_t i = 0; files && files[i]; i++)
    if (note_module (&modules, files[i]) == -1)
      return -1;
  bpath = xasprintf ("%s/modules.builtin", dir);
  if (bpath && guest_exists (gs, bpath)) {
    char *save = NULL;
    btxt = guest_read_file (gs, bpath, BUILTIN_MAX, NULL);
    if (!btxt)
      return -1;
    for (char *l = strtok_r (btxt, "\n", &save); l;
         l = strtok_r (NULL, "\n", &save)) {
      CLEANUP_FREE char *m = module_name (l);
      if (m && strv_add (&builtin, m) == -1)
        return -1;
    }
  }
  for (size_t i = 0; required[i]; i++) {
    if (strv_has (modules, required[i])) {
      if (strv_add (&k->drivers, required[i]) == -1)
        return -1;
    }
    else if (strv_has (builtin, required[i])) {
      if (strv_add (&k->builtin, required[i]) == -1)
        return -1;
    }
    else if (strv_add (&k->absent, required[i]) == -1)
      return -1;
  }
  for (size_t i = 0; optional[i]; i++)
    if (strv_has (modules, optional[i]) &&
        strv_add (&k->drivers, optional[i]) == -1)
      return -1;
  return 0;
}

/* pattern with its "%s" replaced by ver. */
static char *
expand (const char *pattern, const char *ver)
{
  const char *p = strstr (pattern, "%s");
  if (!p)
    return xstrdup (pattern);
  return xasprintf ("%.*s%s%s", (int) (p - pattern), pattern, ver, p + 2);
}

static char *
find_initrd (struct guest *gs, const struct distro_ops *ops, const char *ver,
             bool *exists)
{
  const char *const *lists[] = { ops->initrd_names, other_initrd_names };

  for (size_t l = 0; l < 2; l++)
    for (size_t i = 0; lists[l][i]; i++) {
      CLEANUP_FREE char *p = expand (lists[l][i], ver);
      if (p && guest_is_file (gs->g, p, false) > 0) {
        *exists = true;
        return strdup (p);
      }
    }
  *exists = false;
  return expand (ops->initrd_names[0], ver);
}

int
kernels_detect (struct guest *gs, struct distro_data *d)
{
  CLEANUP_FREE_STRING_LIST char **vmlinuz = NULL;

  vmlinuz = guestfs_glob_expand (gs->g, "/boot/vmlinuz-*");
  if (!vmlinuz) {
    azp_error ("/boot: %s", guestfs_last_error (gs->g));
    return -1;
  }
  for (size_t i = 0; vmlinuz[i]; i++) {
    const char *ver = vmlinuz[i] + strlen ("/boot/vmlinuz-");
    CLEANUP_FREE char *mods = xasprintf ("/lib/modules/%s", ver);
    struct kernel *nk, *k;
    int isdir;

    guestfs_push_error_handler (gs->g, NULL, NULL);
    isdir = mods ? guest_is_dir (gs->g, mods, false) : 0;
    guestfs_pop_error_handler (gs->g);
    /* A vmlinuz without modules (a rescue kernel, a leftover) is not a
     * kernel azprep can prepare; its initramfs is generic anyway. */
    if (isdir <= 0 || strstr (ver, ".azprep-orig")) {
      azp_debug ("%s: no %s, not a kernel to prepare", vmlinuz[i],
                 mods ? mods : "");
      continue;
    }
    nk = realloc (d->kernels, (d->nkernels + 1) * sizeof *nk);
    if (!nk) {
      azp_error ("out of memory");
      return -1;
    }
    d->kernels = nk;
    k = &d->kernels[d->nkernels++];
    memset (k, 0, sizeof *k);
    k->version = strdup (ver);
    k->vmlinuz = strdup (vmlinuz[i]);
    k->initrd = find_initrd (gs, d->ops, ver, &k->initrd_exists);
    if (!k->version || !k->vmlinuz || !k->initrd) {
      azp_error ("out of memory");
      return -1;
    }
    if (add_kernel_drivers (gs, k) == -1)
      return -1;
  }
  return 0;
}

/* Does this initramfs listing hold driver (as a module file)? */
static bool
listing_has (char *const *files, const char *driver)
{
  for (size_t i = 0; files[i]; i++) {
    CLEANUP_FREE char *m = module_name (files[i]);
    if (m && !strcmp (m, driver))
      return true;
  }
  return false;
}

char **
kernel_initrd_missing (struct guest *gs, const struct kernel *k)
{
  CLEANUP_FREE_STRING_LIST char **files = NULL;
  char **missing = calloc (1, sizeof *missing);

  if (!missing) {
    azp_error ("out of memory");
    return NULL;
  }
  if (!guest_exists (gs, k->initrd)) {
    for (size_t i = 0; k->drivers && k->drivers[i]; i++)
      if (strv_add (&missing, k->drivers[i]) == -1)
        goto fail;
    return missing;
  }
  files = initrd_list (gs, k->initrd);
  if (!files)
    goto fail;
  for (size_t i = 0; k->drivers && k->drivers[i]; i++)
    if (!listing_has (files, k->drivers[i]) &&
        strv_add (&missing, k->drivers[i]) == -1)
      goto fail;
  return missing;
 fail:
  free_string_list (missing);
  return NULL;
}
