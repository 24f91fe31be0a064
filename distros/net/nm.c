/* NetworkManager keyfiles: /etc/NetworkManager/system-connections. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char dir[] = "/etc/NetworkManager/system-connections";

/* "key=value" in [section] of an ini file, or NULL. */
static char *
ini_get (const char *text, const char *section, const char *key)
{
  struct lines ls;
  char *r = NULL;
  bool in = false;
  size_t kl = strlen (key);

  if (lines_split (&ls, text) == -1)
    return NULL;
  for (size_t i = 0; i < ls.n; i++) {
    const char *l = ls.l[i] + line_indent (ls.l[i]);
    if (*l == '[') {
      in = !strncmp (l + 1, section, strlen (section)) &&
        l[1 + strlen (section)] == ']';
      continue;
    }
    if (in && !strncmp (l, key, kl) && l[kl] == '=') {
      free (r);
      r = strdup (l + kl + 1);
    }
  }
  lines_free (&ls);
  return r;
}

static bool
ethernet (const char *text)
{
  CLEANUP_FREE char *type = ini_get (text, "connection", "type");
  return type && (!strcmp (type, "ethernet") ||
                  !strcmp (type, "802-3-ethernet"));
}

static int
nm_scan (struct guest *gs, struct net_iface **list, size_t *n)
{
  CLEANUP_FREE_STRING_LIST char **files = NULL;
  CLEANUP_FREE char *pat = xasprintf ("%s/*", dir);

  if (!pat)
    return -1;
  files = guestfs_glob_expand (gs->g, pat);
  for (size_t i = 0; files && files[i]; i++) {
    CLEANUP_FREE char *text = NULL, *name = NULL, *method = NULL;
    CLEANUP_FREE char *mac = NULL;
    if (guestfs_is_file (gs->g, files[i]) <= 0)
      continue;
    text = distro_read_config (gs, files[i]);
    if (!text)
      return -1;
    if (!ethernet (text))
      continue;
    name = ini_get (text, "connection", "interface-name");
    method = ini_get (text, "ipv4", "method");
    mac = ini_get (text, "ethernet", "mac-address");
    if (!mac)
      mac = ini_get (text, "802-3-ethernet", "mac-address");
    if (net_iface_add (list, n, files[i], name,
                       !method || strcmp (method, "manual"), mac) == -1)
      return -1;
  }
  return 0;
}

static bool
key_is (const char *l, const char *key)
{
  size_t kl = strlen (key);
  return !strncmp (l, key, kl) && l[kl] == '=';
}

static bool
numbered (const char *l, const char *prefix)
{
  size_t pl = strlen (prefix);
  return !strncmp (l, prefix, pl) &&
    (l[pl] == '=' || (l[pl] >= '0' && l[pl] <= '9'));
}

static int
nm_edit (struct guest *gs, const struct net_iface *ifc, const char *eth,
         struct lines *ls)
{
  char section[64] = "";

  for (size_t i = 0; i < ls->n; i++) {
    const char *l = ls->l[i] + line_indent (ls->l[i]);
    if (*l == '[') {
      snprintf (section, sizeof section, "%.*s", (int) strcspn (l + 1, "]"),
                l + 1);
      continue;
    }
    if ((!strcmp (section, "ethernet") ||
         !strcmp (section, "802-3-ethernet")) && key_is (l, "mac-address")) {
      lines_delete (ls, i--);
      continue;
    }
    if (!strcmp (section, "connection") && key_is (l, "interface-name")) {
      char *nl = xasprintf ("interface-name=%s", eth);
      if (!nl)
        return -1;
      free (ls->l[i]);
      ls->l[i] = nl;
      continue;
    }
    if (!strcmp (section, "ipv4") && !gs->keep_static_ip && !ifc->dhcp) {
      if (key_is (l, "method")) {
        char *nl = strdup ("method=auto");
        if (!nl)
          return -1;
        free (ls->l[i]);
        ls->l[i] = nl;
      }
      else if (numbered (l, "address") || numbered (l, "addresses") ||
               key_is (l, "gateway") || numbered (l, "route") ||
               key_is (l, "dns"))
        lines_delete (ls, i--);
    }
  }
  return 0;
}

const struct net_ops net_nm_ops = {
  .name = "networkmanager",
  .scan = nm_scan,
  .needs_fix = net_needs_fix,
  .mac_reason = "bound to the VMware NIC's MAC address (mac-address=)",
  .name_reason = "bound to an interface name that changes on Azure",
  .edit = nm_edit,
};
