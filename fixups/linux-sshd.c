/* linux-sshd: sshd starts at boot (a systemd wants-link or SysV rc
 * links, whichever the guest uses).  A host firewall configuration that
 * the guest ships is reported, not changed: azprep cannot know which
 * rules the owner wants. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char *
sshd_name (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);
  for (size_t i = 0; d->ops->sshd_units[i]; i++)
    if (service_installed (gs, d->ops->sshd_units[i]))
      return d->ops->sshd_units[i];
  return NULL;
}

static int
report_firewall (struct guest *gs)
{
  CLEANUP_FREE char *ufw = NULL;
  const char *fw = NULL;

  if (guest_exists (gs, "/etc/ufw/ufw.conf")) {
    ufw = distro_read_config (gs, "/etc/ufw/ufw.conf");
    CLEANUP_FREE char *en = ufw ? kv_get (ufw, "ENABLED") : NULL;
    if (en && !strcasecmp (en, "yes"))
      fw = "/etc/ufw/ufw.conf";
  }
  if (!fw && service_installed (gs, "firewalld") &&
      service_enabled (gs, "firewalld"))
    fw = "/etc/firewalld";
  if (!fw && guest_exists (gs, "/etc/sysconfig/iptables") &&
      service_enabled (gs, "iptables"))
    fw = "/etc/sysconfig/iptables";
  if (!fw && guest_exists (gs, "/etc/nftables.conf") &&
      service_enabled (gs, "nftables"))
    fw = "/etc/nftables.conf";
  if (!fw)
    return 0;
  return report_finding (gs->report, SEV_WARNING, "linux-host-firewall", fw,
                         "make sure it allows TCP port 22 (and use Azure "
                         "network security groups)", false,
                         "a host firewall is enabled in the guest");
}

static int
check (struct guest *gs)
{
  const char *name = sshd_name (gs);

  if (!name)
    return report_finding (gs->report, SEV_WARNING, "linux-sshd-missing",
                           "/usr/sbin/sshd", "install openssh-server on the "
                           "source", false, "sshd is not installed: no "
                           "remote login on Azure");
  if (report_firewall (gs) == -1)
    return -1;
  if (service_enabled (gs, name))
    return 0;
  {
    CLEANUP_FREE char *link = service_enable_link (gs, name);
    return report_finding (gs->report, SEV_WARNING, "linux-sshd-disabled",
                           link ? link : name, NULL, true,
                           "sshd (%s) does not start at boot", name);
  }
}

static int
apply (struct guest *gs)
{
  const char *name = sshd_name (gs);
  return name ? service_enable (gs, name) : 0;
}

static const struct fixup linux_sshd = {
  .name = "linux-sshd",
  .heading = "start sshd at boot; report a host firewall",
  .order = 310,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .check = check,
  .apply = apply,
};
FIXUP (linux_sshd);
