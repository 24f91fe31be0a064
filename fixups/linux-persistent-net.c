/* linux-persistent-net: udev rules that pin interface names to the
 * VMware NICs' MAC addresses (70-persistent-net.rules and friends) are
 * removed, and the generator that writes them is masked. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char *const generators[] = {
  "/lib/udev/rules.d/75-persistent-net-generator.rules",
  "/usr/lib/udev/rules.d/75-persistent-net-generator.rules",
  NULL
};
static const char mask[] =
  "/etc/udev/rules.d/75-persistent-net-generator.rules";

static bool
masked (struct guest *gs)
{
  CLEANUP_FREE char *t = NULL;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  t = guestfs_readlink (gs->g, mask);
  guestfs_pop_error_handler (gs->g);
  return t && !strcmp (t, "/dev/null");
}

static int
run (struct guest *gs, bool fix)
{
  struct distro_data *d = distro_get (gs);

  for (size_t i = 0; d->ops->persistent_net[i]; i++) {
    const char *f = d->ops->persistent_net[i];
    if (guestfs_is_file (gs->g, f) <= 0)
      continue;
    if (fix ? guest_remove_file (gs, f) == -1
        : report_finding (gs->report, SEV_WARNING, "linux-persistent-net-rules",
                          f, NULL, true, "udev rules bind interface names "
                          "to the VMware NICs' MAC addresses") == -1)
      return -1;
  }
  if (guest_first_existing (gs, generators) && !masked (gs)) {
    if (fix ? guest_symlink (gs, "/dev/null", mask) == -1
        : report_finding (gs->report, SEV_WARNING,
                          "linux-persistent-net-generator", mask, NULL, true,
                          "the persistent-net generator would bind the new "
                          "NIC's name to its MAC (mask it)") == -1)
      return -1;
  }
  return 0;
}

static const struct fixup linux_persistent_net = {
  .name = "linux-persistent-net",
  .heading = "remove udev rules binding NIC names to MAC addresses",
  .order = 210,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_persistent_net);
