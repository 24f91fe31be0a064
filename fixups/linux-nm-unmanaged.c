/* linux-nm-unmanaged: with Accelerated Networking, Azure adds a Mellanox
 * virtual function next to the synthetic NIC; NetworkManager must leave
 * it alone (Microsoft's 99-azure-unmanaged-devices.conf). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char conf[] =
  "/etc/NetworkManager/conf.d/99-azure-unmanaged-devices.conf";
static const char content[] =
  "# Added by azprep: Azure Accelerated Networking.  The Mellanox virtual\n"
  "# function is bonded to the synthetic NIC by the kernel; NetworkManager\n"
  "# must not configure it.\n"
  "[keyfile]\n"
  "unmanaged-devices=driver:mlx4_core;driver:mlx5_core\n";

static bool
applies (struct guest *gs)
{
  static const char *const nm[] = {
    "/usr/sbin/NetworkManager", "/usr/bin/NetworkManager", NULL
  };
  return distro_supported (gs) && guest_first_existing (gs, nm);
}

static int
check (struct guest *gs)
{
  CLEANUP_FREE char *old = NULL;

  if (guest_exists (gs, conf)) {
    old = distro_read_config (gs, conf);
    if (!old)
      return -1;
    if (strstr (old, "unmanaged-devices=") && strstr (old, "mlx"))
      return 0;
  }
  return report_finding (gs->report, SEV_INFO, "linux-nm-unmanaged", conf,
                         NULL, true, "NetworkManager would manage the "
                         "Accelerated Networking virtual function");
}

static int
apply (struct guest *gs)
{
  if (!gs->dry_run &&
      guestfs_mkdir_p (gs->g, "/etc/NetworkManager/conf.d") == -1) {
    azp_error ("/etc/NetworkManager/conf.d: %s", guestfs_last_error (gs->g));
    return -1;
  }
  return guest_write_file (gs, conf, content, strlen (content));
}

static const struct fixup linux_nm_unmanaged = {
  .name = "linux-nm-unmanaged",
  .heading = "NetworkManager: leave Accelerated Networking VFs unmanaged",
  .order = 230,
  .guests = FIXUP_LINUX,
  .applies = applies,
  .check = check,
  .apply = apply,
};
FIXUP (linux_nm_unmanaged);
