/* linux-initramfs: every installed kernel's initramfs holds hv_vmbus,
 * hv_storvsc and hv_netvsc (and nvme, nvme_core where the kernel has
 * them), rebuilt by the guest's own tool run in the appliance
 * (distros/initramfs.c), and the setting is persisted so that future
 * kernel updates keep them.  The old initramfs is kept as
 * INITRD.azprep-orig.  Each rebuilt initramfs is listed again: a kernel
 * whose initramfs still lacks a driver fails the run.
 *
 * An initramfs is also rebuilt when it embeds a file another fixup
 * changes: LVM's devices file (system.devices) or a modprobe.d file
 * that blacklists a Hyper-V module.  Runs late (band 900), after every
 * input changed. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

/* Union of the drivers of every kernel. */
static char **
all_drivers (struct distro_data *d)
{
  char **all = calloc (1, sizeof *all);
  for (size_t i = 0; all && i < d->nkernels; i++)
    for (size_t j = 0; d->kernels[i].drivers && d->kernels[i].drivers[j]; j++)
      if (!strv_has (all, d->kernels[i].drivers[j]) &&
          strv_add (&all, d->kernels[i].drivers[j]) == -1) {
        free_string_list (all);
        return NULL;
      }
  return all;
}

/* Does the guest's copy of a modprobe.d file blacklist a Hyper-V
 * module (so the initramfs holds that blacklist too)? */
static bool
blacklists_hv (struct guest *gs, const char *path)
{
  CLEANUP_FREE char *text = NULL;
  struct lines ls;
  bool r = false;

  if (!guest_exists (gs, path))
    return false;
  text = distro_read_config (gs, path);
  if (!text || lines_split (&ls, text) == -1)
    return false;
  for (size_t i = 0; !r && i < ls.n; i++)
    r = modprobe_line_blocks_hv (ls.l[i]);
  lines_free (&ls);
  return r;
}

/* Why k's initramfs needs a rebuild (a new string), or NULL; *err on
 * error. */
static char *
why_rebuild (struct guest *gs, const struct kernel *k, bool *err)
{
  CLEANUP_FREE_STRING_LIST char **missing = NULL, **files = NULL;

  *err = false;
  missing = kernel_initrd_missing (gs, k);
  if (!missing) {
    *err = true;
    return NULL;
  }
  if (missing[0]) {
    CLEANUP_FREE char *words = strv_join (missing);
    char *s = words ? xasprintf ("kernel %s: initramfs %s %s", k->version,
                                 k->initrd_exists ? "lacks"
                                 : "is missing; needs", words) : NULL;
    *err = !s;
    return s;
  }
  files = initrd_list (gs, k->initrd);
  if (!files) {
    *err = true;
    return NULL;
  }
  for (size_t i = 0; files[i]; i++) {
    const char *f = files[i];
    if (!strncmp (f, "./", 2))
      f += 2;
    if (!strcmp (f, "etc/lvm/devices/system.devices"))
      return xasprintf ("kernel %s: initramfs embeds LVM's devices file "
                        "(VMware disk IDs)", k->version);
    if (!strncmp (f, "etc/modprobe.d/", 15) ||
        !strncmp (f, "usr/lib/modprobe.d/", 19)) {
      CLEANUP_FREE char *gp = xasprintf ("/%s", f);
      if (gp && blacklists_hv (gs, gp))
        return xasprintf ("kernel %s: initramfs embeds %s, which "
                          "blacklists a Hyper-V module", k->version, gp);
    }
  }
  return NULL;
}

static int
rebuild (struct guest *gs, struct distro_data *d, struct kernel *k)
{
  CLEANUP_FREE_STRING_LIST char **missing = NULL;
  CLEANUP_FREE char *before = NULL, *after = NULL, *phase = NULL;
  double t0 = monotonic_seconds ();
  int64_t size;

  if (k->initrd_exists) {
    size = guestfs_filesize (gs->g, k->initrd);
    before = xasprintf ("(%lld bytes)", (long long) size);
    if (guest_backup_file (gs, k->initrd) == -1)
      return -1;
  }
  if (d->initramfs->rebuild (gs, d->initramfs_tool, k, k->drivers) == -1) {
    azp_error ("kernel %s: rebuilding %s with %s failed; nothing was committed",
               k->version, k->initrd, d->initramfs_tool);
    return -1;
  }
  k->initrd_exists = guest_exists (gs, k->initrd);
  missing = kernel_initrd_missing (gs, k);
  if (!missing)
    return -1;
  if (!k->initrd_exists || missing[0]) {
    azp_error ("kernel %s: %s %s after %s ran: %s", k->version, k->initrd,
               k->initrd_exists ? "still lacks drivers" : "was not created",
               d->initramfs_tool, missing[0] ? missing[0] : "");
    return -1;
  }
  size = guestfs_filesize (gs->g, k->initrd);
  after = xasprintf ("(%lld bytes, verified: holds the Hyper-V drivers)",
                     (long long) size);
  phase = xasprintf ("initramfs %s (rebuilt, verified)", k->version);
  if (phase)
    guest_timing (gs, phase, t0);
  return report_change (gs->report, "initramfs", k->initrd, before, after);
}

/* Each kernel whose initramfs lacks the drivers: report it (check) or
 * rebuild it (apply), so that both judge the kernels alike. */
static int
each_rebuild (struct guest *gs, struct distro_data *d, bool fix)
{
  for (size_t i = 0; i < d->nkernels; i++) {
    bool err;
    CLEANUP_FREE char *why = why_rebuild (gs, &d->kernels[i], &err);
    if (err)
      return -1;
    if (!why)
      continue;
    if (fix) {
      azp_info ("%s: rebuilding (%s)", d->kernels[i].initrd, why);
      if (rebuild (gs, d, &d->kernels[i]) == -1)
        return -1;
    }
    else if (report_finding (gs->report, SEV_BLOCKER,
                             "linux-initramfs-hv-drivers",
                             d->kernels[i].initrd, NULL, true, "%s (%s)",
                             why, d->initramfs->name) == -1)
      return -1;
  }
  return 0;
}

static int
run (struct guest *gs, bool fix)
{
  struct distro_data *d = distro_get (gs);
  CLEANUP_FREE_STRING_LIST char **drivers = all_drivers (d);
  CLEANUP_FREE char *content = NULL, *dir = NULL;
  const char *path = NULL;

  if (!drivers || !d->initramfs)
    return drivers ? 0 : -1;
  /* check lists the kernels first; apply persists first, as the tools
   * read these files while rebuilding. */
  if (!fix && each_rebuild (gs, d, false) == -1)
    return -1;
  if (drivers[0] &&
      d->initramfs->persist (gs, drivers, &path, &content) == -1)
    return -1;
  if (content && !fix &&
      report_finding (gs->report, SEV_WARNING, "linux-initramfs-persist",
                      path, NULL, true, "future kernels' initramfs would "
                      "lack the Hyper-V drivers (%s)",
                      d->initramfs->name) == -1)
    return -1;
  if (content && fix) {
    dir = strndup (path, strrchr (path, '/') - path);
    if (!dir || guestfs_mkdir_p (gs->g, dir) == -1 ||
        guest_write_file (gs, path, content, strlen (content)) == -1)
      return -1;
  }
  return fix ? each_rebuild (gs, d, true) : 0;
}

static const struct fixup linux_initramfs = {
  .name = "linux-initramfs",
  .heading = "Hyper-V drivers in every kernel's initramfs (verified)",
  .order = 900,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_initramfs);
