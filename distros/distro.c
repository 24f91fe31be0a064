/* Choosing the distro family and what the guest really has, once. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const struct distro_ops *const families[] = {
  &distro_debian, &distro_rhel, &distro_suse, NULL
};
static const struct initramfs_ops *const initramfs_tools[] = {
  &initramfs_tools_ops, &initramfs_dracut_ops, &initramfs_mkinitrd_ops, NULL
};
static const struct net_ops *const net_stacks[] = {
  &net_ifupdown_ops, &net_ifcfg_ops, &net_wicked_ops, &net_nm_ops,
  &net_netplan_ops, NULL
};

const char *
guest_first_existing (struct guest *gs, const char *const *paths)
{
  for (size_t i = 0; paths && paths[i]; i++)
    if (guest_exists (gs, paths[i]))
      return paths[i];
  return NULL;
}

int
guest_run (struct guest *gs, const char *const *argv)
{
  CLEANUP_FREE char *out = NULL, *cmd = NULL, *phase = NULL;
  double t0 = monotonic_seconds ();

  azp_debug ("guest: running %s", argv[0]);
  out = guestfs_command (gs->g, (char **) argv);
  if (!out) {
    azp_error ("%s (run in the guest) failed: %s", argv[0],
               guestfs_last_error (gs->g));
    return -1;
  }
  cmd = strv_join ((char *const *) argv);
  phase = cmd ? xasprintf ("run %s", cmd) : NULL;
  if (phase)
    guest_timing (gs, phase, t0);
  if (*out)
    azp_debug ("%s: %s", argv[0], out);
  return 0;
}

int
strv_add (char ***list, const char *s)
{
  size_t n = count_strings (*list);
  char **nl = realloc (*list, (n + 2) * sizeof *nl);
  if (!nl) {
    azp_error ("out of memory");
    return -1;
  }
  *list = nl;
  nl[n] = strdup (s);
  nl[n + 1] = NULL;
  if (!nl[n]) {
    azp_error ("out of memory");
    return -1;
  }
  return 0;
}

bool
strv_has (char *const *list, const char *s)
{
  for (size_t i = 0; list && list[i]; i++)
    if (!strcmp (list[i], s))
      return true;
  return false;
}

char *
strv_join (char *const *list)
{
  size_t len = 1;
  char *s, *p;

  for (size_t i = 0; list[i]; i++)
    len += strlen (list[i]) + 1;
  s = p = malloc (len);
  if (!s) {
    azp_error ("out of memory");
    return NULL;
  }
  *p = '\0';
  for (size_t i = 0; list[i]; i++) {
    if (i > 0)
      *p++ = ' ';
    p = stpcpy (p, list[i]);
  }
  return s;
}

static const struct distro_ops *
find_family (const char *distro)
{
  for (size_t i = 0; distro && families[i]; i++)
    for (size_t j = 0; families[i]->distros[j]; j++)
      if (!strcmp (families[i]->distros[j], distro))
        return families[i];
  return NULL;
}

/* The initramfs tool: the family's preference among the tools that
 * really exist in the guest. */
static void
detect_initramfs (struct guest *gs, struct distro_data *d)
{
  for (size_t i = 0; d->ops->initramfs_prefer[i]; i++)
    for (size_t j = 0; initramfs_tools[j]; j++) {
      const struct initramfs_ops *t = initramfs_tools[j];
      const char *p;
      if (strcmp (t->name, d->ops->initramfs_prefer[i]))
        continue;
      p = guest_first_existing (gs, t->tools);
      if (p) {
        d->initramfs = t;
        d->initramfs_tool = strdup (p);
        return;
      }
    }
}

static void
detect_bootloader (struct guest *gs, struct distro_data *d)
{
  static const char *const grubby[] = {
    "/usr/sbin/grubby", "/sbin/grubby", "/usr/bin/grubby", NULL
  };
  const char *cfg = guest_first_existing (gs, d->ops->grub_cfgs);
  const char *tool = guest_first_existing (gs, d->ops->grub_mkconfig);
  const char *gb = guest_first_existing (gs, grubby);

  if (cfg)
    d->grub_cfg = strdup (cfg);
  if (tool)
    d->grub_tool = strdup (tool);
  if (gb)
    d->grubby = strdup (gb);
  /* BLS: RHEL 8+ keep one entry per kernel in /boot/loader/entries and
   * grubby edits them; grub.cfg then holds no kernel lines. */
  if (guest_is_dir (gs->g, "/boot/loader/entries", false) > 0 && gb) {
    CLEANUP_FREE_STRING_LIST char **e =
      guestfs_glob_expand (gs->g, "/boot/loader/entries/*.conf");
    if (e && e[0]) {
      d->grub = GRUB_BLS;
      return;
    }
  }
  if (tool)
    d->grub = GRUB_MKCONFIG;
  if (gs->firmware == FIRMWARE_UEFI) {
    if (guest_is_dir (gs->g, "/boot/efi/EFI", false) > 0)
      d->esp_efi = strdup ("/boot/efi/EFI");
    else if (guest_is_dir (gs->g, "/efi/EFI", false) > 0)
      d->esp_efi = strdup ("/efi/EFI");
  }
}

static void
detect_network (struct guest *gs, struct distro_data *d)
{
  for (size_t i = 0; d->ops->net_stacks[i]; i++)
    for (size_t j = 0; net_stacks[j]; j++)
      if (!strcmp (net_stacks[j]->name, d->ops->net_stacks[i]) &&
          d->nnet < sizeof d->net / sizeof d->net[0])
        d->net[d->nnet++] = net_stacks[j];
}

struct distro_data *
distro_get (struct guest *gs)
{
  struct distro_data *d = gs->distro_data;
  static const char *const systemd[] = {
    "/lib/systemd/systemd", "/usr/lib/systemd/systemd", NULL
  };

  if (d)
    return d;
  d = calloc (1, sizeof *d);
  if (!d) {
    azp_error ("out of memory");
    return NULL;
  }
  gs->distro_data = d;
  d->ops = find_family (gs->distro);
  if (!d->ops) {
    d->unsupported = "this Linux distribution is not supported";
    return d;
  }
  guestfs_push_error_handler (gs->g, NULL, NULL);
  d->systemd = guest_first_existing (gs, systemd) != NULL;
  detect_initramfs (gs, d);
  detect_bootloader (gs, d);
  detect_network (gs, d);
  guestfs_pop_error_handler (gs->g);
  if (kernels_detect (gs, d) == -1) {
    gs->distro_data = NULL;
    free (d);
    return NULL;
  }
  gs->distro_ops = d->ops;
  azp_debug ("distro family %s, initramfs %s (%s), grub %s (%s), %s, "
             "%zu kernel(s), %zu network stack(s)", d->ops->family,
             d->initramfs ? d->initramfs->name : "none",
             d->initramfs_tool ? d->initramfs_tool : "-",
             d->grub == GRUB_BLS ? "BLS" : d->grub == GRUB_MKCONFIG
             ? "mkconfig" : "none", d->grub_tool ? d->grub_tool : "-",
             d->systemd ? "systemd" : "SysV", d->nkernels, d->nnet);
  return d;
}

/* The fixups run only on a guest linux-distro does not refuse: a known
 * family, a kernel, an initramfs tool. */
bool
distro_supported (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);
  return d && d->ops && d->nkernels > 0 && d->initramfs;
}
