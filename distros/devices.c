/* Guest block-device names (fstab, crypttab, kernel command line) and
 * what they are in the appliance.  The guest's disks are added in the
 * order given on the command line, which is the VM's order, so the
 * guest's Nth disk (sdX, vdX, hdX, xvdX, nvmeNn1) is the appliance's
 * Nth disk. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

bool
device_unstable (const char *spec)
{
  static const char *const prefixes[] = {
    "/dev/sd", "/dev/vd", "/dev/hd", "/dev/xvd", "/dev/nvme",
    "/dev/disk/by-path/", "/dev/cciss/", NULL
  };
  for (size_t i = 0; prefixes[i]; i++)
    if (!strncmp (spec, prefixes[i], strlen (prefixes[i])))
      return true;
  return false;
}

/* The appliance device of a guest spec (UUID=, LABEL=, a device name),
 * or NULL when it cannot be resolved (no error reported).  mountpoint,
 * if not NULL, is used through the inspection's mountpoint table. */
char *
device_resolve (struct guest *gs, const char *spec, const char *mountpoint)
{
  char *r = NULL;

  if (guest_scan_storage (gs) == -1)
    return NULL;
  if (!strncmp (spec, "/dev/", 5) && device_unstable (spec)) {
    r = device_map_by_index (spec);
    if (r && !guest_blockdev (gs, r)) {
      free (r);
      r = NULL;
    }
  }
  else
    r = guest_resolve_spec (gs, spec);
  for (size_t i = 0; !r && mountpoint && gs->mountpoints &&
         gs->mountpoints[i]; i += 2)
    if (!strcmp (gs->mountpoints[i], mountpoint))
      r = xstrdup (gs->mountpoints[i + 1]);
  return r;
}

/* The whole disk holding an appliance device, or NULL (an LV, ...). */
char *
device_disk (struct guest *gs, const char *dev)
{
  const struct guest_blockdev *b;

  if (guest_scan_storage (gs) == -1 || !(b = guest_blockdev (gs, dev)))
    return NULL;
  return b->kind == BDEV_PARTITION ? xstrdup (b->disk)
    : b->kind == BDEV_DISK ? xstrdup (b->device) : NULL;
}

/* UUID of the filesystem (or LUKS, swap) on an appliance device, or
 * NULL when it has none. */
char *
device_uuid (struct guest *gs, const char *dev)
{
  const struct guest_blockdev *b;

  if (guest_scan_storage (gs) == -1 || !(b = guest_blockdev (gs, dev)))
    return NULL;
  return b->uuid ? xstrdup (b->uuid) : NULL;
}
