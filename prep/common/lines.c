/* Text files as arrays of lines, for the line-based editors. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/text.h"

int
lines_split (struct lines *ls, const char *text)
{
  ls->l = NULL;
  ls->n = 0;
  for (const char *p = text; p && *p; ) {
    const char *end = strchrnul (p, '\n');
    if (lines_insert (ls, ls->n, "") == -1)
      return -1;
    free (ls->l[ls->n - 1]);
    ls->l[ls->n - 1] = strndup (p, end - p);
    if (!ls->l[ls->n - 1]) {
      azp_error ("out of memory");
      return -1;
    }
    p = *end ? end + 1 : end;
  }
  return 0;
}

char *
lines_join (const struct lines *ls)
{
  char *s = NULL;
  size_t n;
  FILE *fp = open_memstream (&s, &n);
  if (!fp) {
    azp_error ("out of memory");
    return NULL;
  }
  for (size_t i = 0; i < ls->n; i++)
    fprintf (fp, "%s\n", ls->l[i]);
  fclose (fp);
  return s;
}

void
lines_free (struct lines *ls)
{
  for (size_t i = 0; i < ls->n; i++)
    free (ls->l[i]);
  free (ls->l);
  ls->l = NULL;
  ls->n = 0;
}

int
lines_insert (struct lines *ls, size_t at, const char *s)
{
  char **nl = realloc (ls->l, (ls->n + 1) * sizeof *nl);
  char *c = strdup (s);
  if (!nl || !c) {
    free (c);
    if (nl)
      ls->l = nl;
    azp_error ("out of memory");
    return -1;
  }
  ls->l = nl;
  memmove (&nl[at + 1], &nl[at], (ls->n - at) * sizeof *nl);
  nl[at] = c;
  ls->n++;
  return 0;
}

void
lines_delete (struct lines *ls, size_t at)
{
  free (ls->l[at]);
  memmove (&ls->l[at], &ls->l[at + 1], (ls->n - at - 1) * sizeof *ls->l);
  ls->n--;
}

size_t
line_indent (const char *l)
{
  return strspn (l, " \t");
}

bool
line_blank_or_comment (const char *l, char comment)
{
  l += strspn (l, " \t\r");
  return *l == '\0' || *l == comment;
}
