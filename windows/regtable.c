/* The declarative registry table: { hive, key path, value, type, data }
 * rows checked and applied by one function each.  SYSTEM paths are
 * relative to the inspected ControlSet00N (Select\Current), never to
 * the CurrentControlSet link, which exists only in a running Windows.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "prep/common/common.h"
#include "windows/windows.h"

int64_t
win_table_base (struct guest *gs, hive_h *h, enum win_hive which)
{
  hive_node_h root = hivex_root (h);
  int64_t cs;

  if (root == 0) {
    azp_error ("%s hive: no root key: %m", win_hive_name (which));
    return -1;
  }
  if (which != HIVE_SYSTEM)
    return root;
  if (!gs->windows_current_control_set) {
    azp_error ("SYSTEM hive: no current control set (Select\\Current)");
    return -1;
  }
  cs = win_key_lookup (h, "SYSTEM", root, gs->windows_current_control_set);
  if (cs == 0) {
    azp_error ("SYSTEM hive: key %s (from Select\\Current) does not exist",
               gs->windows_current_control_set);
    return -1;
  }
  return cs;
}

/* Weak, so that a build with no table still links. */
extern const struct win_table *const __start_azprep_win_tables[]
  __attribute__((weak));
extern const struct win_table *const __stop_azprep_win_tables[]
  __attribute__((weak));

const struct win_table *const *
win_tables (size_t *n)
{
  *n = __stop_azprep_win_tables - __start_azprep_win_tables;
  return __start_azprep_win_tables;
}

/* Is the key p the key anc or below it?  Registry names compare
 * without case, as hivex_node_get_child does. */
static bool
within (const char *p, const char *anc)
{
  size_t n = strlen (anc);
  return !strncasecmp (p, anc, n) && (p[n] == '\0' || p[n] == '\\');
}

/* Does row r put a value in its key, creating the key if needed? */
static bool
creates_key (const struct win_reg *r)
{
  return (r->op == WIN_DWORD || r->op == WIN_SZ || r->op == WIN_EXPAND_SZ
          || r->op == WIN_BINARY)
    && !(r->flags & (WIN_IF_KEY | WIN_IF_VALUE | WIN_IF_DISABLED));
}

/* Does row r touch the value (or every value) of key path? */
static bool
touches_value (const struct win_reg *r, const char *path, const char *value)
{
  if (r->op == WIN_DELETE_KEY || strcasecmp (r->path, path))
    return false;
  return r->op == WIN_DELETE_ALL || !value || !strcasecmp (r->value, value);
}

ssize_t
win_table_conflict (const struct win_reg *t, size_t n)
{
  for (size_t j = 1; j < n; j++)
    for (size_t i = 0; i < j; i++) {
      const struct win_reg *a = &t[i], *b = &t[j];
      if (a->hive != b->hive)
        continue;
      if (touches_value (a, b->path, b->value)
          || touches_value (b, a->path, a->value)
          || (a->op == WIN_DELETE_KEY && creates_key (b)
              && within (b->path, a->path))
          || (b->op == WIN_DELETE_KEY && creates_key (a)
              && within (a->path, b->path)))
        return j;
    }
  return -1;
}

/* Will the key of row e exist once the whole table (t, n) is applied?
 * exists: it exists now.  Decided on the table, not on the rows run so
 * far, so that the row order never matters: no other row deletes it
 * or a parent, and it exists now or a row must put a value in it or
 * below it. */
static bool
key_after (const struct win_reg *t, size_t n, const struct win_reg *e,
           bool exists)
{
  for (size_t i = 0; i < n; i++)
    if (&t[i] != e && t[i].hive == e->hive && t[i].op == WIN_DELETE_KEY
        && within (e->path, t[i].path))
      return false;
  for (size_t i = 0; !exists && i < n; i++)
    if (t[i].hive == e->hive && creates_key (&t[i])
        && within (t[i].path, e->path))
      exists = true;
  return exists;
}

/* The wanted data of a row as bytes. */
static char *
wanted (const struct win_reg *e, hive_type *t, size_t *len)
{
  char *b;

  switch (e->op) {
  case WIN_DWORD:
    *t = hive_t_REG_DWORD;
    *len = 4;
    b = malloc (4);
    if (b) {
      b[0] = e->dword; b[1] = e->dword >> 8;
      b[2] = e->dword >> 16; b[3] = e->dword >> 24;
    }
    break;
  case WIN_SZ:
  case WIN_EXPAND_SZ:
    *t = e->op == WIN_SZ ? hive_t_REG_SZ : hive_t_REG_EXPAND_SZ;
    return win_utf16 (&e->str, 1, false, len);
  case WIN_BINARY:
    *t = hive_t_REG_BINARY;
    *len = e->binlen;
    b = malloc (e->binlen ? e->binlen : 1);
    if (b)
      memcpy (b, e->bin, e->binlen);
    break;
  default:
    return NULL;
  }
  if (!b)
    azp_error ("out of memory");
  return b;
}

/* Is the current value already what the row wants?  1 yes, 0 no, -1
 * error (wrong type: reported). */
static int
matches (const struct win_reg *e, const struct win_value *cur,
         const char *object)
{
  uint32_t d;
  int r;

  if ((e->flags & WIN_IF_VALUE) && !cur->present)
    return 1;
  switch (e->op) {
  case WIN_DWORD:
    if ((e->flags & WIN_QWORD_OK) && cur->present
        && cur->type == hive_t_REG_QWORD && cur->len == 8) {
      CLEANUP_FREE char *text = win_value_text (cur);
      CLEANUP_FREE char *want = xasprintf ("%u", e->dword);
      return text && want && !strcmp (text, want);
    }
    r = win_value_dword (cur, object, &d);
    if (r == -1)
      return -1;
    if (r == 1)                 /* absent: not disabled either */
      return (e->flags & WIN_IF_DISABLED) ? 1 : 0;
    if (e->flags & WIN_IF_DISABLED)
      return d != 4;
    return d == e->dword;
  case WIN_DELETE:
    return !cur->present;
  default: {
    hive_type t;
    size_t len;
    CLEANUP_FREE char *b = wanted (e, &t, &len);
    if (!b)
      return -1;
    if (!cur->present)
      return 0;
    if (e->op != WIN_BINARY && cur->type != hive_t_REG_SZ
        && cur->type != hive_t_REG_EXPAND_SZ) {
      azp_error ("%s: wrong value type %d (expected a string)", object,
                 (int) cur->type);
      return -1;
    }
    /* Compare the text, not the padding some writers add. */
    if (e->op != WIN_BINARY) {
      CLEANUP_FREE char *text = win_value_text (cur);
      return text && !strcmp (text, e->str) && cur->type == t;
    }
    if (e->alt && cur->type == t && cur->len == e->altlen
        && !memcmp (cur->data, e->alt, e->altlen))
      return 1;
    return cur->type == t && cur->len == len && !memcmp (cur->data, b, len);
  }
  }
}

/* Check (apply = false) or apply one row e of the table (tab, n).
 * *changed is set when the hive was modified. */
static int
one_row (struct guest *gs, hive_h *h, hive_node_h base,
         const struct win_reg *tab, size_t n, const struct win_reg *e,
         bool apply, bool *changed)
{
  const char *hn = win_hive_name (e->hive);
  CLEANUP_FREE char *object = win_object (gs, e->hive, e->path, e->value);
  struct win_value cur = { 0 };
  int64_t node;
  int m;

  if (!object)
    return -1;
  node = win_key_lookup (h, hn, base, e->path);
  if (node == -1)
    return -1;
  if (node == 0 && (e->op == WIN_DELETE || e->op == WIN_DELETE_ALL
                    || e->op == WIN_DELETE_KEY))
    return 0;
  if ((e->flags & WIN_IF_KEY) || !creates_key (e))
    if (!key_after (tab, n, e, node != 0))
      return 0;

  if (e->op == WIN_DELETE_KEY) {
    if (!apply)
      return report_finding (gs->report, SEV_WARNING, e->id, object, NULL,
                             true, "%s", e->why);
    if (hivex_node_delete_child (h, node) == -1) {
      azp_error ("%s: cannot delete the key: %m", object);
      return -1;
    }
    *changed = true;
    return report_change (gs->report, "registry", object, "(key)", NULL);
  }

  if (e->op == WIN_DELETE_ALL) {
    CLEANUP_FREE hive_value_h *vals = hivex_node_values (h, node);
    if (!vals) {
      azp_error ("%s: %m", object);
      return -1;
    }
    for (size_t i = 0; vals[i]; i++) {
      CLEANUP_FREE char *key = hivex_value_key (h, vals[i]);
      CLEANUP_FREE char *obj = NULL, *before = NULL;
      if (!key || !(obj = win_object (gs, e->hive, e->path, key)))
        return -1;
      if (win_value_get (h, node, key, obj, &cur) == -1)
        return -1;
      before = win_value_text (&cur);
      win_value_free (&cur);
      if (!apply) {
        if (report_finding (gs->report, SEV_WARNING, e->id, obj, NULL, true,
                            "%s: remove %s", e->why, key) == -1)
          return -1;
      }
      else if (report_change (gs->report, "registry", obj, before,
                              NULL) == -1)
        return -1;
    }
    if (apply && vals[0]) {
      if (hivex_node_set_values (h, node, 0, NULL, 0) == -1) {
        azp_error ("%s: cannot delete the values: %m", object);
        return -1;
      }
      *changed = true;
    }
    return 0;
  }

  if (node != 0 && win_value_get (h, node, e->value, object, &cur) == -1)
    return -1;
  m = matches (e, &cur, object);
  if (m != 0) {
    win_value_free (&cur);
    return m == 1 ? 0 : -1;
  }
  {
    CLEANUP_FREE char *before = win_value_text (&cur);
    CLEANUP_FREE char *after = NULL;
    CLEANUP_FREE char *data = NULL;
    struct win_value w = { 0 };
    hive_type t = 0;
    size_t len = 0;
    int r = 0;

    win_value_free (&cur);
    if (e->op != WIN_DELETE) {
      data = wanted (e, &t, &len);
      if (!data)
        return -1;
      w.present = true; w.type = t; w.data = data; w.len = len;
      after = win_value_text (&w);
    }
    if (!apply)
      return report_finding (gs->report, SEV_WARNING, e->id, object, NULL,
                             true, "%s (%s -> %s)", e->why,
                             before ? before : "absent",
                             after ? after : "removed");
    if (e->op == WIN_DELETE)
      r = win_value_delete (h, node, e->value, object);
    else {
      if (node == 0)
        node = win_key_create (h, hn, base, e->path);
      if (node == -1)
        return -1;
      r = win_value_set (h, node, e->value, t, data, len, object);
    }
    if (r == -1)
      return -1;
    *changed = true;
    return report_change (gs->report, "registry", object, before, after);
  }
}

static int
run_table (struct guest *gs, const struct win_reg *t, size_t n, bool apply)
{
  for (int which = 0; which < HIVE_COUNT; which++) {
    bool any = false, changed = false;
    CLEANUP_HIVE_CLOSE hive_h *h = NULL;
    int64_t base;

    for (size_t i = 0; i < n; i++)
      any |= t[i].hive == (enum win_hive) which;
    if (!any)
      continue;
    h = win_hive_open (gs, which, apply);
    if (!h)
      return -1;
    base = win_table_base (gs, h, which);
    for (size_t i = 0; base != -1 && i < n; i++) {
      if (t[i].hive != (enum win_hive) which)
        continue;
      if (one_row (gs, h, base, t, n, &t[i], apply, &changed) == -1)
        base = -1;
    }
    if (base == -1)
      return -1;
    if (changed && win_hive_commit (gs, which, win_hive_take (&h)) == -1)
      return -1;
  }
  return 0;
}

int
win_table_check (struct guest *gs, const struct win_reg *t, size_t n)
{
  return run_table (gs, t, n, false);
}

int
win_table_apply (struct guest *gs, const struct win_reg *t, size_t n)
{
  return run_table (gs, t, n, true);
}
