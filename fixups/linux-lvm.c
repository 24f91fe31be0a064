/* linux-lvm: LVM's devices file (/etc/lvm/devices/system.devices, RHEL
 * 9) records the VMware disks' WWIDs; on Azure no PV matches and the
 * root VG is not found.  It is removed (LVM then scans every device),
 * with the stale caches.  lvm.conf filters naming /dev/sd* are
 * reported: rewriting a filter safely needs a human. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char *const stale[] = {
  "/etc/lvm/devices/system.devices", "/etc/lvm/cache/.cache",
  "/etc/blkid/blkid.tab", "/etc/blkid.tab", NULL
};

static int
report_filters (struct guest *gs)
{
  CLEANUP_FREE char *text = NULL;
  struct lines ls;
  int r = 0;

  if (!guest_exists (gs, "/etc/lvm/lvm.conf"))
    return 0;
  text = distro_read_config (gs, "/etc/lvm/lvm.conf");
  if (!text || lines_split (&ls, text) == -1)
    return -1;
  for (size_t i = 0; r == 0 && i < ls.n; i++) {
    const char *l = ls.l[i] + line_indent (ls.l[i]);
    if ((strncmp (l, "filter", 6) && strncmp (l, "global_filter", 13)) ||
        !strstr (l, "/dev/sd"))
      continue;
    r = report_finding (gs->report, SEV_WARNING, "linux-lvm-filter",
                        "/etc/lvm/lvm.conf", "accept every device, or name "
                        "PVs by /dev/disk/by-id or UUID", false,
                        "line %zu: an LVM filter names /dev/sd* devices, "
                        "which change on Azure: %s", i + 1, l);
  }
  lines_free (&ls);
  return r;
}

static int
check (struct guest *gs)
{
  for (size_t i = 0; stale[i]; i++)
    if (guest_exists (gs, stale[i]) &&
        report_finding (gs->report, SEV_BLOCKER, "linux-lvm-devices-file",
                        stale[i], NULL, true, "records the VMware disks; "
                        "LVM would not find the volume groups on Azure") == -1)
      return -1;
  return report_filters (gs);
}

static int
apply (struct guest *gs)
{
  for (size_t i = 0; stale[i]; i++)
    if (guest_exists (gs, stale[i]) && guest_remove_file (gs, stale[i]) == -1)
      return -1;
  return 0;
}

static const struct fixup linux_lvm = {
  .name = "linux-lvm",
  .heading = "remove LVM's devices file and stale caches; report filters",
  .order = 130,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .check = check,
  .apply = apply,
};
FIXUP (linux_lvm);
