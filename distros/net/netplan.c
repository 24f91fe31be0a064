/* netplan (Ubuntu): /etc/netplan/NAME.yaml, edited line by line within the
 * "ethernets:" mapping so that comments and the rest stay. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

/* Keys of an interface dropped when it becomes DHCP. */
static const char *const static_keys[] = {
  "addresses", "gateway4", "gateway6", "routes", NULL
};

/* "key:" (possibly "key: value") at the start of l (after indent)? */
static bool
yaml_key (const char *l, const char *key)
{
  size_t kl = strlen (key);
  l += line_indent (l);
  return !strncmp (l, key, kl) && l[kl] == ':';
}

/* The interface key of a line at indent ind: "  ens192:" -> "ens192". */
static char *
iface_key (const char *l)
{
  const char *p = l + line_indent (l);
  size_t n = strcspn (p, ":");
  if (p[n] != ':' || n == 0 || *p == '#' || *p == '-')
    return NULL;
  return strndup (p, n);
}

struct netplan_iface {
  size_t key;        /* line of "name:" */
  size_t end;        /* first line after its block */
  size_t body_ind;   /* indent of its keys */
};

/* Find the interfaces of "ethernets:"; returns count (up to max). */
static size_t
find_ifaces (const struct lines *ls, struct netplan_iface *ifs, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < ls->n; i++) {
    size_t eind, iind = 0;
    if (!yaml_key (ls->l[i], "ethernets"))
      continue;
    eind = line_indent (ls->l[i]);
    for (size_t j = i + 1; j < ls->n; j++) {
      size_t ind;
      if (line_blank_or_comment (ls->l[j], '#'))
        continue;
      ind = line_indent (ls->l[j]);
      if (ind <= eind)
        break;
      if (!iind)
        iind = ind;
      if (ind == iind && n < max) {
        ifs[n].key = j;
        ifs[n].body_ind = 0;
        ifs[n].end = j + 1;
        n++;
      }
      else if (ind > iind && n > 0) {
        if (!ifs[n - 1].body_ind)
          ifs[n - 1].body_ind = ind;
        ifs[n - 1].end = j + 1;
      }
    }
  }
  return n;
}

/* Is key set in lines [from, to) at indent ind (the value, when
 * asked)?  Only there: a key of another indent belongs to another
 * mapping, and netplan_edit drops keys of the interface's own. */
static bool
key_in (const struct lines *ls, size_t from, size_t to, size_t ind,
        const char *key, char **value)
{
  for (size_t j = from; j < to; j++)
    if (line_indent (ls->l[j]) == ind && yaml_key (ls->l[j], key)) {
      if (value) {
        const char *p = strchr (ls->l[j], ':') + 1;
        p += strspn (p, " \t");
        *value = strndup (p, strcspn (p, " \t#"));
      }
      return true;
    }
  return false;
}

static bool
block_has (const struct lines *ls, const struct netplan_iface *f,
           const char *key, char **value)
{
  return key_in (ls, f->key + 1, f->end, f->body_ind, key, value);
}

/* The MAC address "match:" of the interface names, or NULL. */
static char *
match_mac (const struct lines *ls, const struct netplan_iface *f)
{
  char *mac = NULL;

  for (size_t j = f->key + 1; !mac && j < f->end; j++) {
    size_t end = j + 1, sub = 0;
    if (line_indent (ls->l[j]) != f->body_ind || !yaml_key (ls->l[j], "match"))
      continue;
    for (; end < f->end; end++) {
      if (line_blank_or_comment (ls->l[end], '#'))
        continue;
      if (line_indent (ls->l[end]) <= f->body_ind)
        break;
      if (!sub)
        sub = line_indent (ls->l[end]);
    }
    if (sub)
      key_in (ls, j + 1, end, sub, "macaddress", &mac);
  }
  return mac;
}

static int
netplan_parse (const char *file, const char *text, struct net_iface **list,
               size_t *n)
{
  struct netplan_iface ifs[16];
  struct lines ls;
  size_t ni;
  int r = 0;

  if (lines_split (&ls, text) == -1)
    return -1;
  ni = find_ifaces (&ls, ifs, 16);
  for (size_t k = 0; r == 0 && k < ni; k++) {
    CLEANUP_FREE char *name = iface_key (ls.l[ifs[k].key]);
    CLEANUP_FREE char *mac = match_mac (&ls, &ifs[k]), *dhcp = NULL;
    bool has_static = block_has (&ls, &ifs[k], "addresses", NULL);
    block_has (&ls, &ifs[k], "dhcp4", &dhcp);
    r = net_iface_add (list, n, file, name,
                       !has_static || (dhcp && !strcmp (dhcp, "true")), mac);
  }
  lines_free (&ls);
  return r;
}

static int
netplan_scan (struct guest *gs, struct net_iface **list, size_t *n)
{
  CLEANUP_FREE_STRING_LIST char **files =
    guestfs_glob_expand (gs->g, "/etc/netplan/*.yaml");

  for (size_t i = 0; files && files[i]; i++) {
    CLEANUP_FREE char *text = distro_read_config (gs, files[i]);
    if (!text || netplan_parse (files[i], text, list, n) == -1)
      return -1;
  }
  return 0;
}

/* Is the interface's block one mapping: every line at its keys' indent
 * a key (or an item of a sequence a key before it holds, as subiquity
 * writes "addresses:\n- 10.0.0.5/24"), none less indented?  Only then
 * are the keys dropped and "dhcp4: true" added where netplan reads
 * them. */
static bool
one_mapping (const struct lines *ls, const struct netplan_iface *f)
{
  bool first = true;

  for (size_t j = f->key + 1; j < f->end; j++) {
    const char *l = ls->l[j];
    size_t ind = line_indent (l);
    if (line_blank_or_comment (l, '#'))
      continue;
    if (ind < f->body_ind ||
        (ind == f->body_ind && (l[ind] == '-' ? first : !strchr (l, ':'))))
      return false;
    first = false;
  }
  return true;
}

static int
netplan_edit (bool keep_static, const struct net_iface *ifc, const char *eth,
              struct lines *ls)
{
  struct netplan_iface ifs[16], *f = NULL;
  size_t ni;

  ni = find_ifaces (ls, ifs, 16);
  for (size_t k = 0; k < ni; k++) {
    CLEANUP_FREE char *name = iface_key (ls->l[ifs[k].key]);
    if (name && ifc->name && !strcmp (name, ifc->name))
      f = &ifs[k];
  }
  if (!f) {
    azp_error ("%s: interface %s not found again", ifc->file,
               ifc->name ? ifc->name : "?");
    return -1;
  }
  if (!one_mapping (ls, f)) {
    azp_error ("%s: interface %s: its keys are not indented as one YAML "
               "mapping; not edited", ifc->file, ifc->name);
    return -1;
  }
  /* Drop match:/set-name: (and static keys), each with its sub-block. */
  for (size_t j = f->key + 1; j < f->end; j++) {
    bool drop = yaml_key (ls->l[j], "match") || yaml_key (ls->l[j], "set-name");
    if (!keep_static)
      for (size_t s = 0; static_keys[s]; s++)
        drop = drop || yaml_key (ls->l[j], static_keys[s]);
    if (!keep_static && yaml_key (ls->l[j], "nameservers"))
      drop = true;
    if (!keep_static && yaml_key (ls->l[j], "dhcp4"))
      drop = true;
    if (drop && line_indent (ls->l[j]) == f->body_ind) {
      size_t ind = line_indent (ls->l[j]), last = j;
      /* The sub-block: deeper lines, and a sequence written at the
       * key's own indent ("addresses:\n- 10.0.0.5/24", as subiquity
       * writes it); blank and comment lines only within it (those
       * after it belong to what follows). */
      for (size_t k = j + 1; k < f->end; k++) {
        if (line_blank_or_comment (ls->l[k], '#'))
          continue;
        if (line_indent (ls->l[k]) < ind ||
            (line_indent (ls->l[k]) == ind && ls->l[k][ind] != '-'))
          break;
        last = k;
      }
      for (size_t k = j; k <= last; k++) {
        lines_delete (ls, j);
        f->end--;
      }
      j--;
    }
  }
  {
    size_t ind = line_indent (ls->l[f->key]);
    char *nl = xasprintf ("%.*s%s:", (int) ind, ls->l[f->key], eth);
    if (!nl)
      return -1;
    free (ls->l[f->key]);
    ls->l[f->key] = nl;
    if (!keep_static) {
      size_t bi = f->body_ind ? f->body_ind : ind + 2;
      CLEANUP_FREE char *d = xasprintf ("%*sdhcp4: true", (int) bi, "");
      if (!d || lines_insert (ls, f->key + 1, d) == -1)
        return -1;
    }
  }
  return 0;
}

const struct net_ops net_netplan_ops = {
  .name = "netplan",
  .scan = netplan_scan,
  .needs_fix = net_needs_fix,
  .mac_reason = "matched by the VMware NIC's MAC address (match: macaddress)",
  .name_reason = "interface name changes on Azure (becomes ethN)",
  .edit = netplan_edit,
  .parse = netplan_parse,
};
