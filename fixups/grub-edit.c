/* /etc/default/grub and its drop-ins, edited line by line (see
 * grub-edit.h).  No guest here. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/text.h"
#include "prep/report.h"
#include "fixups/bootparams.h"
#include "fixups/grub-edit.h"

static bool
is_ident (char c)
{
  return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
    (c >= '0' && c <= '9');
}

/* If p is $key or ${key}, its length, else 0. */
static size_t
reference (const char *p, const char *key)
{
  size_t kl = strlen (key);

  if (p[0] != '$')
    return 0;
  if (!strncmp (p + 1, key, kl) && !is_ident (p[1 + kl]))
    return 1 + kl;
  if (p[1] == '{' && !strncmp (p + 2, key, kl) && p[2 + kl] == '}')
    return 3 + kl;
  return 0;
}

/* Does value refer to $key or ${key}? */
static bool
extends (const char *value, const char *key)
{
  for (const char *p = value; (p = strchr (p, '$')); p++)
    if (reference (p, key))
      return true;
  return false;
}

/* value with $key and ${key} replaced by prev. */
static char *
expand (const char *value, const char *key, const char *prev)
{
  char *s = NULL;
  size_t n;
  FILE *fp = open_memstream (&s, &n);

  if (!fp)
    return NULL;
  for (const char *p = value; *p; ) {
    size_t r = reference (p, key);
    if (r) {
      fputs (prev, fp);
      p += r;
    }
    else
      fputc (*p++, fp);
  }
  fclose (fp);
  return s;
}

char *
grub_defaults_value (size_t n, const char *const *texts, const char *key)
{
  char *cur = NULL;

  for (size_t i = 0; i < n; i++) {
    struct lines ls;
    if (lines_split (&ls, texts[i]) == -1) {
      free (cur);
      return NULL;
    }
    for (size_t j = 0; j < ls.n; j++) {
      CLEANUP_FREE char *v = kv_line_value (ls.l[j], key);
      char *nv;
      if (!v)
        continue;
      nv = expand (v, key, cur ? cur : "");
      free (cur);
      cur = nv;
    }
    lines_free (&ls);
  }
  return cur;
}

struct files {
  size_t n;
  const char *const *names;
  struct lines *ls;
  bool *changed;
};

static int
finding (const struct grub_edit *ge, const char *id, const char *file,
         const char *key, const char *old, const char *nv)
{
  return report_finding (ge->rep, SEV_WARNING, id, file, NULL, true,
                         "%s=\"%s\" becomes \"%s\"", key, old ? old : "",
                         nv ? nv : "");
}

/* Set line j of file i to the assignment with value nv (or delete it
 * when nv is NULL), or report it. */
static int
change (const struct grub_edit *ge, struct files *f, size_t i, size_t j,
        const char *id, const char *key, const char *old, const char *nv)
{
  const char *why;
  char *nl;

  /* A line azprep cannot requote is refused by fix: check says so,
   * as a blocker that fix does not repair, so that the verdict agrees
   * with what fix will do. */
  if (!ge->fix && nv && (why = kv_line_uneditable (f->ls[i].l[j], key)))
    return report_finding (ge->rep, SEV_BLOCKER, id, f->names[i],
                           "write the value in plain double quotes, then "
                           "run check again", false,
                           "%s=%s: azprep does not edit this line (%s); it "
                           "should become \"%s\"", key, old, why, nv);
  if (!ge->fix)
    return finding (ge, id, f->names[i], key, old, nv);
  f->changed[i] = true;
  if (!nv) {
    lines_delete (&f->ls[i], j);
    return 0;
  }
  nl = kv_line_replace (f->ls[i].l[j], key, nv);
  if (!nl)
    return -1;
  free (f->ls[i].l[j]);
  f->ls[i].l[j] = nl;
  return 0;
}

/* Append KEY="nv" to the main file (KEY is set nowhere). */
static int
append (const struct grub_edit *ge, struct files *f, const char *id,
        const char *key, const char *nv)
{
  CLEANUP_FREE char *line = NULL;

  if (!ge->fix)
    return finding (ge, id, f->names[0], key, NULL, nv);
  line = xasprintf ("%s=\"%s\"", key, nv);
  f->changed[0] = true;
  return line ? lines_insert (&f->ls[0], f->ls[0].n, line) : -1;
}

/* Every assignment of key: fn gives the new value (the old one: leave
 * it; NULL: out of memory).  *seen: some line sets key. */
static int
each (const struct grub_edit *ge, struct files *f, const char *id,
      const char *key, char *(*fn) (const struct grub_edit *, const char *,
                                    const char *, const void *),
      const void *arg, bool *seen)
{
  *seen = false;
  for (size_t i = 0; i < f->n; i++)
    for (size_t j = 0; j < f->ls[i].n; j++) {
      CLEANUP_FREE char *old = kv_line_value (f->ls[i].l[j], key);
      CLEANUP_FREE char *nv = NULL;
      if (!old)
        continue;
      *seen = true;
      nv = fn (ge, key, old, arg);
      if (!nv)
        return -1;
      if (!strcmp (nv, old))
        continue;
      if (change (ge, f, i, j, id, key, old, nv) == -1)
        return -1;
    }
  return 0;
}

/* GRUB_DISABLE_LINUX_UUID=true puts a device name in root=: such
 * lines go. */
static int
remove_disable_uuid (const struct grub_edit *ge, struct files *f)
{
  static const char key[] = "GRUB_DISABLE_LINUX_UUID";

  for (size_t i = 0; i < f->n; i++)
    for (size_t j = 0; j < f->ls[i].n; ) {
      CLEANUP_FREE char *old = kv_line_value (f->ls[i].l[j], key);
      if (!old || strcmp (old, "true"))
        j++;
      else if (change (ge, f, i, j, "linux-grub-root-device", key, old,
                       NULL) == -1)
        return -1;
      else if (!ge->fix)
        j++;
    }
  return 0;
}

static char *
cmdline_value (const struct grub_edit *ge, const char *key, const char *old,
               const void *add)
{
  return boot_cmdline_edit (ge->add, ge->dm, old,
                            *(const bool *) add && !extends (old, key));
}

static char *
fixed_value (const struct grub_edit *ge, const char *key, const char *old,
             const void *want)
{
  return xstrdup (want);
}

static int
edit_all (const struct grub_edit *ge, struct files *f)
{
  static const bool yes = true, no = false;
  static const struct { const char *key; const bool *add; } cmd[] = {
    { "GRUB_CMDLINE_LINUX", &yes }, { "GRUB_CMDLINE_LINUX_DEFAULT", &no },
  };
  static const struct { const char *key, *value; } set[] = {
    { "GRUB_TERMINAL", GRUB_TERMINAL_VALUE },
    { "GRUB_SERIAL_COMMAND", GRUB_SERIAL },
  };
  bool seen;

  for (size_t k = 0; k < sizeof cmd / sizeof cmd[0]; k++) {
    if (each (ge, f, "linux-boot-params", cmd[k].key, cmdline_value,
              cmd[k].add, &seen) == -1)
      return -1;
    if (!seen && *cmd[k].add) {
      CLEANUP_FREE char *nv = boot_cmdline_edit (ge->add, ge->dm, "", true);
      if (!nv || append (ge, f, "linux-boot-params", cmd[k].key, nv) == -1)
        return -1;
    }
  }
  for (size_t k = 0; k < sizeof set / sizeof set[0]; k++) {
    if (each (ge, f, "linux-grub-serial", set[k].key, fixed_value,
              set[k].value, &seen) == -1)
      return -1;
    if (!seen && append (ge, f, "linux-grub-serial", set[k].key,
                         set[k].value) == -1)
      return -1;
  }
  return remove_disable_uuid (ge, f);
}

int
grub_defaults_edit (const struct grub_edit *ge, size_t n,
                    const char *const *names, const char *const *texts,
                    char **outs)
{
  struct lines ls[n ? n : 1];
  bool changed[n ? n : 1];
  struct files f = { n, names, ls, changed };
  size_t split = 0;
  int r = 0;

  for (size_t i = 0; i < n; i++) {
    outs[i] = NULL;
    changed[i] = false;
  }
  for (; split < n; split++)
    if (lines_split (&ls[split], texts[split]) == -1) {
      r = -1;
      break;
    }
  if (r == 0 && n > 0)
    r = edit_all (ge, &f);
  for (size_t i = 0; r == 0 && i < n; i++)
    if (changed[i] && !(outs[i] = lines_join (&ls[i])))
      r = -1;
  for (size_t i = 0; i < split; i++)
    lines_free (&ls[i]);
  if (r == -1)
    for (size_t i = 0; i < n; i++) {
      free (outs[i]);
      outs[i] = NULL;
    }
  return r;
}
