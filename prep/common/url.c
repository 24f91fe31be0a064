/* Percent-encoding and decoding: see prep/common/url.h. */
#include <errno.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/url.h"

static bool
unreserved (unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

char *
url_encode (const char *s)
{
  return url_encode_keep (s, "");
}

char *
url_encode_keep (const char *s, const char *keep)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = malloc (strlen (s) * 3 + 1), *o = out;

  if (!out) {
    azp_error ("out of memory");
    return NULL;
  }
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    if (unreserved (*p) || strchr (keep, *p))
      *o++ = *p;
    else {
      *o++ = '%';
      *o++ = hex[*p >> 4];
      *o++ = hex[*p & 15];
    }
  }
  *o = '\0';
  return out;
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char *
url_decode (const char *s, size_t n, int flags)
{
  char *out = malloc (n + 1), *o = out;

  if (!out) {
    errno = ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%') {
      int hi = i + 1 < n ? hexval (s[i + 1]) : -1;
      int lo = hi >= 0 && i + 2 < n ? hexval (s[i + 2]) : -1;
      if (lo < 0 || (hi | lo) == 0) {
        free (out);
        errno = EINVAL;
        return NULL;
      }
      *o++ = hi << 4 | lo;
      i += 2;
    }
    else if (s[i] == '+' && (flags & URL_PLUS_SPACE))
      *o++ = ' ';
    else
      *o++ = s[i];
  }
  *o = '\0';
  return out;
}
