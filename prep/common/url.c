/* Percent-encoding and decoding: see prep/common/url.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

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

bool
url_host_is_loopback (const char *host)
{
  struct in_addr a4;
  struct in6_addr a6;
  char buf[INET6_ADDRSTRLEN + 2];
  size_t n = strlen (host);

  if (!strcasecmp (host, "localhost") || !strcasecmp (host, "localhost."))
    return true;
  /* inet_pton takes exactly four decimal parts: "127.1", octal or hex
   * forms and "127.0.0.1.example" are not addresses. */
  if (inet_pton (AF_INET, host, &a4) == 1)
    return (ntohl (a4.s_addr) >> 24) == 127;
  if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
    if (n - 2 >= sizeof buf)
      return false;
    memcpy (buf, host + 1, n - 2);
    buf[n - 2] = '\0';
    host = buf;
  }
  return inet_pton (AF_INET6, host, &a6) == 1 &&
    IN6_IS_ADDR_LOOPBACK (&a6);
}
