/* Range lists and the Get Page Ranges XML. */
#include <errno.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/xml.h"
#include "replicate/azure/ranges.h"

void
rangelist_free (struct rangelist *l)
{
  free (l->r);
  l->r = NULL;
  l->n = l->cap = 0;
}

void
rangelist_cleanup (void *ptr)
{
  rangelist_free (ptr);
}

int
rangelist_add (struct rangelist *l, uint64_t start, uint64_t end)
{
  if (end <= start)
    return 0;
  if (l->n > 0 && l->r[l->n - 1].end == start) {
    l->r[l->n - 1].end = end;
    return 0;
  }
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 16;
    struct range *nr = realloc (l->r, ncap * sizeof *nr);
    if (!nr) {
      azp_error ("out of memory");
      return -1;
    }
    l->r = nr;
    l->cap = ncap;
  }
  l->r[l->n].start = start;
  l->r[l->n].end = end;
  l->n++;
  return 0;
}

static int
cmp_range (const void *a, const void *b)
{
  const struct range *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

void
rangelist_normalize (struct rangelist *l)
{
  size_t o = 0;

  if (l->n == 0)
    return;
  qsort (l->r, l->n, sizeof *l->r, cmp_range);
  for (size_t i = 1; i < l->n; i++) {
    if (l->r[i].start <= l->r[o].end) {
      if (l->r[i].end > l->r[o].end)
        l->r[o].end = l->r[i].end;
    }
    else
      l->r[++o] = l->r[i];
  }
  l->n = o + 1;
}

uint64_t
rangelist_bytes (const struct rangelist *l)
{
  uint64_t t = 0;
  for (size_t i = 0; i < l->n; i++)
    t += l->r[i].end - l->r[i].start;
  return t;
}

bool
rangelist_covers (const struct rangelist *l, uint64_t start, uint64_t end)
{
  size_t lo = 0, hi = l->n;

  if (end <= start)
    return true;
  /* The last range whose start <= start. */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (l->r[mid].start <= start)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && l->r[lo - 1].end >= end;
}

bool
rangelist_overlaps (const struct rangelist *l, uint64_t start, uint64_t end)
{
  size_t lo = 0, hi = l->n;

  /* The first range whose end > start. */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (l->r[mid].end <= start)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < l->n && l->r[lo].start < end;
}

#define MAX_XML (64 * 1024 * 1024)

static int
parse_u64 (xmlNode *n, uint64_t *v)
{
  CLEANUP_XMLFREE xmlChar *s = xmlNodeGetContent (n);
  char *end;

  if (!s || !*s || *s == '-')
    return -1;
  errno = 0;
  *v = strtoull ((const char *) s, &end, 10);
  return errno || *end ? -1 : 0;
}

static xmlNode *
child (xmlNode *n, const char *name)
{
  for (xmlNode *c = n->children; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE && !strcmp ((const char *) c->name, name))
      return c;
  return NULL;
}

/* Parse a reply body (kind names it in messages) whose root element
 * must be root_name: the document and *root, or NULL (reported).
 */
static xmlDoc *
reply_parse (const char *xml, size_t len, const char *what,
             const char *kind, const char *root_name, xmlNode **root)
{
  char big[64], bad[64], dtd[64];
  struct xml_parse_opts xo = {
    .what = what, .max_size = MAX_XML,
    .flags = XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA,
    .too_large = big, .not_xml = bad, .has_dtd = dtd,
  };
  xmlDoc *doc;

  snprintf (big, sizeof big, "%s is too large", kind);
  snprintf (bad, sizeof bad, "%s is not valid XML", kind);
  snprintf (dtd, sizeof dtd, "%s has a DTD (refused)", kind);
  doc = xml_parse_safe (xml, len, &xo);
  if (!doc)
    return NULL;
  *root = xmlDocGetRootElement (doc);
  if (!*root || strcmp ((const char *) (*root)->name, root_name) != 0) {
    azp_error ("%s: %s: root element is not %s", what, kind, root_name);
    xmlFreeDoc (doc);
    return NULL;
  }
  return doc;
}

/* A non-empty <NextMarker> into *marker.  0 or -1 (reported). */
static int
take_marker (xmlNode *n, const char *what, const char *doc, char **marker)
{
  CLEANUP_XMLFREE xmlChar *m = xmlNodeGetContent (n);

  if (!m || !*m)
    return 0;
  if (strlen ((const char *) m) > 1024) {
    azp_error ("%s: %s: NextMarker too long", what, doc);
    return -1;
  }
  *marker = xstrdup ((const char *) m);
  return *marker ? 0 : -1;
}

int
pagelist_parse (const char *xml, size_t len, const char *what,
                size_t max_ranges, struct rangelist *pages,
                struct rangelist *clears, char **next_marker)
{
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  xmlNode *root;
  size_t count = 0;
  int r = -1;

  if (next_marker)
    *next_marker = NULL;
  doc = reply_parse (xml, len, what, "page range list", "PageList", &root);
  if (!doc)
    return -1;
  for (xmlNode *n = root->children; n; n = n->next) {
    bool page;
    xmlNode *s, *e;
    uint64_t start, end;

    if (n->type != XML_ELEMENT_NODE)
      continue;
    if (!strcmp ((const char *) n->name, "NextMarker")) {
      if (next_marker &&
          take_marker (n, what, "page range list", next_marker) == -1)
        goto out;
      continue;
    }
    page = !strcmp ((const char *) n->name, "PageRange");
    if (!page && strcmp ((const char *) n->name, "ClearRange") != 0)
      continue;
    if (++count > max_ranges) {
      azp_error ("%s: page range list has more than %zu ranges", what,
                 max_ranges);
      goto out;
    }
    s = child (n, "Start");
    e = child (n, "End");
    if (!s || !e || parse_u64 (s, &start) == -1 || parse_u64 (e, &end) == -1
        || end < start || end == UINT64_MAX || start % 512 != 0
        || (end + 1) % 512 != 0) {
      azp_error ("%s: page range list: bad %s", what, n->name);
      goto out;
    }
    if (page ? rangelist_add (pages, start, end + 1) == -1
        : clears && rangelist_add (clears, start, end + 1) == -1)
      goto out;
  }
  rangelist_normalize (pages);
  if (clears)
    rangelist_normalize (clears);
  r = 0;
 out:
  if (r == -1 && next_marker) {
    free (*next_marker);
    *next_marker = NULL;
  }
  return r;
}

static char *
bounded_content (xmlNode *n)
{
  CLEANUP_XMLFREE xmlChar *s = n ? xmlNodeGetContent (n) : NULL;
  char *r;

  if (!s)
    return NULL;
  r = strndup ((const char *) s, 256);
  if (r)
    for (char *p = r; *p; p++)
      if (*p == '\n' || *p == '\r')
        *p = ' ';
  return r;
}

void
storage_error_parse (const char *xml, size_t len, char **code,
                     char **message)
{
  /* Silent: the caller reports the HTTP status without them. */
  const struct xml_parse_opts xo = {
    .what = "error reply", .max_size = 65536,
    .flags = XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA,
  };
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  xmlNode *root;

  *code = *message = NULL;
  if (len == 0)
    return;
  doc = xml_parse_safe (xml, len, &xo);
  root = doc ? xmlDocGetRootElement (doc) : NULL;
  if (root && !strcmp ((const char *) root->name, "Error")) {
    *code = bounded_content (child (root, "Code"));
    *message = bounded_content (child (root, "Message"));
  }
}

void
blob_list_free (struct blob_list *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free (l->items[i].snapshot);
    free (l->items[i].name);
    free_string_list (l->items[i].metadata);
  }
  free (l->items);
  memset (l, 0, sizeof *l);
}

/* The <Metadata> children of a listed blob as "name=value" strings. */
static char **
list_metadata (xmlNode *md, const char *what)
{
  size_t n = 0, k = 0;
  char **m;

  for (xmlNode *c = md ? md->children : NULL; c; c = c->next)
    n += c->type == XML_ELEMENT_NODE;
  if (n > 8192) {
    azp_error ("%s: blob list: too much metadata", what);
    return NULL;
  }
  m = calloc (n + 1, sizeof *m);
  if (!m) {
    azp_error ("out of memory");
    return NULL;
  }
  for (xmlNode *c = md ? md->children : NULL; c; c = c->next) {
    CLEANUP_XMLFREE xmlChar *v = NULL;
    if (c->type != XML_ELEMENT_NODE)
      continue;
    v = xmlNodeGetContent (c);
    m[k] = xasprintf ("%s=%s", (const char *) c->name,
                      v ? (const char *) v : "");
    if (!m[k++]) {
      free_string_list (m);
      return NULL;
    }
  }
  return m;
}

/* One <Blob>: kept (appended to out) if its <Name> is name (any name
 * if name is NULL). */
static int
list_item (xmlNode *b, const char *what, const char *name,
           size_t max_items, struct blob_list *out)
{
  CLEANUP_XMLFREE xmlChar *bn = NULL, *snap = NULL;
  xmlNode *nn = child (b, "Name"), *sn = child (b, "Snapshot");
  struct blob_item *ni;

  bn = nn ? xmlNodeGetContent (nn) : NULL;
  if (!bn) {
    azp_error ("%s: blob list: a Blob without a Name", what);
    return -1;
  }
  if (name && strcmp ((const char *) bn, name) != 0)
    return 0;
  snap = sn ? xmlNodeGetContent (sn) : NULL;
  if (snap && (!*snap || strlen ((const char *) snap) > 63 ||
               strpbrk ((const char *) snap, "\r\n&/?#"))) {
    azp_error ("%s: blob list: bad Snapshot", what);
    return -1;
  }
  if (out->n >= max_items) {
    azp_error ("%s: blob list: more than %zu snapshots", what, max_items);
    return -1;
  }
  ni = realloc (out->items, (out->n + 1) * sizeof *ni);
  if (!ni) {
    azp_error ("out of memory");
    return -1;
  }
  out->items = ni;
  ni += out->n;
  ni->snapshot = snap ? xstrdup ((const char *) snap) : NULL;
  ni->name = xstrdup ((const char *) bn);
  ni->metadata = list_metadata (child (b, "Metadata"), what);
  if ((snap && !ni->snapshot) || !ni->name || !ni->metadata) {
    free (ni->snapshot);
    free (ni->name);
    free_string_list (ni->metadata);
    return -1;
  }
  out->n++;
  return 0;
}

int
bloblist_parse (const char *xml, size_t len, const char *what,
                const char *name, size_t max_items, struct blob_list *out,
                char **next_marker)
{
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  xmlNode *root, *blobs;

  *next_marker = NULL;
  doc = reply_parse (xml, len, what, "blob list", "EnumerationResults",
                     &root);
  if (!doc)
    return -1;
  blobs = child (root, "Blobs");
  for (xmlNode *b = blobs ? blobs->children : NULL; b; b = b->next)
    if (b->type == XML_ELEMENT_NODE &&
        !strcmp ((const char *) b->name, "Blob") &&
        list_item (b, what, name, max_items, out) == -1)
      return -1;
  for (xmlNode *n = root->children; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE &&
        !strcmp ((const char *) n->name, "NextMarker"))
      return take_marker (n, what, "blob list", next_marker);
  return 0;
}
