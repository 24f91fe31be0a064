/* linux-azure-agent: configure the Azure agents the guest has.
 *
 * WALinuxAgent (/etc/waagent.conf): Provisioning.Agent=disabled, since a
 * migrated VM is specialized (its users and host keys are kept); swap on
 * the resource disk (ResourceDisk.Format/EnableSwap=y) unless cloud-init
 * is there too, in which case cloud-init owns the resource disk.
 * cloud-init: datasource Azure (91-azure_datasource.cfg), without
 * network configuration from the platform (azprep configured DHCP).
 * Neither installed: reported as the next step; installing a package
 * offline needs the distribution's repositories, so it is not faked. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char waagent_conf[] = "/etc/waagent.conf";
static const char cloud_cfg[] =
  "/etc/cloud/cloud.cfg.d/91-azure_datasource.cfg";
static const char cloud_content[] =
  "# Added by azprep: this VM runs on Azure.\n"
  "datasource_list: [ Azure ]\n"
  "datasource:\n"
  "  Azure:\n"
  "    apply_network_config: False\n";
static const char *const waagent_bins[] = {
  "/usr/sbin/waagent", "/usr/bin/waagent", NULL
};
static const char *const cloudinit_bins[] = {
  "/usr/bin/cloud-init", "/usr/sbin/cloud-init", NULL
};
static const char *const agent_services[] = {
  "walinuxagent", "waagent", NULL
};

struct setting { const char *key, *value; };

/* The waagent.conf settings azprep wants, given cloud-init or not. */
static void
wanted (struct guest *gs, struct setting *s, size_t *n)
{
  bool ci = guest_first_existing (gs, cloudinit_bins) != NULL;
  *n = 0;
  s[(*n)++] = (struct setting) { "Provisioning.Agent", "disabled" };
  s[(*n)++] = (struct setting) { "ResourceDisk.Format", ci ? "n" : "y" };
  s[(*n)++] = (struct setting) { "ResourceDisk.EnableSwap", ci ? "n" : "y" };
  if (!ci)
    s[(*n)++] = (struct setting) { "ResourceDisk.SwapSizeMB", "2048" };
}

/* waagent.conf is Key=value without quotes. */
static char *
conf_get (const struct lines *ls, const char *key)
{
  size_t kl = strlen (key);
  for (size_t i = 0; i < ls->n; i++) {
    const char *l = ls->l[i] + line_indent (ls->l[i]);
    if (!strncmp (l, key, kl) && l[kl] == '=')
      return strdup (l + kl + 1);
  }
  return NULL;
}

static int
conf_set (struct lines *ls, const char *key, const char *value)
{
  size_t kl = strlen (key);
  char *nl = xasprintf ("%s=%s", key, value);
  if (!nl)
    return -1;
  for (size_t i = 0; i < ls->n; i++) {
    const char *l = ls->l[i] + line_indent (ls->l[i]);
    if (!strncmp (l, key, kl) && l[kl] == '=') {
      free (ls->l[i]);
      ls->l[i] = nl;
      return 0;
    }
  }
  if (lines_insert (ls, ls->n, nl) == -1) {
    free (nl);
    return -1;
  }
  free (nl);
  return 0;
}

static int
waagent (struct guest *gs, bool fix)
{
  CLEANUP_FREE char *text = NULL, *out = NULL;
  struct setting s[4];
  struct lines ls;
  size_t n;
  int r = 0;

  if (!guest_exists (gs, waagent_conf))
    return report_finding (gs->report, SEV_WARNING, "linux-waagent-conf",
                           waagent_conf, "reinstall WALinuxAgent", false,
                           "WALinuxAgent is installed without its "
                           "configuration file");
  text = distro_read_config (gs, waagent_conf);
  if (!text || lines_split (&ls, text) == -1)
    return -1;
  wanted (gs, s, &n);
  for (size_t i = 0; r == 0 && i < n; i++) {
    CLEANUP_FREE char *v = conf_get (&ls, s[i].key);
    if (v && !strcmp (v, s[i].value))
      continue;
    if (fix)
      r = conf_set (&ls, s[i].key, s[i].value);
    else
      r = report_finding (gs->report, SEV_WARNING, "linux-waagent-setting",
                          waagent_conf, NULL, true, "%s=%s, should be %s",
                          s[i].key, v ? v : "(unset)", s[i].value);
  }
  if (fix && r == 0) {
    out = lines_join (&ls);
    r = out ? guest_write_file (gs, waagent_conf, out, strlen (out)) : -1;
  }
  lines_free (&ls);
  if (r == 0)
    for (size_t i = 0; agent_services[i]; i++) {
      if (!service_installed (gs, agent_services[i]) ||
          service_enabled (gs, agent_services[i]))
        continue;
      r = fix ? service_enable (gs, agent_services[i])
        : report_finding (gs->report, SEV_WARNING, "linux-waagent-disabled",
                          agent_services[i], NULL, true,
                          "the Azure agent does not start at boot");
      break;
    }
  return r;
}

static int
cloudinit (struct guest *gs, bool fix)
{
  if (guest_exists (gs, cloud_cfg)) {
    CLEANUP_FREE char *old = distro_read_config (gs, cloud_cfg);
    if (!old)
      return -1;
    if (!strcmp (old, cloud_content))
      return 0;
  }
  if (fix) {
    if (!gs->dry_run &&
        guestfs_mkdir_p (gs->g, "/etc/cloud/cloud.cfg.d") == -1) {
      azp_error ("/etc/cloud/cloud.cfg.d: %s", guestfs_last_error (gs->g));
      return -1;
    }
    return guest_write_file (gs, cloud_cfg, cloud_content,
                             strlen (cloud_content));
  }
  return report_finding (gs->report, SEV_WARNING, "linux-cloud-init-datasource",
                         cloud_cfg, NULL, true, "cloud-init is not set to "
                         "the Azure datasource");
}

static int
run (struct guest *gs, bool fix)
{
  bool wa = guest_first_existing (gs, waagent_bins) != NULL;
  bool ci = guest_first_existing (gs, cloudinit_bins) != NULL;

  if (!wa && !ci)
    return fix ? 0
      : report_finding (gs->report, SEV_INFO, "linux-azure-agent-missing",
                        "/usr/sbin/waagent", "after the migration, install "
                        "WALinuxAgent (package walinuxagent or WALinuxAgent) "
                        "from the distribution's repositories", false,
                        "neither the Azure Linux agent nor cloud-init is "
                        "installed; azprep cannot install packages offline "
                        "without repositories");
  if (wa && waagent (gs, fix) == -1)
    return -1;
  if (ci && cloudinit (gs, fix) == -1)
    return -1;
  return 0;
}

static const struct fixup linux_azure_agent = {
  .name = "linux-azure-agent",
  .heading = "configure WALinuxAgent / cloud-init for a migrated VM",
  .order = 420,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_azure_agent);
