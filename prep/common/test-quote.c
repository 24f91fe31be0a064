/* Unit test of shell_quote (prep/common/util.c): what azprep prints for
 * a shell is one word, whatever the user's text holds. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"

static void
q (const char *in, const char *want)
{
  CLEANUP_FREE char *r = shell_quote (in);
  CHECK_STR (r, want);
}

int
main (void)
{
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
  return UNIT_RESULT ("test-quote");
}
