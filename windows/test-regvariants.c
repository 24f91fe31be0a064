/* Unit test (no appliance): every Windows registry table (WIN_TABLE)
 * applied with libhivex to hive files on the host, by the same
 * win_table_apply and win_table_check that fix and check run over a
 * guest's downloaded hives.
 *
 * Bases: the phony guest's hives (images/windows/NAME.reg.in merged into
 * an empty hive with hivexregedit, as images/windows/build.sh does),
 * the same after a fix, one whose Select\Current is ControlSet002
 * beside a stale ControlSet001, and extracts of real hives
 * (tests/data/windows: two SYSTEMs, one SYSTEM and SOFTWARE pair).
 * For every row, variants that differ from a base in one way (see the
 * kinds below).  On each:
 *  - apply succeeds, or refuses with a message (and check refuses too);
 *  - check afterwards has no fixable finding;
 *  - a second apply changes nothing (not a byte);
 *  - nothing but the table's own keys and values changed, and no key
 *    was created empty;
 *  - the rows in random orders (fixed seed) give the same hive. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "prep/fixup.h"
#include "prep/report.h"
#include "windows/windows.h"

#define PERMUTATIONS 3
#define NBASES 6            /* of the table variants */
#define NRULE_BASES 2       /* more, for windows-rdp run whole */
#define DATA "tests/data/windows/"

static char dir[] = "/tmp/azprep-test-regvariants.XXXXXX";
static const char *cs = "ControlSet001";        /* of the current base */
static unsigned long long seed = 0x9e3779b97f4a7c15ULL;
static size_t nvariants, nrefused, napplies;
static bool whole;      /* run fixups whole (run_whole), not by table */

/* --- hive files ------------------------------------------------------ */

static char *
slurp (const char *path, size_t *len)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "rb");
  struct stat sb;
  char *b;

  if (!fp || fstat (fileno (fp), &sb) == -1
      || !(b = malloc (sb.st_size + 1)))
    return NULL;
  *len = fread (b, 1, sb.st_size, fp);
  b[*len] = '\0';
  return b;
}

static void
spill (const char *path, const char *b, size_t len)
{
  FILE *fp = fopen (path, "wb");
  if (!fp || fwrite (b, 1, len, fp) != len || fclose (fp)) {
    perror (path);
    exit (1);
  }
}

static void
copy (const char *from, const char *to)
{
  size_t len;
  CLEANUP_FREE char *b = slurp (from, &len);
  if (!b) {
    perror (from);
    exit (1);
  }
  spill (to, b, len);
}

static bool
same_bytes (const char *a, const char *b)
{
  size_t la, lb;
  CLEANUP_FREE char *x = slurp (a, &la), *y = slurp (b, &lb);
  return x && y && la == lb && !memcmp (x, y, la);
}

/* A .reg file with @KEY@ replaced (unknown: empty), comment lines
 * dropped, as images/windows/build.sh's subst. */
static char *
reg_file (const char *in, const char *const *kv)
{
  size_t len;
  CLEANUP_FREE char *s = slurp (in, &len);
  char *out = calloc (1, len * 2 + 65536), *o = out;

  if (!s || !out)
    exit (1);
  for (char *p = s; *p; ) {
    if ((p == s || p[-1] == '\n') && *p == ';') {
      p = strchrnul (p, '\n');
      p += *p != '\0';
      continue;
    }
    char *end = *p == '@' ? strchr (p + 1, '@') : NULL;
    if (end && end - p < 32 && end > p + 1
        && strspn (p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")
           == (size_t) (end - p - 1)) {
      for (size_t i = 0; kv[i]; i += 2)
        if (!strncmp (kv[i], p + 1, end - p - 1) && !kv[i][end - p - 1])
          o = stpcpy (o, kv[i + 1]);
      p = end + 1;
    }
    else
      *o++ = *p++;
  }
  return out;
}

/* images/windows/NAME.reg.in, filled. */
static char *
reg_text (const char *name, const char *const *kv)
{
  CLEANUP_FREE char *in = xasprintf ("images/windows/%s.reg.in", name);
  return reg_file (in, kv);
}

/* Merge a .reg text into the hive file out (prefix: the text's root,
 * or "" when its keys are written from the hive's root). */
static void
merge_text (const char *out, const char *prefix, const char *text)
{
  CLEANUP_FREE char *reg = xasprintf ("%s/in.reg", dir);
  const char *merge[] = { "hivexregedit", "--merge", out, "--prefix",
                          prefix, reg, NULL };

  spill (reg, text, strlen (text));
  if (!*prefix) {
    merge[3] = reg;
    merge[4] = NULL;
  }
  if (run_command (NULL, merge) != 0) {
    fprintf (stderr, "hivexregedit --merge %s failed\n", out);
    exit (1);
  }
}

/* An empty hive (images-tools/phony) with .reg texts merged in. */
static void
make_hive (const char *phony, const char *out, const char *prefix,
           const char *const *texts)
{
  const char *mk[] = { phony, "hive", out, NULL };

  if (run_command (NULL, mk) != 0)
    exit (1);
  for (size_t i = 0; texts[i]; i++)
    merge_text (out, prefix, texts[i]);
}

/* --- a hive as sorted lines: "HIVE|key|" and "HIVE|key|name=type:hex" */

struct lines {
  char **v;
  size_t n, cap;
};

static void
add_line (struct lines *l, char *s)
{
  if (!s)
    exit (1);
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->v = realloc (l->v, l->cap * sizeof *l->v);
    if (!l->v)
      exit (1);
  }
  l->v[l->n++] = s;
}

static void
lines_free (struct lines *l)
{
  for (size_t i = 0; i < l->n; i++)
    free (l->v[i]);
  free (l->v);
  memset (l, 0, sizeof *l);
}

static void
dump_node (hive_h *h, hive_node_h node, const char *hive, const char *path,
           struct lines *l)
{
  CLEANUP_FREE hive_value_h *vals = hivex_node_values (h, node);
  CLEANUP_FREE hive_node_h *kids = hivex_node_children (h, node);

  if (!vals || !kids)
    exit (1);
  add_line (l, xasprintf ("%s|%s|", hive, path));
  for (size_t i = 0; vals[i]; i++) {
    CLEANUP_FREE char *key = hivex_value_key (h, vals[i]);
    hive_type t;
    size_t len;
    CLEANUP_FREE char *data = hivex_value_value (h, vals[i], &t, &len);
    CLEANUP_FREE char *hex = calloc (1, len * 2 + 1);
    if (!key || !data || !hex)
      exit (1);
    for (size_t j = 0; j < len; j++) {
      hex[2 * j] = "0123456789abcdef"[(unsigned char) data[j] >> 4];
      hex[2 * j + 1] = "0123456789abcdef"[data[j] & 15];
    }
    add_line (l, xasprintf ("%s|%s|%s=%d:%s", hive, path, key, (int) t,
                            hex));
  }
  for (size_t i = 0; kids[i]; i++) {
    CLEANUP_FREE char *name = hivex_node_name (h, kids[i]);
    CLEANUP_FREE char *sub = name ? xasprintf ("%s%s%s", path,
                                               *path ? "\\" : "", name)
      : NULL;
    if (!sub)
      exit (1);
    dump_node (h, kids[i], hive, sub, l);
  }
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static struct lines
dump (char *const *hive)
{
  struct lines l = { 0 };

  for (int w = 0; w < HIVE_COUNT; w++) {
    hive_h *h = hivex_open (hive[w], 0);
    if (!h) {
      perror (hive[w]);
      exit (1);
    }
    dump_node (h, hivex_root (h), win_hive_name (w), "", &l);
    hivex_close (h);
  }
  if (l.n > 0)                  /* qsort: v may be NULL */
    qsort (l.v, l.n, sizeof *l.v, cmp_str);
  return l;
}

static bool
lines_equal (const struct lines *a, const struct lines *b)
{
  if (a->n != b->n)
    return false;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp (a->v[i], b->v[i]))
      return false;
  return true;
}

/* --- the rows a fixup's tables hold, and what they may change -------- */

#define MAX_ROWS 96

struct rowset {
  struct win_reg r[MAX_ROWS];
  char path[MAX_ROWS][96];
  size_t n;
};

/* The key of a row as in the dump: SYSTEM rows under the current set. */
static char *
row_key (const struct win_reg *r)
{
  return r->hive == HIVE_SYSTEM ? xasprintf ("%s\\%s", cs, r->path)
    : xstrdup (r->path);
}

static bool
under (const char *p, const char *anc)
{
  size_t n = strlen (anc);
  return !strncasecmp (p, anc, n) && (p[n] == '\0' || p[n] == '\\');
}

/* May a fixup with rows rs add or remove this dump line? */
static bool
allowed (const char *line, const struct rowset *rs)
{
  CLEANUP_FREE char *copy = xstrdup (line);
  char *hive = copy, *key = strchr (copy, '|'), *val;

  *key++ = '\0';
  val = strchr (key, '|');
  *val++ = '\0';
  if (*val)
    *strchr (val, '=') = '\0';
  for (size_t i = 0; i < rs->n; i++) {
    const struct win_reg *r = &rs->r[i];
    CLEANUP_FREE char *rk = row_key (r);
    bool ok;
    if (strcmp (win_hive_name (r->hive), hive))
      continue;
    switch (r->op) {
    case WIN_DELETE_KEY:
      ok = under (key, rk);
      break;
    case WIN_DELETE_ALL:
      ok = *val && !strcasecmp (key, rk);
      break;
    default:
      ok = *val ? !strcasecmp (key, rk) && !strcasecmp (val, r->value)
        : under (rk, key);
    }
    if (ok)
      return true;
  }
  return false;
}

/* Is the key line l in a key a fixup copies (row id "copy"): an empty
 * source gives an empty copy (see copy_ok). */
static bool
copied (const char *l, const struct rowset *rs)
{
  CLEANUP_FREE char *key = xstrdup (strchr (l, '|') + 1);

  *strchr (key, '|') = '\0';
  for (size_t i = 0; i < rs->n; i++) {
    CLEANUP_FREE char *rk = row_key (&rs->r[i]);
    if (!strcmp (rs->r[i].id, "copy") && under (key, rk))
      return true;
  }
  return false;
}

/* Check the difference between two dumps: only the rows' keys and
 * values, and every added key holds an added value (a key is created
 * only when something must go in it). */
static int
diff_ok (const struct lines *a, const struct lines *b,
         const struct rowset *rs, const char *ctx)
{
  size_t i = 0, j = 0;
  int bad = 0;

  while (i < a->n || j < b->n) {
    int c = i == a->n ? 1 : j == b->n ? -1 : strcmp (a->v[i], b->v[j]);
    const char *l = c < 0 ? a->v[i++] : c > 0 ? b->v[j++] : NULL;
    if (!l) {
      i++, j++;
      continue;
    }
    if (!allowed (l, rs)) {
      fprintf (stderr, "%s: unexpected change: %c%s\n", ctx,
               c < 0 ? '-' : '+', l);
      bad++;
    }
    if (c > 0 && l[strlen (l) - 1] == '|' && !copied (l, rs)) {
      /* An added key: an added value must be in it or below it. */
      size_t n = strlen (l) - 1;
      bool filled = false;
      for (size_t k = 0; k < b->n && !filled; k++)
        filled = !strncmp (b->v[k], l, n)
          && (b->v[k][n] == '|' || b->v[k][n] == '\\')
          && b->v[k][strlen (b->v[k]) - 1] != '|'
          && !bsearch (&b->v[k], a->v, a->n, sizeof *a->v, cmp_str);
      if (!filled) {
        fprintf (stderr, "%s: key created empty: %s\n", ctx, l);
        bad++;
      }
    }
  }
  return bad;
}

/* --- the fixups' tables over local hive files ----------------------- */

/* A guest whose hive copies are the files hive[] (no appliance). */
static void
local_guest (struct guest *gs, char *const *hive, const char *fixup)
{
  struct windows_state *st;

  memset (gs, 0, sizeof *gs);
  gs->windows_current_control_set = (char *) cs;
  gs->generation = 1;           /* the larger driver set */
  gs->report = report_new ();
  st = win_state (gs);
  if (!gs->report || !st)
    exit (1);
  gs->report->current_fixup = fixup;
  for (int w = 0; w < HIVE_COUNT; w++) {
    st->hives[w].local = xstrdup (hive[w]);
    st->hives[w].guest_path = xasprintf ("/phony/%s", win_hive_name (w));
  }
  st->bcd_searched = true;
  st->bcd_path = xstrdup ("/EFI/Microsoft/Boot/BCD");
}

static void
local_guest_free (struct guest *gs)
{
  struct windows_state *st = win_data (gs);

  for (int w = 0; w < HIVE_COUNT; w++) {
    free (st->hives[w].local);      /* the caller's files: kept */
    st->hives[w].local = NULL;
  }
  report_free (gs->report);
  gs->windows_current_control_set = NULL;
  windows_free (gs);
}

static unsigned long long
next_random (void)
{
  seed ^= seed << 13;
  seed ^= seed >> 7;
  seed ^= seed << 17;
  return seed;
}

/* The rows of table t for this guest, appended to rs; shuffled (Fisher
 * Yates, fixed seed) if shuffle.  0 or -1 (a build refused). */
static int
rows_of (struct guest *gs, const struct win_table *t, struct rowset *rs,
         bool shuffle)
{
  struct win_rows built;
  const struct win_reg *r = t->rows;
  size_t n = t->n, first = rs->n;

  if (t->build) {
    if (t->build (gs, &built) == -1)
      return -1;
    r = built.r;
    n = built.n;
  }
  for (size_t i = 0; i < n && rs->n < MAX_ROWS; i++) {
    rs->r[rs->n] = r[i];
    snprintf (rs->path[rs->n], sizeof rs->path[0], "%s", r[i].path);
    rs->r[rs->n].path = rs->path[rs->n];
    rs->n++;
  }
  for (size_t i = rs->n - 1; shuffle && i > first; i--) {
    size_t j = first + next_random () % (i - first + 1);
    struct win_reg x = rs->r[i];
    rs->r[i] = rs->r[j];
    rs->r[j] = x;
  }
  return 0;
}

static void
add_rows (struct rowset *rs, const struct win_reg *r, size_t n)
{
  for (size_t j = 0; rs && j < n && rs->n < MAX_ROWS; j++) {
    rs->r[rs->n] = r[j];
    snprintf (rs->path[rs->n], sizeof rs->path[0], "%s", r[j].path);
    rs->r[rs->n].path = rs->path[rs->n];
    rs->n++;
  }
}

/* What the fixups run whole change besides their tables' rows: every
 * value of the firewall rule store (windows-rdp; which values, and
 * how, is checked by rules_changed_ok), the copied Enum keys
 * (windows-msft1000; checked by copy_ok). */
#define RULES "Services\\SharedAccess\\Parameters\\FirewallPolicy\\" \
  "FirewallRules"
static const struct win_reg rdp_extra[] = {
  { "t", HIVE_SYSTEM, RULES, NULL, WIN_DELETE_ALL },
};
static const struct win_reg msft_extra[] = {
  { "copy", HIVE_SYSTEM, "Enum\\ACPI\\MSFT1000", NULL, WIN_DELETE_KEY },
  { "copy", HIVE_SYSTEM, "Enum\\ACPI\\MSFT1002", NULL, WIN_DELETE_KEY },
};

/* The fixup's own check or apply (tables and code), as fix runs it;
 * its applies() is not asked (it probes the appliance).  The rows it
 * may change are added to rs. */
static int
run_whole (struct guest *gs, const char *name, bool apply,
           struct rowset *rs)
{
  const struct fixup *f = fixup_find (name);

  if (!f)
    exit (1);
  gs->report->current_fixup = name;
  gs->major = 6;                /* windows-msft1000: Server 2012 R2 */
  gs->minor = 3;
  if (!strcmp (name, "windows-rdp"))
    add_rows (rs, rdp_extra, 1);
  if (!strcmp (name, "windows-msft1000"))
    add_rows (rs, msft_extra, 2);
  napplies += apply;
  if (apply)
    return f->apply ? f->apply (gs) : f->run (gs, true);
  return f->check ? f->check (gs) : f->run (gs, false);
}

/* stderr off while a variant runs: refusals are expected. */
static int
quiet (void)
{
  int saved, fd;

  fflush (stderr);
  saved = dup (2);
  fd = open ("/dev/null", O_WRONLY);
  if (saved == -1 || fd == -1)
    exit (1);
  dup2 (fd, 2);
  close (fd);
  return saved;
}

static void
loud (int saved)
{
  fflush (stderr);
  dup2 (saved, 2);
  close (saved);
}

/* Check or apply every table of fixup (NULL: of every fixup) on the
 * hive files, rows shuffled if shuffle.  The rows are appended to rs
 * if given.  Returns 0 or -1; *fixable and *changes count the report's
 * fixable findings and changes. */
static int
run_fixup (const char *fixup, char *const *hive, bool apply, bool shuffle,
           struct rowset *rs, size_t *fixable, size_t *changes)
{
  struct guest gs;
  size_t n;
  const struct win_table *const *all = win_tables (&n);
  int rc = 0, saved = quiet ();

  local_guest (&gs, hive, fixup);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    struct rowset mine = { .n = 0 };
    if (fixup && strcmp (all[i]->fixup, fixup))
      continue;
    gs.report->current_fixup = all[i]->fixup;
    rc = rows_of (&gs, all[i], &mine, shuffle);
    if (rc == 0 && !whole)
      rc = apply ? win_table_apply (&gs, mine.r, mine.n)
        : win_table_check (&gs, mine.r, mine.n);
    napplies += apply && !whole;
    add_rows (rs, mine.r, mine.n);
  }
  if (rc == 0 && whole)
    rc = run_whole (&gs, fixup, apply, rs);
  *fixable = report_count_fixable (gs.report);
  *changes = gs.report->nchanges;
  local_guest_free (&gs);
  loud (saved);
  return rc;
}

/* --- variants: a base changed in one way for one row ---------------- */

enum kind {
  KEY_ABSENT, PARENT_ABSENT, VALUE_ABSENT, WRONG_TYPE, WRONG_DATA,
  EXTRA_VALUES, EMPTY_KEY, NKINDS
};
static const char *const kind_names[NKINDS] = {
  "key absent", "parent key absent", "value absent", "wrong type",
  "wrong data", "extra values", "key exists but is empty",
};

static void
set_value (hive_h *h, hive_node_h node, const char *name, hive_type t,
           const void *data, size_t len)
{
  if (win_value_set (h, node, name, t, data, len, name) == -1)
    exit (1);
}

/* The wrong-type and wrong-data values for row r. */
static void
set_wrong (hive_h *h, hive_node_h node, const struct win_reg *r,
           bool type)
{
  const char *s = type ? "1" : "wrong";
  size_t len;
  CLEANUP_FREE char *sz = win_utf16 (&s, 1, false, &len);
  uint32_t d = (r->flags & WIN_IF_DISABLED) ? 4 : r->dword + 1;
  unsigned char q[8] = { r->dword, r->dword >> 8, r->dword >> 16,
                         r->dword >> 24 };
  unsigned char b[64] = { 0 };

  if (type && r->op == WIN_DWORD && (r->flags & WIN_QWORD_OK))
    set_value (h, node, r->value, hive_t_REG_QWORD, q, 8);
  else if (type && r->op == WIN_DWORD)
    set_value (h, node, r->value, hive_t_REG_SZ, sz, len);
  else if (type)
    set_value (h, node, r->value, hive_t_REG_DWORD, &d, 4);
  else if (r->op == WIN_DWORD)
    set_value (h, node, r->value, hive_t_REG_DWORD, &d, 4);
  else if (r->op == WIN_SZ || r->op == WIN_EXPAND_SZ)
    set_value (h, node, r->value, r->op == WIN_SZ ? hive_t_REG_SZ
               : hive_t_REG_EXPAND_SZ, sz, len);
  else {
    size_t n = r->binlen ? r->binlen : 4;
    if (n > sizeof b)
      n = sizeof b;
    if (r->bin)
      memcpy (b, r->bin, n);
    b[0] ^= 0x5a;
    set_value (h, node, r->value, hive_t_REG_BINARY, b, n);
  }
}

/* Change hive file f for row r in the way k.  false when that is not
 * possible or changes nothing (then it is no variant). */
static bool
mutate (const char *f, const struct win_reg *r, enum kind k)
{
  hive_h *h = hivex_open (f, HIVEX_OPEN_WRITE);
  CLEANUP_FREE char *key = row_key (r);
  struct win_value v = { 0 };
  int64_t node, root;
  char *slash;
  bool done = true;

  if (!h)
    exit (1);
  root = hivex_root (h);
  node = win_key_lookup (h, "T", root, key);
  if (node > 0 && r->value && win_value_get (h, node, r->value, "T", &v))
    exit (1);
  switch (k) {
  case KEY_ABSENT:
    done = node > 0 && hivex_node_delete_child (h, node) == 0;
    break;
  case PARENT_ABSENT:
    slash = strrchr (key, '\\');
    if (slash)
      *slash = '\0';
    node = slash ? win_key_lookup (h, "T", root, key) : 0;
    done = node > 0 && hivex_node_delete_child (h, node) == 0;
    break;
  case VALUE_ABSENT:
    done = v.present && win_value_delete (h, node, r->value, "T") == 0;
    break;
  case WRONG_TYPE:
  case WRONG_DATA:
    done = r->value != NULL;
    if (done && node == 0)
      node = win_key_create (h, "T", root, key);
    if (done)
      set_wrong (h, node, r, k == WRONG_TYPE);
    break;
  case EXTRA_VALUES: {
    const char *s = "extra";
    size_t len;
    CLEANUP_FREE char *sz = win_utf16 (&s, 1, false, &len);
    uint32_t d = 7;
    if (node == 0)
      node = win_key_create (h, "T", root, key);
    set_value (h, node, "AzprepExtraA", hive_t_REG_SZ, sz, len);
    set_value (h, node, "AzprepExtraB", hive_t_REG_DWORD, &d, 4);
    break;
  }
  case EMPTY_KEY:
    if (node > 0) {
      CLEANUP_FREE hive_value_h *vals = hivex_node_values (h, node);
      CLEANUP_FREE hive_node_h *kids = hivex_node_children (h, node);
      done = vals && kids && (vals[0] || kids[0]);
      if (done && hivex_node_delete_child (h, node) == -1)
        exit (1);
    }
    if (done && win_key_create (h, "T", root, key) <= 0)
      exit (1);
    break;
  default:
    done = false;
  }
  win_value_free (&v);
  if (done && hivex_commit (h, NULL, 0) == -1)
    exit (1);
  hivex_close (h);
  return done;
}

/* --- windows-rdp's firewall rules and windows-msft1000, run whole --- */

#define RDP_GROUP "@FirewallAPI.dll,-28752"

/* The rule store's values as "name\ttype\ttext" lines (text: the
 * string data, or "-" for other types), sorted. */
static struct lines
rules_of (const char *system)
{
  struct lines l = { 0 };
  hive_h *h = hivex_open (system, 0);
  CLEANUP_FREE char *key = xasprintf ("%s\\%s", cs, RULES);
  int64_t node;

  if (!h)
    exit (1);
  node = win_key_lookup (h, "T", hivex_root (h), key);
  if (node > 0) {
    CLEANUP_FREE hive_value_h *vals = hivex_node_values (h, node);
    for (size_t i = 0; vals && vals[i]; i++) {
      CLEANUP_FREE char *name = hivex_value_key (h, vals[i]);
      struct win_value v;
      CLEANUP_FREE char *text = NULL;
      if (!name || win_value_get (h, node, name, "T", &v) == -1)
        exit (1);
      if (v.type == hive_t_REG_SZ || v.type == hive_t_REG_EXPAND_SZ)
        text = win_value_text (&v);
      add_line (&l, xasprintf ("%s\t%d\t%s", name, (int) v.type,
                               text ? text : "-"));
      win_value_free (&v);
    }
  }
  hivex_close (h);
  if (l.n > 0)                  /* qsort: v may be NULL */
    qsort (l.v, l.n, sizeof *l.v, cmp_str);
  return l;
}

/* The fields of a rule text split at '|' (modified in place). */
static size_t
fields (char *s, char **f, size_t max)
{
  size_t n = 0;
  for (char *p = strtok (s, "|"); p && n < max; p = strtok (NULL, "|"))
    f[n++] = p;
  return n;
}

/* May fix turn rule line a into b?  Only Active=<x> of an allow rule of
 * the Remote Desktop group to Active=TRUE, every other byte and the
 * type the same (the fields are compared one by one, not by the
 * parser under test). */
static bool
rule_change_ok (const char *a, const char *b)
{
  CLEANUP_FREE char *x = xstrdup (a), *y = xstrdup (b);
  char *fa[256], *fb[256];
  size_t na, nb, changed = 0;

  na = fields (x, fa, 256);
  nb = fields (y, fb, 256);
  if (na != nb || !strcasestr (a, RDP_GROUP)
      || !strcasestr (a, "|Action=Allow|"))
    return false;
  for (size_t i = 0; i < na; i++) {
    if (!strcmp (fa[i], fb[i]))
      continue;
    if (strncasecmp (fa[i], "Active=", 7) || strncasecmp (fb[i], "Active=", 7)
        || strcmp (fb[i] + 7, "TRUE"))
      return false;
    changed++;
  }
  return changed == 1;
}

/* The rule store after fix against before: the same names and types;
 * a changed text only as rule_change_ok says. */
static int
rules_changed_ok (const char *sys_before, const char *sys_after,
                  const char *ctx)
{
  struct lines a = rules_of (sys_before), b = rules_of (sys_after);
  int bad = a.n != b.n;

  for (size_t i = 0; !bad && i < a.n; i++) {
    const char *ta = strchr (strchr (a.v[i], '\t') + 1, '\t') + 1;
    const char *tb = strchr (strchr (b.v[i], '\t') + 1, '\t') + 1;
    if (strcmp (a.v[i], b.v[i])
        && (ta - a.v[i] != tb - b.v[i]
            || strncmp (a.v[i], b.v[i], ta - a.v[i])
            || !rule_change_ok (ta, tb)))
      bad++;
    if (bad)
      fprintf (stderr, "%s: rule changed wrongly:\n  %s\n  %s\n", ctx,
               a.v[i], b.v[i]);
  }
  if (a.n != b.n)
    fprintf (stderr, "%s: %zu rules before fix, %zu after\n", ctx, a.n,
             b.n);
  lines_free (&a);
  lines_free (&b);
  return bad;
}

/* Text s with every from replaced by to. */
static char *
replace (const char *s, const char *from, const char *to)
{
  char *out = xstrdup (""), *o;
  const char *p;

  while ((p = strstr (s, from))) {
    o = xasprintf ("%s%.*s%s", out, (int) (p - s), s, to);
    free (out);
    out = o;
    s = p + strlen (from);
  }
  o = xasprintf ("%s%s", out, s);
  free (out);
  return o;
}

static void
set_text (hive_h *h, hive_node_h node, const char *name, hive_type t,
          const char *text, size_t cut)
{
  size_t len;
  CLEANUP_FREE char *data = win_utf16 (&text, 1, false, &len);
  if (!data)
    exit (1);
  set_value (h, node, name, t, data, len - cut);
}

/* Ways a rule store differs from Windows' own spelling. */
enum fw_kind {
  FW_ABSENT, FW_KEY_ABSENT, FW_POLICY_ABSENT, FW_ACTIVE, FW_LOWER,
  FW_MIXED, FW_REORDER, FW_EXTRA, FW_NO_BAR, FW_NO_VERSION, FW_NO_ACTIVE,
  FW_TWICE, FW_PROFILES, FW_PUBLIC, FW_DUP_NAMES, FW_SAME_TEXT, FW_MANY,
  FW_BLOCK, FW_BLOCK_RANGE, FW_BLOCK_GROUP, FW_BLOCK_OFF, FW_EXPAND,
  FW_BINARY, FW_ODD, FW_EMPTY, FW_NAME_CASE, FW_NKINDS
};
static const char *const fw_names[FW_NKINDS] = {
  "Remote Desktop rules absent", "rule store absent",
  "FirewallPolicy absent", "rules already active", "fields in lower case",
  "Active=False, Action=ALLOW", "fields reordered", "extra fields",
  "no final bar", "no version field", "no Active field",
  "Active field twice", "Profile=Domain|Profile=Private", "Profile=Public",
  "duplicate rules (NAME_1, NAME_2)", "the same rule under a GUID name",
  "40 inactive rules in the group", "an active Block rule on 3389",
  "an active Block rule on a range holding 3389",
  "an active Block rule in the group", "an inactive Block rule on 3389",
  "rules as REG_EXPAND_SZ", "a rule as REG_BINARY",
  "a rule of odd byte length (no NUL)", "an empty rule",
  "rule names in another case",
};

/* One rule of the group rewritten for kind k (NULL: keep it). */
static char *
respell (const char *t, enum fw_kind k)
{
  CLEANUP_FREE char *a = NULL, *b = NULL;
  const char *bar = strchr (t, '|');

  switch (k) {
  case FW_ACTIVE:
    return replace (t, "Active=FALSE", "Active=TRUE");
  case FW_LOWER:
    a = replace (t, "Active=FALSE", "active=false");
    b = replace (a, "Action=Allow", "action=allow");
    return replace (b, "EmbedCtxt=@FirewallAPI.dll", "embedctxt="
                    "@firewallapi.dll");
  case FW_MIXED:
    a = replace (t, "Active=FALSE", "Active=False");
    return replace (a, "Action=Allow", "Action=ALLOW");
  case FW_REORDER:
    a = replace (t, "|Active=FALSE|", "|");
    return xasprintf ("%.*s|EmbedCtxt=%s|%sActive=FALSE|", (int) (bar - t),
                      t, RDP_GROUP, bar + 1);
  case FW_EXTRA:
    return xasprintf ("%.*s|RA4=LocalSubnet|TTK2_22=WFDPrint|Desc=a=b|"
                      "Edge=TRUE|Future9=%s", (int) (bar - t), t, bar + 1);
  case FW_NO_BAR:
    return xasprintf ("%.*s", (int) strlen (t) - 1, t);
  case FW_NO_VERSION:
    return xstrdup (bar);
  case FW_NO_ACTIVE:
    return replace (t, "|Active=FALSE|", "|");
  case FW_TWICE:
    return xasprintf ("%sActive=FALSE|", t);
  case FW_PROFILES:
    return replace (t, "|Dir=In|", "|Dir=In|Profile=Domain|Profile=Private|");
  case FW_PUBLIC:
    return replace (t, "|Dir=In|", "|Dir=In|Profile=Public|");
  default:
    return NULL;
  }
}

#define FW_MAX 64

/* The allow rules of the group in the store at node: names and texts. */
static size_t
group_rules (hive_h *h, hive_node_h node, char **names, char **texts)
{
  CLEANUP_FREE hive_value_h *vals = hivex_node_values (h, node);
  size_t n = 0;

  for (size_t i = 0; vals && vals[i] && n < FW_MAX; i++) {
    char *name = hivex_value_key (h, vals[i]);
    struct win_value v;
    char *text = NULL;
    if (!name || win_value_get (h, node, name, "T", &v) == -1)
      exit (1);
    if (v.type == hive_t_REG_SZ)
      text = win_value_text (&v);
    win_value_free (&v);
    if (text && strcasestr (text, RDP_GROUP)
        && strcasestr (text, "|Action=Allow|")) {
      names[n] = name;
      texts[n++] = text;
      continue;
    }
    free (name);
    free (text);
  }
  return n;
}

/* Rules added beside the group's (name, text). */
static void
add_rules (hive_h *h, hive_node_h node, enum fw_kind k, const char *name,
           const char *text)
{
  CLEANUP_FREE char *pub = respell (text, FW_PUBLIC);
  CLEANUP_FREE char *n1 = xasprintf ("%s_1", name);
  CLEANUP_FREE char *n2 = xasprintf ("%s_2", name);
  CLEANUP_FREE char *blk = replace (text, "Action=Allow", "Action=Block");
  CLEANUP_FREE char *blk_on = replace (blk, "Active=FALSE", "Active=TRUE");

  if (k == FW_DUP_NAMES) {
    set_text (h, node, n1, hive_t_REG_SZ, pub, 0);
    set_text (h, node, n2, hive_t_REG_SZ, text, 0);
  }
  else if (k == FW_SAME_TEXT)
    set_text (h, node, "{5E1B7A2C-93D4-4F06-8C1E-2A7B9D3F6E10}",
              hive_t_REG_SZ, text, 0);
  else if (k == FW_MANY)
    for (int i = 0; i < 40; i++) {
      CLEANUP_FREE char *ni = xasprintf ("RemoteDesktop-Extra-%02d", i);
      set_text (h, node, ni, hive_t_REG_SZ, text, 0);
    }
  else if (k == FW_BLOCK || k == FW_BLOCK_RANGE || k == FW_BLOCK_OFF) {
    CLEANUP_FREE char *t =
      xasprintf ("v2.31|Action=Block|Active=%s|Dir=In|Protocol=6|%s|"
                 "Name=Block RDP|", k == FW_BLOCK_OFF ? "FALSE"
                                      : "TRUE", k == FW_BLOCK_RANGE
                                      ? "LPort2_10=3000-4000" : "LPort=3389");
    set_text (h, node, "Azprep-Block-RDP", hive_t_REG_SZ, t, 0);
  }
  else if (k == FW_BLOCK_GROUP)
    set_text (h, node, "Azprep-Block-Group", hive_t_REG_SZ, blk_on, 0);
  else if (k == FW_EMPTY)
    set_text (h, node, "RemoteDesktop-Empty", hive_t_REG_SZ, "", 0);
}

/* Change the rule store of hive file f in the way k; false when that
 * is not possible (no variant). */
static bool
fw_mutate (const char *f, enum fw_kind k)
{
  hive_h *h = hivex_open (f, HIVEX_OPEN_WRITE);
  CLEANUP_FREE char *key = xasprintf ("%s\\%s", cs, RULES);
  char *names[FW_MAX], *texts[FW_MAX];
  size_t n = 0;
  int64_t node;
  bool done = true;

  if (!h)
    exit (1);
  node = win_key_lookup (h, "T", hivex_root (h), key);
  if (node > 0)
    n = group_rules (h, node, names, texts);
  if (n == 0 || node <= 0)
    done = false;
  else if (k == FW_KEY_ABSENT || k == FW_POLICY_ABSENT)
    done = hivex_node_delete_child (h, k == FW_KEY_ABSENT
                                    ? (hive_node_h) node
                                    : hivex_node_parent (h, node)) == 0;
  else if (k == FW_ODD || k == FW_BINARY) {
    size_t len;
    const char *t = texts[0];
    CLEANUP_FREE char *data = win_utf16 (&t, 1, false, &len);
    set_value (h, node, names[0], k == FW_ODD ? hive_t_REG_SZ
               : hive_t_REG_BINARY, data, k == FW_ODD ? len - 3 : len);
  }
  else
    for (size_t i = 0; i < n; i++) {
      CLEANUP_FREE char *t = respell (texts[i], k);
      CLEANUP_FREE char *lower = xstrdup (names[i]);
      for (char *p = lower; *p; p++)
        *p = tolower ((unsigned char) *p);
      if (t)
        set_text (h, node, names[i], hive_t_REG_SZ, t, 0);
      else if (k == FW_ABSENT || k == FW_NAME_CASE) {
        if (win_value_delete (h, node, names[i], "T") == -1)
          exit (1);
        if (k == FW_NAME_CASE)
          set_text (h, node, lower, hive_t_REG_SZ, texts[i], 0);
      }
      else if (k == FW_EXPAND)
        set_text (h, node, names[i], hive_t_REG_EXPAND_SZ, texts[i], 0);
      else if (i == 0)
        add_rules (h, node, k, names[i], texts[i]);
    }
  for (size_t i = 0; i < n; i++) {
    free (names[i]);
    free (texts[i]);
  }
  if (done && hivex_commit (h, NULL, 0) == -1)
    exit (1);
  hivex_close (h);
  return done;
}

/* Shapes of Enum\ACPI for windows-msft1000. */
enum msft_kind {
  M_OTHER_IDS, M_BOTH, M_VMBUS_ONLY, M_COUNTER_ONLY, M_DONE, M_DST_EMPTY,
  M_LOWER, M_SRC_EMPTY, M_BIG, M_NKINDS
};
static const char *const msft_names[M_NKINDS] = {
  "Enum\\ACPI without Hyper-V ids", "VMBus and the generation counter",
  "VMBus only", "the generation counter only", "already copied",
  "MSFT1000 exists but is empty", "source names in lower case",
  "VMBus key empty", "VMBus with 300 values and 6 levels",
};

/* A device instance key below acpi: path\0 with the values Windows
 * keeps there, and a Device Parameters subkey. */
static void
instance (hive_h *h, int64_t acpi, const char *path, const char *service)
{
  CLEANUP_FREE char *inst = xasprintf ("%s\\0", path);
  CLEANUP_FREE char *params = xasprintf ("%s\\0\\Device Parameters", path);
  int64_t node = win_key_create (h, "T", acpi, inst), p;
  uint32_t zero = 0, one = 1;

  if (node <= 0)
    exit (1);
  set_text (h, node, "Service", hive_t_REG_SZ, service, 0);
  set_value (h, node, "ConfigFlags", hive_t_REG_DWORD, &zero, 4);
  p = win_key_create (h, "T", acpi, params);
  if (p <= 0)
    exit (1);
  set_value (h, p, "FirmwareIdentified", hive_t_REG_DWORD, &one, 4);
}

/* 300 values of several types spread over 6 nested keys. */
static void
big_tree (hive_h *h, int64_t acpi)
{
  char path[256] = "VMBus";
  static unsigned char blob[20000];

  for (int d = 0; d < 6; d++) {
    int64_t node;
    snprintf (path + strlen (path), sizeof path - strlen (path),
              "\\Level %d", d);
    node = win_key_create (h, "T", acpi, path);
    if (node <= 0)
      exit (1);
    for (int i = 0; i < 50; i++) {
      CLEANUP_FREE char *name = xasprintf ("Value%03d", i);
      uint32_t dw = i * 7 + d;
      blob[i] = i;
      if (i % 3 == 0)
        set_value (h, node, name, hive_t_REG_DWORD, &dw, 4);
      else if (i % 3 == 1)
        set_text (h, node, name, hive_t_REG_SZ, name, 0);
      else
        set_value (h, node, name, hive_t_REG_BINARY, blob,
                   i == 2 ? sizeof blob : (size_t) i);
    }
  }
}

static bool
msft_mutate (const char *f, enum msft_kind k)
{
  hive_h *h = hivex_open (f, HIVEX_OPEN_WRITE);
  CLEANUP_FREE char *key = xasprintf ("%s\\Enum\\ACPI", cs);
  bool lower = k == M_LOWER;
  int64_t acpi;

  if (!h)
    exit (1);
  acpi = win_key_create (h, "T", hivex_root (h), key);
  if (acpi <= 0)
    exit (1);
  instance (h, acpi, "PNP0A03", "pci");
  if (k != M_COUNTER_ONLY && k != M_OTHER_IDS && k != M_SRC_EMPTY)
    instance (h, acpi, lower ? "vmbus" : "VMBus", "vmbus");
  if (k != M_VMBUS_ONLY && k != M_OTHER_IDS)
    instance (h, acpi, lower ? "hyper_v_gen_counter_v1"
              : "Hyper_V_Gen_Counter_V1", "gencounter");
  if (k == M_SRC_EMPTY && win_key_create (h, "T", acpi, "VMBus") <= 0)
    exit (1);
  if (k == M_DONE) {
    instance (h, acpi, "MSFT1000", "vmbus");
    instance (h, acpi, "MSFT1002", "gencounter");
  }
  if (k == M_DST_EMPTY && win_key_create (h, "T", acpi, "MSFT1000") <= 0)
    exit (1);
  if (k == M_BIG)
    big_tree (h, acpi);
  if (hivex_commit (h, NULL, 0) == -1)
    exit (1);
  hivex_close (h);
  return true;
}

/* The dump lines of key (any case) and below, with key cut off. */
static struct lines
subtree (const struct lines *l, const char *key)
{
  struct lines out = { 0 };
  size_t n = strlen (key);

  for (size_t i = 0; i < l->n; i++)
    if (!strncasecmp (l->v[i], key, n)
        && (l->v[i][n] == '|' || l->v[i][n] == '\\'))
      add_line (&out, xstrdup (l->v[i] + n));
  if (out.n > 0)
    qsort (out.v, out.n, sizeof *out.v, cmp_str);
  return out;
}

/* After windows-msft1000: each new MSFT100x key is an exact copy of
 * its source (values, types, data, subkeys). */
static int
copy_ok (const struct lines *before, const struct lines *after,
         const char *ctx)
{
  static const char *const pairs[][2] = {
    { "VMBus", "MSFT1000" }, { "Hyper_V_Gen_Counter_V1", "MSFT1002" },
  };
  int bad = 0;

  for (int i = 0; i < 2; i++) {
    CLEANUP_FREE char *src = xasprintf ("SYSTEM|%s\\Enum\\ACPI\\%s", cs,
                                        pairs[i][0]);
    CLEANUP_FREE char *dst = xasprintf ("SYSTEM|%s\\Enum\\ACPI\\%s", cs,
                                        pairs[i][1]);
    struct lines s = subtree (before, src), d0 = subtree (before, dst);
    struct lines d = subtree (after, dst);
    if (s.n && !d0.n && !lines_equal (&s, &d)) {
      fprintf (stderr, "%s: %s is not a copy of %s\n", ctx, pairs[i][1],
               pairs[i][0]);
      bad++;
    }
    lines_free (&s);
    lines_free (&d0);
    lines_free (&d);
  }
  return bad;
}

/* --- running one variant -------------------------------------------- */

struct base {
  const char *name;
  const char *set;              /* Select\Current's control set */
  char *hive[HIVE_COUNT];
};

#define MAX_REASONS 16
static char *reasons[MAX_REASONS];
static size_t reason_count[MAX_REASONS];

static void
note_reason (const char *msg)
{
  size_t i;

  for (i = 0; i < MAX_REASONS && reasons[i]; i++)
    if (!strcmp (reasons[i], msg))
      break;
  if (i == MAX_REASONS)
    return;
  if (!reasons[i])
    reasons[i] = xstrdup (msg);
  reason_count[i]++;
}

/* Files TAG.SYSTEM, TAG.SOFTWARE, TAG.BCD in the test directory. */
static void
files (const char *tag, char **f)
{
  for (int w = 0; w < HIVE_COUNT; w++) {
    f[w] = xasprintf ("%s/%s.%s", dir, tag, win_hive_name (w));
    if (!f[w])
      exit (1);
  }
}

static void
copy_all (char *const *from, char *const *to)
{
  for (int w = 0; w < HIVE_COUNT; w++)
    copy (from[w], to[w]);
}

static void
free_files (char **f)
{
  for (int w = 0; w < HIVE_COUNT; w++) {
    unlink (f[w]);
    free (f[w]);
  }
}

/* The assertions on the hive files v (a variant), for fixup; ctx names
 * the variant in failures. */
static void
run_variant (const char *fixup, char **v, const char *ctx)
{
  char *w[HIVE_COUNT], *w2[HIVE_COUNT];
  struct rowset rs = { .n = 0 };
  struct lines before = dump (v), after = { 0 };
  size_t fixable, changes;
  int rc, rc_check;
  const char *why;

  files ("apply", w);
  files ("again", w2);
  copy_all (v, w);
  nvariants++;
  rc_check = run_fixup (fixup, v, false, false, NULL, &fixable, &changes);
  rc = run_fixup (fixup, w, true, false, &rs, &fixable, &changes);
  why = log_last_error ();
  if (rc_check != rc)
    fprintf (stderr, "%s: check %d, apply %d (%s)\n", ctx, rc_check, rc,
             why);
  CHECK (rc_check == rc);
  if (rc == -1) {
    /* A refusal names its reason; fix commits nothing then. */
    nrefused++;
    CHECK (why && *why);
    note_reason (why);
    goto out;
  }
  after = dump (w);
  failures += diff_ok (&before, &after, &rs, ctx);
  if (whole && !strcmp (fixup, "windows-rdp"))
    failures += rules_changed_ok (v[HIVE_SYSTEM], w[HIVE_SYSTEM], ctx);
  if (whole && !strcmp (fixup, "windows-msft1000"))
    failures += copy_ok (&before, &after, ctx);
  /* check after fix: nothing fixable left. */
  rs.n = 0;
  CHECK (run_fixup (fixup, w, false, false, NULL, &fixable, &changes) == 0);
  if (fixable)
    fprintf (stderr, "%s: %zu fixable findings after fix\n", ctx, fixable);
  CHECK (fixable == 0);
  /* A second fix changes nothing, not a byte. */
  copy_all (w, w2);
  CHECK (run_fixup (fixup, w2, true, false, NULL, &fixable, &changes) == 0);
  if (changes)
    fprintf (stderr, "%s: the second fix changed %zu values\n", ctx,
             changes);
  CHECK (changes == 0);
  for (int i = 0; i < HIVE_COUNT; i++)
    CHECK (same_bytes (w[i], w2[i]));
  /* The rows in other orders: the same hive. */
  for (int p = 0; !whole && p < PERMUTATIONS; p++) {
    struct lines other;
    copy_all (v, w2);
    CHECK (run_fixup (fixup, w2, true, true, NULL, &fixable, &changes)
           == 0);
    other = dump (w2);
    if (!lines_equal (&after, &other))
      fprintf (stderr, "%s: the rows in another order give another "
               "hive\n", ctx);
    CHECK (lines_equal (&after, &other));
    lines_free (&other);
  }
 out:
  lines_free (&before);
  lines_free (&after);
  free_files (w);
  free_files (w2);
}

/* Every variant of every row of fixup on base b. */
static void
variants_of (const char *fixup, const struct base *b, const enum kind *kinds,
             size_t nkinds)
{
  struct rowset rs = { .n = 0 };
  size_t fixable, changes;
  char *v[HIVE_COUNT];

  cs = b->set;
  CHECK (run_fixup (fixup, b->hive, false, false, &rs, &fixable, &changes)
         == 0);
  CHECK (win_table_conflict (rs.r, rs.n) == -1);
  files ("variant", v);
  for (size_t i = 0; i < rs.n; i++)
    for (size_t k = 0; k < nkinds; k++) {
      const struct win_reg *r = &rs.r[i];
      CLEANUP_FREE char *ctx = NULL;
      copy_all (b->hive, v);
      if (!mutate (v[r->hive], r, kinds[k]))
        continue;
      ctx = xasprintf ("%s on %s, %s: %s\\%s\\%s", fixup, b->name,
                       kind_names[kinds[k]], win_hive_name (r->hive),
                       r->path, r->value ? r->value : "*");
      run_variant (fixup, v, ctx);
    }
  free_files (v);
}

/* windows-rdp (with its firewall rules) and windows-msft1000 run whole
 * on every shape of their keys on base b. */
static void
whole_variants (struct base *b)
{
  char *v[HIVE_COUNT];
  size_t before = nvariants;

  cs = b->set;
  whole = true;
  files ("whole", v);
  {
    struct lines r = rules_of (b->hive[HIVE_SYSTEM]);
    CHECK (r.n >= 3);           /* every base has a real rule store */
    lines_free (&r);
  }
  for (int k = 0; k < FW_NKINDS; k++) {
    CLEANUP_FREE char *ctx = xasprintf ("windows-rdp on %s, %s", b->name,
                                        fw_names[k]);
    copy_all (b->hive, v);
    if (fw_mutate (v[HIVE_SYSTEM], k))
      run_variant ("windows-rdp", v, ctx);
  }
  for (int k = 0; k < M_NKINDS; k++) {
    CLEANUP_FREE char *ctx = xasprintf ("windows-msft1000 on %s, %s",
                                        b->name, msft_names[k]);
    copy_all (b->hive, v);
    if (msft_mutate (v[HIVE_SYSTEM], k))
      run_variant ("windows-msft1000", v, ctx);
  }
  /* The base as it is. */
  run_variant ("windows-rdp", b->hive, b->name);
  run_variant ("windows-msft1000", b->hive, b->name);
  free_files (v);
  whole = false;
  printf ("  windows-rdp, windows-msft1000 whole on %s: %zu variants\n",
          b->name, nvariants - before);
}

/* --- bases ---------------------------------------------------------- */

static const char version_2022[] =
  "\"ProductName\"=\"Windows Server 2022 Standard\"\n"
  "\"CurrentVersion\"=\"6.3\"\n\"CurrentBuildNumber\"=\"20348\"\n"
  "\"InstallationType\"=\"Server\"\n"
  "\"CurrentMajorVersionNumber\"=dword:0000000a\n";

static char *
system_text (int n)
{
  CLEANUP_FREE char *set = xasprintf ("ControlSet00%d", n);
  CLEANUP_FREE char *num = xasprintf ("0000000%d", n);
  const char *kv[] = { "CS", set, "N", num, "ARCH", "AMD64",
                       "HOSTNAME", "phony", "STORVSC_START",
                       "dword:00000003", "SANPOLICY",
                       "\"SanPolicy\"=dword:00000003", NULL };
  return reg_text ("system", kv);
}

/* The phony guest's hives (Select\Current = cs2 ? 2 : 1; with cs2 a
 * stale ControlSet001 stays beside it). */
static void
make_base (const char *phony, struct base *b, const char *tag, bool cs2)
{
  const char *sw_kv[] = { "VERSION", version_2022, NULL };
  const char *bm_kv[] = { "BOOTMGR_PATH",
                          "\\\\EFI\\\\Microsoft\\\\Boot\\\\bootmgfw.efi",
                          NULL };
  CLEANUP_FREE char *bm = reg_text ("bcd-bootmgr", bm_kv);
  const char *bcd_kv[] = { "BOOTMGR", bm, "WINLOAD", "winload.efi", NULL };
  CLEANUP_FREE char *sys1 = system_text (1);
  CLEANUP_FREE char *sys2 = cs2 ? system_text (2) : NULL;
  CLEANUP_FREE char *sw = reg_text ("software", sw_kv);
  CLEANUP_FREE char *bcd = reg_text ("bcd", bcd_kv);
  const char *sys_texts[] = { sys1, sys2, NULL };
  const char *sw_texts[] = { sw, NULL }, *bcd_texts[] = { bcd, NULL };

  files (tag, b->hive);
  make_hive (phony, b->hive[HIVE_SYSTEM], "HKEY_LOCAL_MACHINE\\SYSTEM",
             sys_texts);
  make_hive (phony, b->hive[HIVE_SOFTWARE], "HKEY_LOCAL_MACHINE\\SOFTWARE",
             sw_texts);
  make_hive (phony, b->hive[HIVE_BCD], "", bcd_texts);
}

/* A base from real hives (tests/data/windows/README.md): SYSTEM, BCD
 * and SOFTWARE extracts merged into empty hives (SOFTWARE empty when
 * software is NULL). */
static void
stock_base (const char *phony, struct base *b, const char *tag,
            const char *system, const char *rules, const char *software)
{
  const char *none[] = { NULL };
  CLEANUP_FREE char *sys = reg_file (system, none);
  CLEANUP_FREE char *fw = reg_file (rules, none);
  CLEANUP_FREE char *sw = software ? reg_file (software, none) : NULL;
  CLEANUP_FREE char *bcd = reg_file ("tests/data/windows/regipy-bcd.reg",
                                     none);
  const char *sys_texts[] = { sys, fw, NULL }, *bcd_texts[] = { bcd, NULL };
  const char *sw_texts[] = { sw, NULL };

  files (tag, b->hive);
  make_hive (phony, b->hive[HIVE_SYSTEM], "", sys_texts);
  make_hive (phony, b->hive[HIVE_SOFTWARE], "", sw_texts);
  make_hive (phony, b->hive[HIVE_BCD], "", bcd_texts);
}

/* Base b: the phony guest's hives (from) with the rule store replaced
 * by a real one (tests/data/windows/README.md). */
static void
rules_base (const struct base *from, struct base *b, const char *tag,
            const char *rules)
{
  const char *none[] = { NULL };
  CLEANUP_FREE char *fw = reg_file (rules, none);
  CLEANUP_FREE char *key = xasprintf ("%s\\%s", from->set, RULES);
  hive_h *h;
  int64_t node;

  files (tag, b->hive);
  copy_all (from->hive, b->hive);
  h = hivex_open (b->hive[HIVE_SYSTEM], HIVEX_OPEN_WRITE);
  node = h ? win_key_lookup (h, "T", hivex_root (h), key) : -1;
  if (node <= 0 || hivex_node_delete_child (h, node) == -1
      || hivex_commit (h, NULL, 0) == -1)
    exit (1);
  hivex_close (h);
  merge_text (b->hive[HIVE_SYSTEM], "", fw);
}

/* Every fixup on a base: after fix, check finds nothing fixable and a
 * second fix changes nothing.  The result is left in out (if given). */
static void
fix_all (const struct base *b, char **out)
{
  char *w[HIVE_COUNT];
  size_t fixable, changes;

  cs = b->set;
  files ("all", w);
  copy_all (b->hive, w);
  CHECK (run_fixup (NULL, w, true, false, NULL, &fixable, &changes) == 0);
  CHECK (changes > 0 || strcmp (b->name, "phony"));
  CHECK (run_fixup (NULL, w, false, false, NULL, &fixable, &changes) == 0);
  CHECK (fixable == 0);
  if (out)
    copy_all (w, out);
  CHECK (run_fixup (NULL, w, true, false, NULL, &fixable, &changes) == 0);
  CHECK (changes == 0);
  free_files (w);
}

/* Issue 14: a SOFTWARE hive without the Terminal Services policy key.
 * fix accepts it; the key is created because values must go in it. */
static void
no_policy_key (const struct base *b)
{
  static const struct win_reg pol = {
    "t", HIVE_SOFTWARE, "Policies\\Microsoft\\Windows NT\\Terminal Services",
  };
  char *v[HIVE_COUNT];
  struct lines after;
  size_t fixable, changes;
  bool deny = false, keep = false;

  cs = b->set;
  files ("nopolicy", v);
  copy_all (b->hive, v);
  CHECK (mutate (v[HIVE_SOFTWARE], &pol, KEY_ABSENT));
  CHECK (run_fixup ("windows-rdp", v, true, false, NULL, &fixable, &changes)
         == 0);
  CHECK (run_fixup ("windows-rdp", v, false, false, NULL, &fixable,
                    &changes) == 0);
  CHECK (fixable == 0);
  after = dump (v);
  for (size_t i = 0; i < after.n; i++) {
    const char *k = "SOFTWARE|Policies\\Microsoft\\Windows NT\\"
      "Terminal Services|";
    if (strncmp (after.v[i], k, strlen (k)))
      continue;
    deny |= !strcmp (after.v[i] + strlen (k), "fDenyTSConnections=4:"
                     "00000000");
    keep |= !strcmp (after.v[i] + strlen (k), "KeepAliveEnable=4:"
                     "01000000");
  }
  CHECK (deny && keep);
  lines_free (&after);
  free_files (v);
}

int
main (void)
{
  const char *phony = getenv ("WIN_PHONY") ? getenv ("WIN_PHONY")
    : "build/images-tools/phony";
  static const enum kind every[] = {
    KEY_ABSENT, PARENT_ABSENT, VALUE_ABSENT, WRONG_TYPE, WRONG_DATA,
    EXTRA_VALUES, EMPTY_KEY,
  };
  static const enum kind other_set[] = { KEY_ABSENT, WRONG_DATA };
  struct base bases[NBASES + NRULE_BASES] = {
    { "phony", "ControlSet001" }, { "phony after fix", "ControlSet001" },
    { "ControlSet002 current", "ControlSet002" },
    { "regipy Windows 10 1709", "ControlSet001" },
    { "regipy SYSTEM_2", "ControlSet001" },
    { "dfwinreg Windows 8.1 SYSTEM and SOFTWARE", "ControlSet001" },
    { "phony with regipy SYSTEM's rules (Windows 7)", "ControlSet001" },
    { "phony with regipy SYSTEM_B's rules (Windows 10)", "ControlSet001" },
  };
  const char *names[16];
  size_t n, nnames = 0, nrows = 0, ntable;
  const struct win_table *const *all = win_tables (&n);

  if (access (phony, X_OK) != 0 || access ("/usr/bin/hivexregedit", X_OK)) {
    printf ("SKIP: %s not built (make images) or no hivexregedit\n", phony);
    return 77;
  }
  if (!mkdtemp (dir))
    return 1;
  make_base (phony, &bases[0], "phony", false);
  files ("fixed", bases[1].hive);
  fix_all (&bases[0], bases[1].hive);
  fix_all (&bases[1], NULL);
  make_base (phony, &bases[2], "cs2", true);
  fix_all (&bases[2], NULL);
  stock_base (phony, &bases[3], "win10", DATA "regipy-win10-1709-system.reg",
              DATA "regipy-win10-1709-rdp-rules.reg", NULL);
  fix_all (&bases[3], NULL);
  stock_base (phony, &bases[4], "system2", DATA "regipy-system-2.reg",
              DATA "regipy-system-2-rdp-rules.reg", NULL);
  fix_all (&bases[4], NULL);
  stock_base (phony, &bases[5], "win81", DATA "dfwinreg-win81-system.reg",
              DATA "dfwinreg-win81-rdp-rules.reg",
              DATA "dfwinreg-win81-software.reg");
  fix_all (&bases[5], NULL);
  rules_base (&bases[0], &bases[6], "win7",
              DATA "regipy-system-win7-rdp-rules.reg");
  fix_all (&bases[6], NULL);
  rules_base (&bases[0], &bases[7], "systemb",
              DATA "regipy-system-b-rdp-rules.reg");
  fix_all (&bases[7], NULL);
  no_policy_key (&bases[0]);

  for (size_t i = 0; i < n; i++) {
    size_t j;
    for (j = 0; j < nnames && strcmp (names[j], all[i]->fixup); j++)
      ;
    if (j == nnames && nnames < 16)
      names[nnames++] = all[i]->fixup;
  }
  for (size_t i = 0; i < nnames; i++) {
    struct rowset rs = { .n = 0 };
    size_t fixable, changes;
    size_t before = nvariants;

    cs = bases[0].set;
    CHECK (run_fixup (names[i], bases[0].hive, false, false, &rs, &fixable,
                      &changes) == 0);
    nrows += rs.n;
    variants_of (names[i], &bases[0], every, 7);
    variants_of (names[i], &bases[1], every, 7);
    variants_of (names[i], &bases[2], other_set, 2);
    variants_of (names[i], &bases[3], every, 7);
    variants_of (names[i], &bases[4], every, 7);
    variants_of (names[i], &bases[5], every, 7);
    /* Select\Current naming a set that does not exist. */
    cs = "ControlSet003";
    {
      CLEANUP_FREE char *ctx = xasprintf ("%s, Select\\Current names a "
                                          "missing set", names[i]);
      run_variant (names[i], bases[0].hive, ctx);
    }
    printf ("  %-24s %2zu rows, %4zu variants\n", names[i], rs.n,
            nvariants - before);
  }
  ntable = nvariants;
  for (int i = 0; i < NBASES + NRULE_BASES; i++)
    if (i != 1)         /* the phony after fix: nothing left to do */
      whole_variants (&bases[i]);
  printf ("test-regvariants: %zu rows x %d kinds of variant on %d bases: "
          "%zu variants; windows-rdp (firewall rules) and "
          "windows-msft1000 run whole: %d + %d shapes on %d bases: %zu "
          "variants; %zu refused with a reason, %zu applies (table rows in "
          "%d orders)\n", nrows, NKINDS, NBASES, ntable, FW_NKINDS, M_NKINDS,
          NBASES + NRULE_BASES - 1, nvariants - ntable, nrefused, napplies,
          PERMUTATIONS + 1);
  for (size_t i = 0; i < MAX_REASONS && reasons[i]; i++)
    printf ("  refused %4zu x: %s\n", reason_count[i], reasons[i]);
  for (int i = 0; i < NBASES + NRULE_BASES; i++)
    free_files (bases[i].hive);
  unlink (xasprintf ("%s/in.reg", dir));
  rmdir (dir);
  return UNIT_RESULT ("test-regvariants");
}
