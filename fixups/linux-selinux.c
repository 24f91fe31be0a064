/* linux-selinux: files azprep wrote carry no SELinux label.  An
 * enforcing or permissive guest relabels itself at the first boot when
 * /.autorelabel exists (setfiles cannot run reliably in the appliance
 * against the guest's policy, so azprep does not try).  Runs last. */
#include <string.h>

#include "azprep.h"
#include "fixup.h"
#include "guest.h"
#include "distros/distro.h"

static bool
applies (struct guest *gs)
{
  CLEANUP_FREE char *cfg = NULL, *mode = NULL;

  if (!distro_supported (gs) || !guest_exists (gs, "/etc/selinux/config"))
    return false;
  cfg = guest_read_file (gs, "/etc/selinux/config", 1 << 16, NULL);
  mode = cfg ? kv_get (cfg, "SELINUX") : NULL;
  return mode && strcmp (mode, "disabled");
}

static int
check (struct guest *gs)
{
  if (guest_exists (gs, "/.autorelabel"))
    return 0;
  return report_finding (gs->report, SEV_INFO, "linux-selinux-relabel",
                         "/.autorelabel", NULL, true, "SELinux is enabled: "
                         "relabel at the first boot");
}

static int
apply (struct guest *gs)
{
  return guest_write_file (gs, "/.autorelabel", "", 0);
}

static const struct fixup linux_selinux = {
  .name = "linux-selinux",
  .heading = "SELinux: relabel at the first boot (/.autorelabel)",
  .order = 990,
  .guests = FIXUP_LINUX,
  .applies = applies,
  .check = check,
  .apply = apply,
};
FIXUP (linux_selinux);
