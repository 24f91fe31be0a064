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

int
pagelist_parse (const char *xml, size_t len, const char *what,
                size_t max_ranges, struct rangelist *pages,
                struct rangelist *clears, char **next_marker)
{
  const struct xml_parse_opts xo = {
    .what = what, .max_size = MAX_XML,
    .flags = XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA,
    .too_large = "page range list is too large",
    .not_xml = "page range list is not valid XML",
    .has_dtd = "page range list has a DTD (refused)",
  };
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
  xmlNode *root;
  size_t count = 0;
  int r = -1;

  if (next_marker)
    *next_marker = NULL;
  doc = xml_parse_safe (xml, len, &xo);
  if (!doc)
    return -1;
  root = xmlDocGetRootElement (doc);
  if (!root || strcmp ((const char *) root->name, "PageList") != 0) {
    azp_error ("%s: page range list: root element is not PageList", what);
    goto out;
  }
  for (xmlNode *n = root->children; n; n = n->next) {
    bool page;
    xmlNode *s, *e;
    uint64_t start, end;

    if (n->type != XML_ELEMENT_NODE)
      continue;
    if (!strcmp ((const char *) n->name, "NextMarker")) {
      CLEANUP_XMLFREE xmlChar *m = xmlNodeGetContent (n);
      if (m && *m && next_marker) {
        if (strlen ((const char *) m) > 1024) {
          azp_error ("%s: page range list: NextMarker too long", what);
          goto out;
        }
        *next_marker = xstrdup ((const char *) m);
        if (!*next_marker)
          goto out;
      }
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
