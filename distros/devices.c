/* Guest block-device names (fstab, crypttab, kernel command line) and
 * what they are in the appliance.  The guest's disks are added in the
 * order given on the command line, which is the VM's order, so the
 * guest's Nth disk (sdX, vdX, hdX, xvdX, nvmeNn1) is the appliance's
 * Nth disk. */
#include <string.h>

#include "azprep.h"
#include "guest.h"
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

/* /dev/sdb2 -> index 1, partition "2". */
static bool
parse_letters (const char *s, size_t *index, const char **part)
{
  size_t idx = 0, n = 0;
  while (s[n] >= 'a' && s[n] <= 'z') {
    idx = idx * 26 + (s[n] - 'a' + 1);
    n++;
  }
  if (n == 0 || n > 3)
    return false;
  *index = idx - 1;
  *part = s + n;
  return strspn (*part, "0123456789") == strlen (*part);
}

static char *
appliance_name (size_t index, const char *part)
{
  char letters[8];
  size_t n = 0, i = index + 1;
  char rev[8];

  while (i > 0 && n < sizeof rev) {
    rev[n++] = 'a' + (i - 1) % 26;
    i = (i - 1) / 26;
  }
  for (size_t k = 0; k < n; k++)
    letters[k] = rev[n - 1 - k];
  letters[n] = '\0';
  return xasprintf ("/dev/sd%s%s", letters, part);
}

/* Map a guest device name by its disk index. */
static char *
map_by_index (const char *spec)
{
  static const char *const prefixes[] = {
    "/dev/sd", "/dev/vd", "/dev/hd", "/dev/xvd", NULL
  };
  size_t index;
  const char *part;

  for (size_t i = 0; prefixes[i]; i++) {
    size_t pl = strlen (prefixes[i]);
    if (!strncmp (spec, prefixes[i], pl) &&
        parse_letters (spec + pl, &index, &part))
      return appliance_name (index, part);
  }
  {
    unsigned c, ns, p = 0;
    int end = 0;
    if ((sscanf (spec, "/dev/nvme%un%up%u%n", &c, &ns, &p, &end) == 3 ||
         sscanf (spec, "/dev/nvme%un%u%n", &c, &ns, &end) == 2) &&
        spec[end] == '\0') {
      char pn[16] = "";
      if (p)
        snprintf (pn, sizeof pn, "%u", p);
      return appliance_name (c, pn);
    }
  }
  return NULL;
}

/* Is dev a block device of the appliance (disk, partition, LV, dm)? */
static bool
appliance_has (struct guest *gs, const char *dev)
{
  char **(*lists[]) (guestfs_h *) = {
    guestfs_list_devices, guestfs_list_partitions, guestfs_lvs,
    guestfs_list_dm_devices,
  };
  for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
    CLEANUP_FREE_STRING_LIST char **l = lists[i] (gs->g);
    if (strv_has (l, dev))
      return true;
  }
  return false;
}

/* The appliance device of a guest spec (UUID=, LABEL=, a device name),
 * or NULL when it cannot be resolved (no error reported).  mountpoint,
 * if not NULL, is used through the inspection's mountpoint table. */
char *
device_resolve (struct guest *gs, const char *spec, const char *mountpoint)
{
  char *r = NULL;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  if (!strncmp (spec, "UUID=", 5))
    r = guestfs_findfs_uuid (gs->g, spec + 5);
  else if (!strncmp (spec, "LABEL=", 6))
    r = guestfs_findfs_label (gs->g, spec + 6);
  else if (!strncmp (spec, "/dev/", 5)) {
    if (device_unstable (spec))
      r = map_by_index (spec);
    else
      r = strdup (spec);
    if (r && !appliance_has (gs, r)) {
      free (r);
      r = NULL;
    }
  }
  if (!r && mountpoint) {
    CLEANUP_FREE_STRING_LIST char **mps =
      guestfs_inspect_get_mountpoints (gs->g, gs->root);
    for (size_t i = 0; mps && mps[i]; i += 2)
      if (!strcmp (mps[i], mountpoint))
        r = strdup (mps[i + 1]);
  }
  guestfs_pop_error_handler (gs->g);
  return r;
}

/* The whole disk holding an appliance device, or NULL (an LV, ...). */
char *
device_disk (struct guest *gs, const char *dev)
{
  char *r;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  r = guestfs_part_to_dev (gs->g, dev);
  if (!r) {
    CLEANUP_FREE_STRING_LIST char **devs = guestfs_list_devices (gs->g);
    if (strv_has (devs, dev))
      r = strdup (dev);
  }
  guestfs_pop_error_handler (gs->g);
  return r;
}

/* UUID of the filesystem (or LUKS, swap) on an appliance device, or
 * NULL when it has none. */
char *
device_uuid (struct guest *gs, const char *dev)
{
  char *u;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  u = guestfs_vfs_uuid (gs->g, dev);
  guestfs_pop_error_handler (gs->g);
  if (u && !*u) {
    free (u);
    u = NULL;
  }
  return u;
}
