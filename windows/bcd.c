/* Finding and moving the BCD store (a registry hive) on a partition that
 * is not mounted as part of the guest: see windows.h. */
#include <string.h>

#include "prep/common/common.h"
#include "windows/windows.h"

#define BIOS_BCD "/Boot/BCD"
#define UEFI_BCD "/EFI/Microsoft/Boot/BCD"

char *
win_find_file (struct guest *gs, const char *p)
{
  char *real;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  real = guestfs_case_sensitive_path (gs->g, p);
  if (real && guestfs_is_file (gs->g, real) != 1) {
    free (real);
    real = NULL;
  }
  guestfs_pop_error_handler (gs->g);
  return real;
}

static int
unmount_guest (struct guest *gs)
{
  guestfs_sync (gs->g);
  if (guestfs_umount_all (gs->g) == -1) {
    azp_error ("unmount: %s", guestfs_last_error (gs->g));
    return -1;
  }
  gs->mounted = false;
  return 0;
}

/* Unmount the boot partition (synced first if it was written) and
 * mount the guest back. */
static int
remount_guest (struct guest *gs, bool written)
{
  if (written)
    guestfs_sync (gs->g);
  if (guestfs_umount_all (gs->g) == -1) {
    azp_error ("unmount: %s", guestfs_last_error (gs->g));
    return -1;
  }
  return guest_mount (gs);
}

/* Try one candidate filesystem (guest unmounted; the candidate stays
 * mounted for remount_guest to unmount).  When the BCD is there, it is
 * downloaded at once: that saves mounting the partition again.
 * 1 found, 0 not, -1 error. */
static int
try_device (struct guest *gs, const char *dev, const char *path)
{
  struct windows_state *st = win_data (gs);
  char *real;
  int r;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  r = guestfs_mount_ro (gs->g, dev, "/");
  guestfs_pop_error_handler (gs->g);
  if (r == -1)
    return 0;
  real = win_find_file (gs, path);
  if (!real) {
    guestfs_umount_all (gs->g);
    return 0;
  }
  st->bcd_device = xstrdup (dev);
  st->bcd_path = real;
  if (!st->bcd_device)
    return -1;
  return win_hive_transfer (gs, HIVE_BCD, false) == -1 ? -1 : 1;
}

static int
search (struct guest *gs)
{
  struct windows_state *st = win_data (gs);
  int found = 0;

  st->bcd_searched = true;
  /* C:\Boot\BCD when there is no System Reserved partition. */
  if (gs->firmware != FIRMWARE_UEFI) {
    st->bcd_path = win_find_file (gs, BIOS_BCD);
    if (st->bcd_path)
      return 0;
  }
  if (guest_scan_storage (gs) == -1 || unmount_guest (gs) == -1)
    return -1;
  if (gs->firmware == FIRMWARE_UEFI)
    for (size_t i = 0; !found && gs->esps && gs->esps[i]; i++)
      found = try_device (gs, gs->esps[i], UEFI_BCD);
  /* Then every other NTFS or FAT partition (types as blkid saw them). */
  for (size_t i = 0; !found && i < gs->nbdevs; i++) {
    const struct guest_blockdev *b = &gs->bdevs[i];
    if (b->kind != BDEV_PARTITION || !b->type || !strcmp (b->device, gs->root)
        || (strcmp (b->type, "ntfs") && strcmp (b->type, "vfat")))
      continue;
    found = try_device (gs, b->device, gs->firmware == FIRMWARE_UEFI
                        ? UEFI_BCD : BIOS_BCD);
  }
  if (remount_guest (gs, false) == -1 || found == -1)
    return -1;
  return found ? 0 : 1;
}

int
win_bcd_locate (struct guest *gs)
{
  struct windows_state *st = win_state (gs);

  if (!st)
    return -1;
  if (!st->bcd_searched)
    return search (gs);
  return st->bcd_path ? 0 : 1;
}

int
win_bcd_transfer (struct guest *gs, bool upload)
{
  struct windows_state *st = win_state (gs);
  int r, r2;

  if (!st)
    return -1;
  r = win_bcd_locate (gs);
  if (r == -1)
    return -1;
  if (r == 1) {
    azp_error ("%s: no BCD store found (%s on the System Reserved partition "
               "or %s on the ESP)", gs->root, BIOS_BCD, UEFI_BCD);
    return -1;
  }
  if (!st->bcd_device)
    return win_hive_transfer (gs, HIVE_BCD, upload);

  if (unmount_guest (gs) == -1)
    return -1;
  r = upload ? guestfs_mount (gs->g, st->bcd_device, "/")
    : guestfs_mount_ro (gs->g, st->bcd_device, "/");
  if (r == -1)
    azp_error ("%s: cannot mount the boot partition: %s", st->bcd_device,
               guestfs_last_error (gs->g));
  else
    r = win_hive_transfer (gs, HIVE_BCD, upload);
  r2 = remount_guest (gs, upload);
  return r == -1 || r2 == -1 ? -1 : 0;
}
