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
  /* by-id names of disks carry the hypervisor's serial or WWN
   * (wwn-0x6000c29..., scsi-36000c29..., ata-VMware_Virtual...), which
   * Azure's disks do not have; those of device-mapper, LVM and md
   * volumes carry the volume's own UUID or name and stay. */
  static const char *const by_id_stable[] = { "dm-", "lvm-", "md-", NULL };
  static const char by_id[] = "/dev/disk/by-id/";

  for (size_t i = 0; prefixes[i]; i++)
    if (!strncmp (spec, prefixes[i], strlen (prefixes[i])))
      return true;
  if (strncmp (spec, by_id, sizeof by_id - 1))
    return false;
  for (size_t i = 0; by_id_stable[i]; i++)
    if (!strncmp (spec + sizeof by_id - 1, by_id_stable[i],
                  strlen (by_id_stable[i])))
      return false;
  return true;
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
  /* Not a name by disk order (by-id, by-path): what blkid knows. */
  if (!r)
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

static char *
guest_spec_uuid (void *opaque, const char *spec, const char *mp)
{
  CLEANUP_FREE char *dev = device_resolve (opaque, spec, mp);
  return dev ? device_uuid (opaque, dev) : NULL;
}

static char *
guest_spec_disk (void *opaque, const char *spec, const char *mp)
{
  CLEANUP_FREE char *dev = device_resolve (opaque, spec, mp);
  return dev ? device_disk (opaque, dev) : NULL;
}

struct devmap
devmap_of_guest (struct guest *gs)
{
  struct devmap dm = { guest_spec_uuid, guest_spec_disk, gs };
  return dm;
}
