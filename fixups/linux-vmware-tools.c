/* linux-vmware-tools: VMware Tools (open-vm-tools or the tarball
 * install) and other hypervisors' tools are disabled at boot, not
 * removed: removing packages offline needs the package manager and
 * repositories, and disabled services are harmless and reversible.
 * Uninstall them after the migration (see the remedy). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static int
run (struct guest *gs, bool fix)
{
  for (size_t i = 0; hypervisor_tools[i]; i++) {
    if (!service_installed (gs, hypervisor_tools[i]) ||
        !service_enabled (gs, hypervisor_tools[i]))
      continue;
    if (fix) {
      if (service_disable (gs, hypervisor_tools[i]) == -1)
        return -1;
      continue;
    }
    {
      CLEANUP_FREE_STRING_LIST char **links =
        service_links (gs, hypervisor_tools[i]);
      for (size_t j = 0; links && links[j]; j++)
        if (report_finding (gs->report, SEV_WARNING, "linux-hypervisor-tools",
                            links[j], "uninstall the package after the "
                            "migration", true, "%s (another hypervisor's "
                            "tools) starts at boot", hypervisor_tools[i]) == -1)
          return -1;
    }
  }
  return 0;
}

static const struct fixup linux_vmware_tools = {
  .name = "linux-vmware-tools",
  .heading = "disable VMware Tools and other hypervisors' tools",
  .order = 410,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_vmware_tools);
