/* modprobe.d lines that stop Hyper-V (and boot) modules from loading. */
#include <stdio.h>
#include <string.h>

#include "prep/common/common.h"
#include "distros/distro.h"

static const char *const hv_modules[] = {
  "hv_vmbus", "hv_storvsc", "hv_netvsc", "hv_utils", "hv_balloon",
  "hid_hyperv", "hyperv_keyboard", "hyperv_fb", "hv_sock", "pci_hyperv",
  "nvme", "nvme_core", "udf", "vfat", NULL
};

static bool
hv_module (const char *w, size_t len)
{
  char name[64];
  if (len >= sizeof name)
    return false;
  for (size_t i = 0; i < len; i++)
    name[i] = w[i] == '-' ? '_' : w[i];
  name[len] = '\0';
  for (size_t i = 0; hv_modules[i]; i++)
    if (!strcmp (name, hv_modules[i]))
      return true;
  return false;
}

/* "blacklist M" or "install M /bin/true|/bin/false|false|true" */
bool
modprobe_line_blocks_hv (const char *l)
{
  const char *p = l + line_indent (l);
  size_t len;
  bool install = false;

  if (!strncmp (p, "blacklist", 9) && (p[9] == ' ' || p[9] == '\t'))
    p += 9;
  else if (!strncmp (p, "install", 7) && (p[7] == ' ' || p[7] == '\t')) {
    p += 7;
    install = true;
  }
  else
    return false;
  p += strspn (p, " \t");
  len = strcspn (p, " \t\r");
  if (!hv_module (p, len))
    return false;
  if (!install)
    return true;
  p += len + strspn (p + len, " \t");
  return strstr (p, "/bin/true") || strstr (p, "/bin/false") ||
    !strncmp (p, "true", 4) || !strncmp (p, "false", 5) ||
    strstr (p, "/dev/null");
}


/* The directive starting at line j as kmod reads it: each line that
 * ends in a backslash joined to the next, the backslash and newline
 * dropped.  *next: the line after it.  NULL on out of memory. */
static char *
directive_at (const struct lines *ls, size_t j, size_t *next)
{
  char *s = NULL;
  size_t n;
  FILE *fp = open_memstream (&s, &n);

  if (!fp)
    return NULL;
  for (; j < ls->n; j++) {
    size_t len = strlen (ls->l[j]);
    bool cont = len > 0 && ls->l[j][len - 1] == '\\';
    fwrite (ls->l[j], 1, cont ? len - 1 : len, fp);
    if (!cont)
      break;
  }
  fclose (fp);
  *next = j < ls->n ? j + 1 : ls->n;
  return s;
}

/* A directive continued over several lines is disabled by commenting
 * out its first line: kmod joins the lines before it skips comments. */
char *
modprobe_unblock_hv (const char *text, size_t *nblocked)
{
  struct lines ls;
  char *out = NULL;

  *nblocked = 0;
  if (lines_split (&ls, text) == -1)
    return NULL;
  for (size_t j = 0, next; j < ls.n; j = next) {
    char *d = directive_at (&ls, j, &next), *nl;
    bool blocks = d && modprobe_line_blocks_hv (d);

    free (d);
    if (!d) {
      azp_error ("out of memory");
      goto out;
    }
    if (!blocks)
      continue;
    nl = xasprintf ("# disabled by azprep (Azure needs it): %s", ls.l[j]);
    if (!nl)
      goto out;
    free (ls.l[j]);
    ls.l[j] = nl;
    (*nblocked)++;
  }
  if (*nblocked)
    out = lines_join (&ls);
 out:
  lines_free (&ls);
  return out;
}
