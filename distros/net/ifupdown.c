/* Debian ifupdown: /etc/network/interfaces and interfaces.d/. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static const char main_file[] = "/etc/network/interfaces";

/* Static-address options dropped when the stanza becomes DHCP. */
static const char *const static_opts[] = {
  "address", "netmask", "gateway", "network", "broadcast", "dns-",
  "pointopoint", "hwaddress", NULL
};

/* Parse "iface NAME FAMILY METHOD", the keyword and each field a whole
 * word (the name under 64 bytes, the family 16, the method 32); returns
 * true and fills the fields. */
static bool
parse_iface (const char *l, char *name, size_t nsz, char *fam, char *meth)
{
  char *const field[3] = { name, fam, meth };
  const size_t size[3] = { nsz < 64 ? nsz : 64, 16, 32 };
  const char *p = l + line_indent (l);

  if (strncmp (p, "iface", 5) || !strchr (" \t", p[5]) || !p[5])
    return false;
  p += 5;
  for (size_t i = 0; i < 3; i++) {
    size_t len;
    p += strspn (p, " \t");
    len = strcspn (p, " \t\r");
    if (len == 0 || len >= size[i])
      return false;
    memcpy (field[i], p, len);
    field[i][len] = '\0';
    p += len;
  }
  return true;
}

static int
ifupdown_parse (const char *file, const char *text, struct net_iface **list,
                size_t *n)
{
  struct lines ls;
  int r = 0;

  if (lines_split (&ls, text) == -1)
    return -1;
  for (size_t i = 0; r == 0 && i < ls.n; i++) {
    char name[64], fam[16], meth[32];
    if (!parse_iface (ls.l[i], name, sizeof name, fam, meth) ||
        !strcmp (name, "lo") || strcmp (fam, "inet"))
      continue;
    r = net_iface_add (list, n, file, name, strcmp (meth, "static") != 0,
                       NULL);
  }
  lines_free (&ls);
  return r;
}

static int
scan_file (struct guest *gs, const char *file, struct net_iface **list,
           size_t *n)
{
  CLEANUP_FREE char *text = distro_read_config (gs, file);
  return text ? ifupdown_parse (file, text, list, n) : -1;
}

static int
ifupdown_scan (struct guest *gs, struct net_iface **list, size_t *n)
{
  CLEANUP_FREE_STRING_LIST char **more = NULL;

  if (!guest_exists (gs, main_file))
    return 0;
  if (scan_file (gs, main_file, list, n) == -1)
    return -1;
  more = guestfs_glob_expand (gs->g, "/etc/network/interfaces.d/*");
  for (size_t i = 0; more && more[i]; i++)
    if (!strstr (more[i], ".azprep-orig") &&
        guest_is_file (gs->g, more[i], false) > 0 &&
        scan_file (gs, more[i], list, n) == -1)
      return -1;
  return 0;
}

/* Replace word number w (0-based) of line by repl. */
static char *
replace_word (const char *line, size_t w, const char *repl)
{
  const char *p = line;
  size_t ind = line_indent (line);
  char *s = NULL;
  size_t n;
  FILE *fp;

  p += ind;
  for (size_t i = 0; i < w; i++) {
    p += strcspn (p, " \t");
    p += strspn (p, " \t");
  }
  fp = open_memstream (&s, &n);
  if (!fp)
    return NULL;
  fprintf (fp, "%.*s%s%s", (int) (p - line), line, repl,
           p + strcspn (p, " \t"));
  fclose (fp);
  return s;
}

static bool
first_word_is (const char *l, const char *w)
{
  size_t len = strlen (w);
  l += line_indent (l);
  return !strncmp (l, w, len) && (l[len] == ' ' || l[len] == '\t');
}

static bool
names (const char *l, const char *name)
{
  /* "auto a b c" / "allow-hotplug a": does it list name? */
  const char *p = l + line_indent (l);
  p += strcspn (p, " \t");
  return words_has (p, name);
}

static int
set_line (struct lines *ls, size_t i, char *s)
{
  if (!s) {
    azp_error ("out of memory");
    return -1;
  }
  free (ls->l[i]);
  ls->l[i] = s;
  return 0;
}

static int
ifupdown_edit (bool keep_static, const struct net_iface *ifc,
               const char *eth, struct lines *ls)
{
  bool started = false, in_stanza = false;

  for (size_t i = 0; i < ls->n; i++) {
    char name[64], fam[16], meth[32];
    const char *l = ls->l[i];

    if (parse_iface (l, name, sizeof name, fam, meth)) {
      in_stanza = !strcmp (name, ifc->name);
      if (!in_stanza)
        continue;
      if (set_line (ls, i, replace_word (l, 1, eth)) == -1)
        return -1;
      if (!keep_static && !strcmp (meth, "static") &&
          set_line (ls, i, replace_word (ls->l[i], 3,
                                         !strcmp (fam, "inet6")
                                         ? "auto" : "dhcp")) == -1)
        return -1;
      if (!started) {
        started = true;
        /* Make sure it comes up at boot. */
        bool up = false;
        for (size_t j = 0; j < ls->n; j++)
          if ((first_word_is (ls->l[j], "auto") ||
               first_word_is (ls->l[j], "allow-hotplug")) &&
              (names (ls->l[j], ifc->name) || names (ls->l[j], eth)))
            up = true;
        if (!up) {
          CLEANUP_FREE char *a = xasprintf ("auto %s", eth);
          if (!a || lines_insert (ls, i, a) == -1)
            return -1;
          i++;
        }
      }
      continue;
    }
    if (first_word_is (l, "auto") || first_word_is (l, "allow-hotplug") ||
        first_word_is (l, "mapping") || first_word_is (l, "source") ||
        first_word_is (l, "iface")) {
      in_stanza = false;
      /* An interface already named eth leaves the lists as they are (a
       * second fix must not reorder a list the first left alone). */
      if (names (l, ifc->name) && strcmp (ifc->name, eth) &&
          !first_word_is (l, "source")) {
        /* Rename in the list of names, listing eth once: a list that
         * named both would name it twice, and a second fix would
         * drop the copy. */
        const char *p = l + line_indent (l);
        size_t kw = strcspn (p, " \t");
        CLEANUP_FREE char *other = words_remove (p + kw, ifc->name);
        CLEANUP_FREE char *rest = other ? words_remove (other, eth) : NULL;
        char *nl;
        if (!rest)
          return -1;              /* reported */
        nl = xasprintf ("%.*s %s%s%s", (int) (p - l + kw), l, eth,
                        *rest ? " " : "", rest);
        if (set_line (ls, i, nl) == -1)
          return -1;
      }
      continue;
    }
    if (in_stanza && !keep_static && !ifc->dhcp) {
      const char *p = l + line_indent (l);
      for (size_t k = 0; static_opts[k]; k++)
        if (!strncmp (p, static_opts[k], strlen (static_opts[k]))) {
          lines_delete (ls, i);
          i--;
          break;
        }
    }
  }
  return 0;
}

const struct net_ops net_ifupdown_ops = {
  .name = "ifupdown",
  .scan = ifupdown_scan,
  .needs_fix = net_needs_fix,
  .name_reason = "interface name changes on Azure (becomes ethN)",
  .edit = ifupdown_edit,
  .parse = ifupdown_parse,
};
