/* udev rules that name a NIC by its MAC address: the generator's
 * 70-persistent-net.rules is removed whole (linux-persistent-net), but
 * admins write such rules in files of their own too
 * (SUBSYSTEM=="net", ATTR{address}=="00:50:56:...", NAME="eth1"); on
 * Azure the MAC differs and the name never comes. */
#include <string.h>

#include "prep/common/common.h"
#include "distros/distro.h"

/* Does a key (ATTR{address}, NAME) appear at p, as a whole token, with
 * the operator wanted: "==" (match) or "=" / ":=" (assign)? */
static bool
token_op (const char *line, const char *p, const char *key, bool match)
{
  size_t kl = strlen (key);
  const char *o;

  if (strncmp (p, key, kl) ||
      (p > line && !strchr (" \t,", p[-1])))
    return false;
  o = p + kl;
  o += strspn (o, " \t");
  if (match)
    return o[0] == '=' && o[1] == '=';
  return (o[0] == '=' && o[1] != '=') || (o[0] == ':' && o[1] == '=');
}

static bool
has (const char *l, const char *key, bool match)
{
  for (const char *p = l; (p = strstr (p, key)); p++)
    if (token_op (l, p, key, match))
      return true;
  return false;
}

bool
udev_line_binds_mac (const char *l)
{
  const char *p = l + strspn (l, " \t");

  if (*p == '#' || !*p)
    return false;
  return (has (p, "ATTR{address}", true) || has (p, "ATTRS{address}", true))
    && has (p, "NAME", false);
}

char *
udev_unbind_mac (const char *text, size_t *nbound)
{
  struct lines ls;
  char *out = NULL;

  *nbound = 0;
  if (lines_split (&ls, text) == -1)
    return NULL;
  for (size_t i = 0; i < ls.n; i++) {
    char *nl;
    if (!udev_line_binds_mac (ls.l[i]))
      continue;
    nl = xasprintf ("# disabled by azprep (names a VMware NIC by its "
                    "MAC): %s", ls.l[i]);
    if (!nl)
      goto out;
    free (ls.l[i]);
    ls.l[i] = nl;
    (*nbound)++;
  }
  if (*nbound)
    out = lines_join (&ls);
 out:
  lines_free (&ls);
  return out;
}
