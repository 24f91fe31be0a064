/* NetworkManager keyfiles: /etc/NetworkManager/system-connections. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char dir[] = "/etc/NetworkManager/system-connections";

/* "key=value", "key = value" (GLib keyfiles allow blanks around
 * '='). */
static bool
key_is (const char *l, const char *key)
{
  size_t kl = strlen (key);
  return !strncmp (l, key, kl) && l[kl + strspn (l + kl, " \t")] == '=';
}

/* "key=value" in [section] of an ini file, or NULL. */
static char *
ini_get (const char *text, const char *section, const char *key)
{
  struct lines ls;
  char *r = NULL;
  bool in = false;

  if (lines_split (&ls, text) == -1)
    return NULL;
  for (size_t i = 0; i < ls.n; i++) {
    const char *l = ls.l[i] + line_indent (ls.l[i]);
    if (*l == '[') {
      in = !strncmp (l + 1, section, strlen (section)) &&
        l[1 + strlen (section)] == ']';
      continue;
    }
    if (in && key_is (l, key)) {
      const char *v = strchr (l, '=') + 1;
      size_t vl;
      v += strspn (v, " \t");
      vl = strlen (v);
      while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' ||
                        v[vl - 1] == '\r'))
        vl--;
      free (r);
      r = strndup (v, vl);
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
nm_parse (const char *file, const char *text, struct net_iface **list,
          size_t *n)
{
  CLEANUP_FREE char *name = NULL, *method = NULL, *mac = NULL;

  if (!ethernet (text))
    return 0;
  name = ini_get (text, "connection", "interface-name");
  method = ini_get (text, "ipv4", "method");
  mac = ini_get (text, "ethernet", "mac-address");
  if (!mac)
    mac = ini_get (text, "802-3-ethernet", "mac-address");
  return net_iface_add (list, n, file, name,
                        !method || strcmp (method, "manual"), mac);
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
    CLEANUP_FREE char *text = NULL;
    if (guest_is_file (gs->g, files[i], false) <= 0)
      continue;
    text = distro_read_config (gs, files[i]);
    if (!text || nm_parse (files[i], text, list, n) == -1)
      return -1;
  }
  return 0;
}

static bool
numbered (const char *l, const char *prefix)
{
  size_t pl = strlen (prefix);
  if (strncmp (l, prefix, pl))
    return false;
  l += pl + strspn (l + pl, "0123456789");
  return l[strspn (l, " \t")] == '=';
}

static int
nm_edit (bool keep_static, const struct net_iface *ifc, const char *eth,
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
    if (!strcmp (section, "ipv4") && !keep_static && !ifc->dhcp) {
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
  .parse = nm_parse,
};
