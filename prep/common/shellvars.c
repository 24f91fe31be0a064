/* Shell-variable files (KEY="value" lines) and word lists (kernel
 * command lines, module lists), edited line by line so that comments
 * and everything else stay as they were. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/text.h"

/* Is line (up to its end) "KEY=" (after optional blanks / export)? */
static const char *
line_value (const char *line, const char *key)
{
  size_t kl = strlen (key);
  line += strspn (line, " \t");
  if (!strncmp (line, "export ", 7))
    line += 7 + strspn (line + 7, " \t");
  if (strncmp (line, key, kl) || line[kl] != '=')
    return NULL;
  return line + kl + 1;
}

/* Where the value of an assignment line (up to end) lies: a quoted
 * value ends at its closing quote (what follows, a comment, is not
 * part of it); an unquoted one runs to the end of the line, trailing
 * blanks and CR removed (grubenv's "kernelopts=root=... ro" has
 * blanks).  *quote is the quote character or 0. */
static void
value_span (const char *v, const char *end, size_t *start, size_t *len,
            char *quote)
{
  size_t n = end - v;

  *quote = 0;
  if (n >= 1 && (v[0] == '"' || v[0] == '\'')) {
    for (size_t i = 1; i < n; i++) {
      if (v[0] == '"' && v[i] == '\\' && i + 1 < n) {
        i++;
        continue;
      }
      if (v[i] == v[0]) {
        *quote = v[0];
        *start = 1;
        *len = i - 1;
        return;
      }
    }
  }
  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
    n--;
  *start = 0;
  *len = n;
}

/* The value of line's assignment of key: span as value_span, from v
 * (the character after '='); false when line does not assign key. */
struct span { const char *v, *end; size_t start, len; char q; };

static bool
assignment (const char *line, const char *key, struct span *sp)
{
  sp->end = strchrnul (line, '\n');
  sp->v = line_value (line, key);
  if (!sp->v || sp->v > sp->end)
    return false;
  value_span (sp->v, sp->end, &sp->start, &sp->len, &sp->q);
  return true;
}

char *
kv_line_value (const char *line, const char *key)
{
  struct span sp;

  return assignment (line, key, &sp)
    ? strndup (sp.v + sp.start, sp.len) : NULL;
}

/* Unquoted, a quote, backslash or backquote is shell syntax (or an
 * unterminated quote): in double quotes the value would read back
 * otherwise, or not at all.  Such a line is not edited. */
static const char *
uneditable (const struct span *sp)
{
  if (!sp->q && strcspn (sp->v + sp->start, "\"'\\`") < sp->len)
    return "quotes or backslashes outside quotes";
  return NULL;
}

const char *
kv_line_uneditable (const char *line, const char *key)
{
  struct span sp;

  return assignment (line, key, &sp) ? uneditable (&sp) : NULL;
}

char *
kv_line_replace (const char *line, const char *key, const char *value)
{
  struct span sp;
  const char *rest, *why;
  char q;

  if (!assignment (line, key, &sp))
    return NULL;
  if ((why = uneditable (&sp)) != NULL) {
    azp_error ("%s=%.*s: not edited: %s", key, (int) sp.len,
               sp.v + sp.start, why);
    return NULL;
  }
  q = sp.q;
  rest = sp.v + sp.start + sp.len + (q ? 1 : 0); /* a comment, blanks, CR */
  /* Keep single quotes when the value has none (no expansion either
   * way); otherwise double quotes (an unquoted value may now have
   * blanks). */
  if (q != '\'' || strchr (value, '\''))
    q = '"';
  return xasprintf ("%.*s%c%s%c%.*s", (int) (sp.v - line), line, q, value,
                    q, (int) (sp.end - rest), rest);
}

char *
kv_get (const char *content, const char *key)
{
  char *r = NULL;

  for (const char *l = content; l && *l; ) {
    const char *end = strchrnul (l, '\n');
    const char *v = line_value (l, key);
    if (v && v <= end) {
      free (r);
      r = kv_line_value (l, key);
    }
    l = *end ? end + 1 : end;
  }
  return r;
}

static char *
kv_edit (const char *content, const char *key, const char *value)
{
  char *s = NULL;
  size_t n;
  bool done = false;
  FILE *fp = open_memstream (&s, &n);

  if (!fp) {
    azp_error ("out of memory");
    return NULL;
  }
  for (const char *l = content; l && *l; ) {
    const char *end = strchrnul (l, '\n');
    const char *v = line_value (l, key);
    if (v && v <= end) {
      if (value && !done)
        fprintf (fp, "%s=\"%s\"\n", key, value);
      done = true;
    }
    else
      fprintf (fp, "%.*s\n", (int) (end - l), l);
    l = *end ? end + 1 : end;
  }
  if (value && !done)
    fprintf (fp, "%s=\"%s\"\n", key, value);
  fclose (fp);
  return s;
}

char *
kv_set (const char *content, const char *key, const char *value)
{
  return kv_edit (content, key, value);
}

char *
kv_remove (const char *content, const char *key)
{
  return kv_edit (content, key, NULL);
}

/* Words: separated by blanks.  A word KEY=VALUE replaces another
 * KEY=..., except for keys that may repeat (console=). */
static bool
same_key (const char *a, size_t alen, const char *b)
{
  const char *eq = strchr (b, '=');
  size_t kl;
  if (!eq || !strncmp (b, "console=", 8))
    return false;
  kl = eq - b + 1;
  return alen > kl && !strncmp (a, b, kl);
}

static char *
words_edit (const char *words, const char *word, bool add)
{
  char *s = NULL;
  size_t n, wl = strlen (word);
  bool have = false, first = true;
  FILE *fp = open_memstream (&s, &n);

  if (!fp) {
    azp_error ("out of memory");
    return NULL;
  }
  for (const char *p = words; *p; ) {
    size_t len;
    p += strspn (p, " \t");
    len = strcspn (p, " \t");
    if (!len)
      break;
    if (len == wl && !strncmp (p, word, wl)) {
      if (add && !have)
        fprintf (fp, "%s%s", first ? "" : " ", word), first = false;
      have = true;
    }
    else if (add && same_key (p, len, word)) {
      if (!have)
        fprintf (fp, "%s%s", first ? "" : " ", word), first = false;
      have = true;
    }
    else
      fprintf (fp, "%s%.*s", first ? "" : " ", (int) len, p), first = false;
    p += len;
  }
  if (add && !have)
    fprintf (fp, "%s%s", first ? "" : " ", word);
  fclose (fp);
  return s;
}

bool
words_has (const char *words, const char *word)
{
  size_t wl = strlen (word);
  for (const char *p = words; p && *p; ) {
    size_t len;
    p += strspn (p, " \t");
    len = strcspn (p, " \t");
    if (!len)
      break;
    if (len == wl && !strncmp (p, word, wl))
      return true;
    p += len;
  }
  return false;
}

char *
words_set (const char *words, const char *word)
{
  return words_edit (words, word, true);
}

char *
words_remove (const char *words, const char *word)
{
  return words_edit (words, word, false);
}
