/* linux-selinux: files azprep wrote carry no SELinux label, and an
 * enforcing guest denies what it cannot label.  Runs last, after every
 * other write.  As virt-v2v: when the appliance has setfiles (feature
 * "selinuxrelabel") and the guest ships its policy's file_contexts,
 * relabel the whole guest now with that policy; otherwise create
 * /.autorelabel so the guest relabels itself at its first boot (one
 * extra reboot).  Debian's and Ubuntu's appliances have no setfiles;
 * Fedora's and RHEL's do. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

#define AUTORELABEL "/.autorelabel"

static char *
selinux_mode (struct guest *gs, char **type)
{
  CLEANUP_FREE char *cfg = NULL;
  char *mode;

  *type = NULL;
  if (!guest_exists (gs, "/etc/selinux/config"))
    return NULL;
  cfg = guest_read_file (gs, "/etc/selinux/config", 1 << 16, NULL);
  mode = cfg ? kv_get (cfg, "SELINUX") : NULL;
  if (mode)
    *type = kv_get (cfg, "SELINUXTYPE");
  return mode;
}

static bool
applies (struct guest *gs)
{
  CLEANUP_FREE char *mode = NULL, *type = NULL;

  if (!distro_supported (gs))
    return false;
  mode = selinux_mode (gs, &type);
  return mode && strcmp (mode, "disabled");
}

/* The policy's file contexts, when this appliance can apply them now;
 * NULL: relabel at the first boot, *why says why. */
static char *
relabel_spec (struct guest *gs, const char **why)
{
  const char *feature[] = { "selinuxrelabel", NULL };
  CLEANUP_FREE char *mode = NULL, *type = NULL;
  char *spec;

  mode = selinux_mode (gs, &type);
  if (type && strpbrk (type, "/ ")) {
    *why = "SELINUXTYPE in /etc/selinux/config is not a policy name";
    return NULL;
  }
  spec = xasprintf ("/etc/selinux/%s/contexts/files/file_contexts",
                    type && *type ? type : "targeted");
  if (!guest_exists (gs, spec)) {
    *why = "the guest has no file_contexts for its policy";
    free (spec);
    return NULL;
  }
  if (guestfs_feature_available (gs->g, (char **) feature) != 1) {
    *why = "the libguestfs appliance has no setfiles";
    free (spec);
    return NULL;
  }
  return spec;
}

static int
check (struct guest *gs)
{
  CLEANUP_FREE char *spec = NULL;
  const char *why = NULL;

  if (gs->selinux_relabelled || guest_exists (gs, AUTORELABEL))
    return 0;
  spec = relabel_spec (gs, &why);
  if (spec)
    return report_finding (gs->report, SEV_INFO, "linux-selinux-relabel",
                           "/", NULL, true, "SELinux is enabled: relabel "
                           "the guest with its policy (%s)", spec);
  return report_finding (gs->report, SEV_INFO, "linux-selinux-relabel",
                         AUTORELABEL, NULL, true, "SELinux is enabled: "
                         "relabel at the first boot (%s)", why);
}

static int
apply (struct guest *gs)
{
  CLEANUP_FREE char *spec = NULL;
  const char *why = NULL;
  struct guestfs_selinux_relabel_argv force = {
    .bitmask = GUESTFS_SELINUX_RELABEL_FORCE_BITMASK, .force = 1,
  };
  int r;

  spec = relabel_spec (gs, &why);
  if (spec) {
    azp_info ("relabelling the guest with %s", spec);
    guestfs_push_error_handler (gs->g, NULL, NULL);
    r = guestfs_selinux_relabel_argv (gs->g, spec, "/", &force);
    guestfs_pop_error_handler (gs->g);
    if (r == 0) {
      gs->selinux_relabelled = true;
      return report_change (gs->report, "relabel", "/", NULL, spec);
    }
    /* Labels half applied are still fixed by the relabel at boot. */
    azp_warning ("%s: setfiles failed (%s): the guest relabels at its first "
                 "boot instead", spec, guestfs_last_error (gs->g));
    gs->selinux_relabelled = true;
  }
  else
    azp_debug ("SELinux: %s: %s", why, AUTORELABEL);
  return guest_write_file (gs, AUTORELABEL, "", 0);
}

static const struct fixup linux_selinux = {
  .name = "linux-selinux",
  .heading = "SELinux: relabel with the guest's policy, or at the first "
             "boot (/.autorelabel)",
  .order = 990,
  .guests = FIXUP_LINUX,
  .applies = applies,
  .check = check,
  .apply = apply,
};
FIXUP (linux_selinux);
