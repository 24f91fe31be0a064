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

/* Not an interface of its own: loopback, VLANs (ifcfg-eth0.100),
 * editor backups (~). */
static bool
skipped (const char *file)
{
  const char *slash = strrchr (file, '/');
  const char *base = (slash ? slash + 1 : file) + strlen ("ifcfg-");
  return !strcmp (base, "lo") || strchr (base, '.') || strstr (base, "~");
}

static int
parse (const struct ifcfg_flavour *fl, const char *file, const char *text,
       struct net_iface **list, size_t *n)
{
  const char *slash = strrchr (file, '/');
  const char *base = (slash ? slash + 1 : file) + strlen ("ifcfg-");
  CLEANUP_FREE char *dev = kv_get (text, "DEVICE");
  CLEANUP_FREE char *proto = kv_get (text, "BOOTPROTO");
  CLEANUP_FREE char *ip = kv_get (text, "IPADDR");
  CLEANUP_FREE char *mac = NULL;

  for (size_t k = 0; !mac && fl->mac_keys[k]; k++)
    mac = kv_get (text, fl->mac_keys[k]);
  return net_iface_add (list, n, file, dev ? dev : base,
                        !(is_static (proto) && ip), mac);
}

static int
scan (const struct ifcfg_flavour *fl, struct guest *gs,
      struct net_iface **list, size_t *n)
{
  CLEANUP_FREE_STRING_LIST char **files = guestfs_glob_expand (gs->g,
                                                               fl->glob);
  for (size_t i = 0; files && files[i]; i++) {
    CLEANUP_FREE char *text = NULL;
    if (skipped (files[i]) || guest_is_file (gs->g, files[i], false) <= 0)
      continue;
    text = distro_read_config (gs, files[i]);
    if (!text || parse (fl, files[i], text, list, n) == -1)
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

/* s with key set (or removed when value is NULL); s is freed. */
static char *
set (char *s, const char *key, const char *value)
{
  char *t;
  if (!s)
    return NULL;
  t = value ? kv_set (s, key, value) : kv_remove (s, key);
  free (s);
  return t;
}

static char *
rewrite (const struct ifcfg_flavour *fl, bool keep_static, const char *text,
         const char *eth)
{
  char *s = xstrdup (text);

  for (size_t k = 0; fl->mac_keys[k]; k++)
    s = set (s, fl->mac_keys[k], NULL);
  if (!keep_static) {
    for (size_t k = 0; fl->static_keys[k]; k++)
      s = set (s, fl->static_keys[k], NULL);
    s = set (s, "BOOTPROTO", fl->dhcp_value);
  }
  if (s && has_key (s, "DEVICE"))
    s = set (s, "DEVICE", eth);
  if (s && has_key (s, "NAME"))
    s = set (s, "NAME", eth);
  return set (s, fl->start_key, fl->start_value);
}

static int
fix (const struct ifcfg_flavour *fl, struct guest *gs,
     const struct net_iface *ifc, size_t index)
{
  CLEANUP_FREE char *text = distro_read_config (gs, ifc->file);
  CLEANUP_FREE char *eth = net_eth_name (index), *path = NULL, *s = NULL;

  if (!text || !eth)
    return -1;
  s = rewrite (fl, gs->keep_static_ip, text, eth);
  path = xasprintf ("%s/ifcfg-%s", fl->dir, eth);
  if (!s || !path)
    return -1;
  if (strcmp (path, ifc->file) && net_remove (gs, ifc->file) == -1)
    return -1;
  return net_write (gs, path, s);
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

static char *
rhel_rewrite (bool keep_static, const char *text, const char *eth)
{
  return rewrite (&rhel, keep_static, text, eth);
}

static int
rhel_parse (const char *file, const char *text, struct net_iface **list,
            size_t *n)
{
  return skipped (file) ? 0 : parse (&rhel, file, text, list, n);
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

static char *
suse_rewrite (bool keep_static, const char *text, const char *eth)
{
  return rewrite (&suse, keep_static, text, eth);
}

static int
suse_parse (const char *file, const char *text, struct net_iface **list,
            size_t *n)
{
  return skipped (file) ? 0 : parse (&suse, file, text, list, n);
}

const struct net_ops net_ifcfg_ops = {
  .name = "ifcfg",
  .scan = rhel_scan,
  .needs_fix = net_needs_fix,
  .mac_reason = "bound to the VMware NIC's MAC address",
  .name_reason = "interface name changes on Azure (becomes ethN)",
  .fix = rhel_fix,
  .rewrite = rhel_rewrite,
  .parse = rhel_parse,
};

const struct net_ops net_wicked_ops = {
  .name = "wicked",
  .scan = suse_scan,
  .needs_fix = net_needs_fix,
  .mac_reason = "bound to the VMware NIC's MAC address",
  .name_reason = "interface name changes on Azure (becomes ethN)",
  .fix = suse_fix,
  .rewrite = suse_rewrite,
  .parse = suse_parse,
};
