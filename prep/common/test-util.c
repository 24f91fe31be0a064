/* Unit tests of prep/common/util.c: shell_quote (what azprep prints for
 * a shell is one word, whatever the user's text holds) and fputs_clean
 * (guest text reaches the terminal without escape sequences). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"

static void
q (const char *in, const char *want)
{
  CLEANUP_FREE char *r = shell_quote (in);
  CHECK_STR (r, want);
}

static void
clean (const char *in, bool multi, const char *want)
{
  char *buf = NULL;
  size_t n = 0;
  FILE *fp = open_memstream (&buf, &n);

  CHECK (fp != NULL);
  fputs_clean (in, fp, multi);
  fclose (fp);
  CHECK_STR (buf, want);
  free (buf);
}

int
main (void)
{
  clean ("Windows Server 2019", false, "Windows Server 2019");
  clean ("Evil\x1b]0;pwned\x07\x1b[2J", false,
         "Evil\\x1b]0;pwned\\x07\\x1b[2J");
  clean ("a\nb\tc\r\n", false, "a\\x0ab\\x09c\\x0d\\x0a");
  clean ("a\nb\tc\r\nd\re", true, "a\nb\tc\nd\\x0de");
  clean ("\xc2\x9b" "31m \xc3\xa9 \x7f", true, "\\u009b31m \xc3\xa9 \\x7f");

  q ("rg-1", "rg-1");
  q ("RESOURCE_GROUP", "RESOURCE_GROUP");
  q ("/a/b.json", "/a/b.json");
  q ("", "''");
  q ("rg; rm -rf ~", "'rg; rm -rf ~'");
  q ("$(id)", "'$(id)'");
  q ("`id`", "'`id`'");
  q ("a'b", "'a'\\''b'");
  q ("'", "''\\'''");
  q ("a\nb", "'a\nb'");
  return UNIT_RESULT ("test-util");
}
