/* udev rules that name a NIC by its MAC address: the generator's
 * 70-persistent-net.rules is removed whole (linux-persistent-net), but
 * admins write such rules in files of their own too
 * (SUBSYSTEM=="net", ATTR{address}=="00:50:56:...", NAME="eth1"); on
 * Azure the MAC differs and the name never comes. */
#include <stdio.h>
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

static bool
comment (const char *l)
{
  return l[strspn (l, " \t")] == '#';
}

/* The rule starting at line i as udev reads it: leading blanks
 * skipped, a line ending in a backslash continued on the next line
 * that is not a comment ("#" lines are skipped even within a rule).
 * *end: the line after it.  NULL on out of memory. */
static char *
rule_at (const struct lines *ls, size_t i, size_t *end)
{
  char *s = NULL;
  size_t n, j = i;
  FILE *fp = open_memstream (&s, &n);

  if (!fp)
    return NULL;
  for (; j < ls->n; j++) {
    const char *l = ls->l[j] + strspn (ls->l[j], " \t");
    size_t len = strlen (l);

    if (*l == '#') {
      if (j == i)
        break;
      continue;
    }
    if (len == 0 || l[len - 1] != '\\') {
      fputs (l, fp);
      break;
    }
    fwrite (l, 1, len - 1, fp);
  }
  fclose (fp);
  *end = j < ls->n ? j + 1 : ls->n;
  return s;
}

/* A rule continued over several lines is disabled by commenting out
 * each of its lines: a comment does not end a rule, so the rest would
 * make a rule of its own. */
char *
udev_unbind_mac (const char *text, size_t *nbound)
{
  struct lines ls;
  char *out = NULL;

  *nbound = 0;
  if (lines_split (&ls, text) == -1)
    return NULL;
  for (size_t i = 0, end; i < ls.n; i = end) {
    char *rule = rule_at (&ls, i, &end);
    bool binds = rule && udev_line_binds_mac (rule);

    free (rule);
    if (!rule) {
      azp_error ("out of memory");
      goto out;
    }
    if (!binds)
      continue;
    for (size_t j = i; j < end; j++) {
      char *nl;
      if (comment (ls.l[j]))
        continue;
      nl = xasprintf ("# disabled by azprep (names a VMware NIC by its "
                      "MAC): %s", ls.l[j]);
      if (!nl)
        goto out;
      free (ls.l[j]);
      ls.l[j] = nl;
    }
    (*nbound)++;
  }
  if (*nbound)
    out = lines_join (&ls);
 out:
  lines_free (&ls);
  return out;
}
