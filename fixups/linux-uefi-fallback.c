/* linux-uefi-fallback: Azure Gen2 VMs start with empty UEFI variables,
 * so only the removable-media path \EFI\BOOT\BOOTX64.EFI boots.  When
 * the guest is UEFI and has none, the distribution's loader is copied
 * there: shimx64.efi (with grubx64.efi and mmx64.efi next to it, where
 * shim looks for them), else grubx64.efi.  GRUB keeps its built-in
 * prefix (\EFI\<distro>), so it finds its grub.cfg where it was. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define EFI_MAX (16 << 20)

static bool
applies (struct guest *gs)
{
  struct distro_data *d;
  if (gs->firmware != FIRMWARE_UEFI || !distro_supported (gs))
    return false;
  d = distro_get (gs);
  return d->esp_efi != NULL;
}

static char *
fallback (struct distro_data *d)
{
  return xasprintf ("%s/BOOT/BOOTX64.EFI", d->esp_efi);
}

/* The directory of the distribution's loader, e.g. /boot/efi/EFI/debian,
 * and the loader in it. */
static int
find_loader (struct guest *gs, struct distro_data *d, char **dir,
             const char **loader)
{
  static const char *const loaders[] = { "shimx64.efi", "grubx64.efi", NULL };
  CLEANUP_FREE_STRING_LIST char **names = guest_ls (gs->g, d->esp_efi);

  *dir = NULL;
  for (size_t l = 0; names && loaders[l]; l++)
    for (size_t i = 0; names[i]; i++) {
      CLEANUP_FREE char *p = NULL;
      if (!strcasecmp (names[i], "BOOT"))
        continue;
      p = xasprintf ("%s/%s/%s", d->esp_efi, names[i], loaders[l]);
      if (p && guest_exists (gs, p)) {
        *dir = xasprintf ("%s/%s", d->esp_efi, names[i]);
        *loader = loaders[l];
        return 0;
      }
    }
  return 0;
}

static int
check (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);
  CLEANUP_FREE char *fb = fallback (d), *dir = NULL;
  const char *loader = NULL;

  if (!fb)
    return -1;
  if (guest_exists (gs, fb))
    return 0;
  if (find_loader (gs, d, &dir, &loader) == -1)
    return -1;
  if (!dir)
    return report_finding (gs->report, SEV_BLOCKER, "linux-uefi-no-loader",
                           d->esp_efi, "reinstall GRUB for UEFI on the "
                           "source", false, "no shimx64.efi or grubx64.efi "
                           "on the EFI system partition");
  return report_finding (gs->report, SEV_BLOCKER, "linux-uefi-fallback",
                         fb, NULL, true, "no UEFI fallback loader: Azure "
                         "Gen2 would not find %s/%s", dir, loader);
}

static int
copy (struct guest *gs, const char *from, const char *to)
{
  CLEANUP_FREE char *buf = NULL;
  size_t len;

  if (!guest_exists (gs, from) || guest_exists (gs, to))
    return 0;
  buf = guest_read_file (gs, from, EFI_MAX, &len);
  if (!buf)
    return -1;
  return guest_write_file (gs, to, buf, len);
}

static int
apply (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);
  CLEANUP_FREE char *fb = fallback (d), *dir = NULL, *bootdir = NULL;
  CLEANUP_FREE char *from = NULL;
  const char *loader = NULL;

  if (!fb || find_loader (gs, d, &dir, &loader) == -1 || !dir)
    return -1;
  bootdir = xasprintf ("%s/BOOT", d->esp_efi);
  from = xasprintf ("%s/%s", dir, loader);
  if (!bootdir || !from)
    return -1;
  if (guestfs_mkdir_p (gs->g, bootdir) == -1) {
    azp_error ("%s: %s", bootdir, guestfs_last_error (gs->g));
    return -1;
  }
  if (copy (gs, from, fb) == -1)
    return -1;
  if (!strcmp (loader, "shimx64.efi")) {
    static const char *const extra[] = { "grubx64.efi", "mmx64.efi", NULL };
    for (size_t i = 0; extra[i]; i++) {
      CLEANUP_FREE char *f = xasprintf ("%s/%s", dir, extra[i]);
      CLEANUP_FREE char *t = xasprintf ("%s/%s", bootdir, extra[i]);
      if (!f || !t || copy (gs, f, t) == -1)
        return -1;
    }
  }
  return 0;
}

static const struct fixup linux_uefi_fallback = {
  .name = "linux-uefi-fallback",
  .heading = "UEFI fallback loader \\EFI\\BOOT\\BOOTX64.EFI",
  .order = 920,
  .guests = FIXUP_LINUX,
  .applies = applies,
  .check = check,
  .apply = apply,
};
FIXUP (linux_uefi_fallback);
