/* linux-network: every configured interface on DHCP (or, with
 * --keep-static-ip, its static addresses) as ethN, with no binding to
 * the VMware NIC's MAC address, per network stack (distros/net-*.c).
 * The boot parameters (linux-boot-params) add net.ifnames=0, so the
 * first NIC is eth0 on Azure and on any other hypervisor. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static int
run (struct guest *gs, bool fix)
{
  struct net_iface *ifs;
  size_t n;
  int r = 0;

  if (net_scan_all (gs, &ifs, &n) == -1)
    return -1;
  for (size_t i = 0; r == 0 && i < n; i++) {
    const char *why = ifs[i].ops->needs_fix (gs, &ifs[i], i);
    if (!why)
      continue;
    if (fix)
      r = net_fix (gs, &ifs[i], i);
    else
      r = report_finding (gs->report, SEV_WARNING, "linux-network-config",
                          ifs[i].file, NULL, true, "%s interface %s: %s",
                          ifs[i].ops->name, ifs[i].name ? ifs[i].name : "*",
                          why);
  }
  if (!fix && n == 0 && r == 0)
    r = report_finding (gs->report, SEV_WARNING, "linux-network-none",
                        "/etc", "configure DHCP on eth0 before migrating",
                        false, "no network interface configuration found "
                        "(the VM may have no network on Azure)");
  net_ifaces_free (ifs, n);
  return r;
}

static const struct fixup linux_network = {
  .name = "linux-network",
  .heading = "network on DHCP as ethN, without MAC bindings",
  .order = 220,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_network);
