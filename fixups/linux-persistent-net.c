/* linux-persistent-net: udev rules that pin interface names to the
 * VMware NICs' MAC addresses (70-persistent-net.rules and friends) are
 * removed, such rules in the guest's other rules files are commented
 * out, and the generator that writes them is masked. */
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

/* Rules of the guest's own that name a NIC by its MAC. */
static int
other_rules (struct guest *gs, bool fix, const char *const *known)
{
  CLEANUP_FREE_STRING_LIST char **files =
    guestfs_glob_expand (gs->g, "/etc/udev/rules.d/*.rules");

  for (size_t i = 0; files && files[i]; i++) {
    CLEANUP_FREE char *text = NULL, *out = NULL;
    size_t n;
    if (strv_has ((char **) known, files[i]) ||
        guest_is_file (gs->g, files[i], false) <= 0)
      continue;
    text = distro_read_config (gs, files[i]);
    if (!text)
      return -1;
    out = udev_unbind_mac (text, &n);
    if (!n)
      continue;
    if (fix ? !out || guest_write_file (gs, files[i], out,
                                        strlen (out)) == -1
        : report_finding (gs->report, SEV_WARNING,
                          "linux-persistent-net-rules", files[i], NULL, true,
                          "%zu udev rule(s) name a NIC by the VMware NIC's "
                          "MAC address", n) == -1)
      return -1;
  }
  return 0;
}

static int
run (struct guest *gs, bool fix)
{
  struct distro_data *d = distro_get (gs);

  for (size_t i = 0; d->ops->persistent_net[i]; i++) {
    const char *f = d->ops->persistent_net[i];
    if (guest_is_file (gs->g, f, false) <= 0)
      continue;
    if (fix ? guest_remove_file (gs, f) == -1
        : report_finding (gs->report, SEV_WARNING, "linux-persistent-net-rules",
                          f, NULL, true, "udev rules bind interface names "
                          "to the VMware NICs' MAC addresses") == -1)
      return -1;
  }
  if (other_rules (gs, fix, d->ops->persistent_net) == -1)
    return -1;
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
