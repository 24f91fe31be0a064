/* Unit tests for prep/common/url.c: round trips, reserved characters,
 * '+' only in form-encoded queries, bad %-sequences refused. */
#include <errno.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "prep/common/url.h"

static char *
dec (const char *s, int flags)
{
  return url_decode (s, strlen (s), flags);
}

static void
test_encode (void)
{
  CLEANUP_FREE char *a = url_encode ("AZaz09-._~");
  CLEANUP_FREE char *b = url_encode (":/?#[]@!$&'()*+,;= %");
  CLEANUP_FREE char *c = url_encode_keep ("[ds 1] dir/vm.vmdk", "/");
  CLEANUP_FREE char *d = url_encode ("\xc3\xa9\x7f\x01");
  CLEANUP_FREE char *e = url_encode ("");

  CHECK_STR (a, "AZaz09-._~");
  CHECK_STR (b, "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D"
             "%20%25");
  CHECK_STR (c, "%5Bds%201%5D%20dir/vm.vmdk");
  CHECK_STR (d, "%C3%A9%7F%01");
  CHECK_STR (e, "");
}

static void
test_round_trip (void)
{
  const char *v[] = { "plain", "a b+c/d?e=f&g", "100%", "[DS] x/y.vmdk",
                      "\xc3\xa9t\xc3\xa9", "~-._", "", NULL };

  for (size_t i = 0; v[i]; i++) {
    CLEANUP_FREE char *e = url_encode (v[i]);
    CLEANUP_FREE char *d = e ? dec (e, 0) : NULL;
    CLEANUP_FREE char *f = e ? dec (e, URL_PLUS_SPACE) : NULL;
    CHECK_STR (d, v[i]);
    CHECK_STR (f, v[i]);
  }
}

static void
test_decode (void)
{
  CLEANUP_FREE char *a = dec ("a%2Fb+c%2b", 0);
  CLEANUP_FREE char *b = dec ("a%2Fb+c%2b", URL_PLUS_SPACE);
  CLEANUP_FREE char *c = dec ("%e9%C3%A9", 0);
  CLEANUP_FREE char *d = url_decode ("ab%41cd", 4, 0);

  CHECK_STR (a, "a/b+c+");
  CHECK_STR (b, "a/b c+");
  CHECK_STR (c, "\xe9\xc3\xa9");
  /* Only n bytes are read: "%41" is cut to "%4". */
  CHECK (d == NULL);

  /* Bad, truncated or NUL escapes. */
  const char *bad[] = { "%", "%4", "a%zz", "%g0", "%0g", "x%00y", "%%41",
                        NULL };
  for (size_t i = 0; bad[i]; i++) {
    errno = 0;
    CHECK (dec (bad[i], 0) == NULL && errno == EINVAL);
  }
}

static void
test_loopback (void)
{
  const char *yes[] = { "localhost", "LocalHost", "127.0.0.1", "127.1.2.3",
                        "127.255.255.255", "::1", "[::1]", "[0:0::1]",
                        NULL };
  const char *no[] = { "127.attacker.example", "127.0.0.1.example",
                       "127.", "127", "127.1", "0x7f.0.0.1", "128.0.0.1",
                       "10.0.0.1", "localhost.example", "evil-localhost",
                       "::2", "[::1", "::1]", "[]", "", "1.127.0.0",
                       "::ffff:10.0.0.1", NULL };
  for (size_t i = 0; yes[i]; i++)
    CHECK (url_host_is_loopback (yes[i]));
  for (size_t i = 0; no[i]; i++)
    CHECK (!url_host_is_loopback (no[i]));
}

int
main (void)
{
  test_encode ();
  test_round_trip ();
  test_decode ();
  test_loopback ();
  return UNIT_RESULT ("test-url");
}
