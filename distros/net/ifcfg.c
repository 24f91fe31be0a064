/* ifcfg files: RHEL network-scripts (initscripts or NetworkManager's
 * ifcfg-rh plugin) and SUSE wicked (/etc/sysconfig/network).  The same
 * KEY=value format, different directories and keys. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

struct ifcfg_flavour {
  const char *glob;            /* the files */
  const char *dir;
  const char *const *mac_keys; /* keys binding the config to a MAC */
  const char *const *static_keys;  /* dropped for DHCP */
  const char *dhcp_value;
  const char *start_key, *start_value;
};

static const char *const rhel_mac[] = { "HWADDR", "MACADDR", NULL };
static const char *const rhel_static[] = {
  "IPADDR", "PREFIX", "NETMASK", "GATEWAY", "DNS1", "DNS2", "DNS3",
  "IPADDR0", "PREFIX0", "NETMASK0", "GATEWAY0", NULL
};
static const struct ifcfg_flavour rhel = {
  "/etc/sysconfig/network-scripts/ifcfg-*", "/etc/sysconfig/network-scripts",
  rhel_mac, rhel_static, "dhcp", "ONBOOT", "yes",
};
static const char *const suse_mac[] = { "LLADDR", NULL };
static const char *const suse_static[] = {
  "IPADDR", "NETMASK", "PREFIXLEN", "BROADCAST", "NETWORK", "REMOTE_IPADDR",
  NULL
};
static const struct ifcfg_flavour suse = {
  "/etc/sysconfig/network/ifcfg-*", "/etc/sysconfig/network",
  suse_mac, suse_static, "dhcp", "STARTMODE", "auto",
};

static bool
is_static (const char *proto)
{
  return proto && (!strcasecmp (proto, "static") ||
                   !strcasecmp (proto, "none") || !*proto);
}

static int
scan (const struct ifcfg_flavour *fl, struct guest *gs,
      struct net_iface **list, size_t *n)
{
  CLEANUP_FREE_STRING_LIST char **files = guestfs_glob_expand (gs->g,
                                                               fl->glob);
  for (size_t i = 0; files && files[i]; i++) {
    const char *base = strrchr (files[i], '/') + strlen ("/ifcfg-");
    CLEANUP_FREE char *text = NULL, *dev = NULL, *proto = NULL;
    CLEANUP_FREE char *mac = NULL, *ip = NULL;
    if (!strcmp (base, "lo") || strchr (base, '.') ||
        strstr (base, "~") || guestfs_is_file (gs->g, files[i]) <= 0)
      continue;
    text = distro_read_config (gs, files[i]);
    if (!text)
      return -1;
    dev = kv_get (text, "DEVICE");
    proto = kv_get (text, "BOOTPROTO");
    ip = kv_get (text, "IPADDR");
    for (size_t k = 0; !mac && fl->mac_keys[k]; k++)
      mac = kv_get (text, fl->mac_keys[k]);
    if (net_iface_add (list, n, files[i], dev ? dev : base,
                       !(is_static (proto) && ip), mac) == -1)
      return -1;
  }
  return 0;
}

static bool
has_key (const char *s, const char *key)
{
  CLEANUP_FREE char *v = kv_get (s, key);
  return v != NULL;
}

static int
fix (const struct ifcfg_flavour *fl, struct guest *gs,
     const struct net_iface *ifc, size_t index)
{
  CLEANUP_FREE char *text = distro_read_config (gs, ifc->file);
  CLEANUP_FREE char *eth = net_eth_name (index), *path = NULL;
  char *s, *t;

  if (!text || !eth)
    return -1;
  s = xstrdup (text);
  for (size_t k = 0; s && fl->mac_keys[k]; k++) {
    t = kv_remove (s, fl->mac_keys[k]);
    free (s);
    s = t;
  }
  if (s && !gs->keep_static_ip) {
    for (size_t k = 0; s && fl->static_keys[k]; k++) {
      t = kv_remove (s, fl->static_keys[k]);
      free (s);
      s = t;
    }
    if (s) {
      t = kv_set (s, "BOOTPROTO", fl->dhcp_value);
      free (s);
      s = t;
    }
  }
  if (s && has_key (s, "DEVICE")) {
    t = kv_set (s, "DEVICE", eth);
    free (s);
    s = t;
  }
  if (s && has_key (s, "NAME")) {
    t = kv_set (s, "NAME", eth);
    free (s);
    s = t;
  }
  if (s) {
    t = kv_set (s, fl->start_key, fl->start_value);
    free (s);
    s = t;
  }
  path = xasprintf ("%s/ifcfg-%s", fl->dir, eth);
  if (!s || !path) {
    free (s);
    return -1;
  }
  if (strcmp (path, ifc->file) && net_remove (gs, ifc->file) == -1) {
    free (s);
    return -1;
  }
  {
    int r = net_write (gs, path, s);
    free (s);
    return r;
  }
}

static int
rhel_scan (struct guest *gs, struct net_iface **list, size_t *n)
{
  return scan (&rhel, gs, list, n);
}

static int
rhel_fix (struct guest *gs, const struct net_iface *ifc, size_t index)
{
  return fix (&rhel, gs, ifc, index);
}

static int
suse_scan (struct guest *gs, struct net_iface **list, size_t *n)
{
  return scan (&suse, gs, list, n);
}

static int
suse_fix (struct guest *gs, const struct net_iface *ifc, size_t index)
{
  return fix (&suse, gs, ifc, index);
}

const struct net_ops net_ifcfg_ops = {
  .name = "ifcfg",
  .scan = rhel_scan,
  .needs_fix = net_needs_fix,
  .mac_reason = "bound to the VMware NIC's MAC address",
  .name_reason = "interface name changes on Azure (becomes ethN)",
  .fix = rhel_fix,
};

const struct net_ops net_wicked_ops = {
  .name = "wicked",
  .scan = suse_scan,
  .needs_fix = net_needs_fix,
  .mac_reason = "bound to the VMware NIC's MAC address",
  .name_reason = "interface name changes on Azure (becomes ethN)",
  .fix = suse_fix,
};
