/* Unit test of migrate_final_argv: the final cycle's command line with
 * 64 disks and every option (one word more than the fixed array that
 * held it before; under ASan, make check-asan, an overflow aborts). */
#include <stdio.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/migrate/migrate.h"

static size_t
count (const char **v)
{
  size_t n = 0;
  while (v[n])
    n++;
  return n;
}

int
main (void)
{
  static struct jdisk disks[200];
  static char src[200][32];
  struct migrate m = { .name = "vm", .state_dir = (char *) "/st",
                       .creds_file = "/c", .cacert = "/ca",
                       .allow_http = true };
  const char **v;

  for (size_t i = 0; i < 200; i++) {
    snprintf (src[i], sizeof src[i], "/d/%zu.raw", i);
    disks[i].source = src[i];
    disks[i].format = i % 2 ? (char *) "raw" : NULL;
  }
  m.j.disks = disks;
  m.j.ndisks = 64;
  v = migrate_final_argv (&m, "/bin/azprep", "vms", true);
  CHECK (v != NULL);
  CHECK (count (v) == 16 + 3 * 64);
  CHECK_STR (v[0], "/bin/azprep");
  CHECK_STR (v[1], "replicate");
  CHECK_STR (v[15], "--json");
  CHECK_STR (v[16], "--format");
  CHECK_STR (v[17], "auto");
  CHECK_STR (v[18], "/d/0.raw");
  CHECK_STR (v[16 + 3 * 63 + 1], "raw");
  CHECK_STR (v[16 + 3 * 63 + 2], "/d/63.raw");
  free (v);

  /* More disks, no options. */
  m.creds_file = m.cacert = NULL;
  m.allow_http = false;
  m.j.ndisks = 200;
  v = migrate_final_argv (&m, "/bin/azprep", "vms", false);
  CHECK (v != NULL && count (v) == 10 + 3 * 200);
  CHECK_STR (v[10 + 3 * 199 + 2], "/d/199.raw");
  free (v);

  /* Every option with a state container: the most words. */
  m.creds_file = "/c";
  m.cacert = "/ca";
  m.allow_http = true;
  m.sa.container = "state";
  m.j.ndisks = 64;
  v = migrate_final_argv (&m, "/bin/azprep", "vms", true);
  CHECK (v != NULL && count (v) == 18 + 3 * 64);
  CHECK_STR (v[10], "--credentials");
  CHECK_STR (v[12], "--state-container");
  CHECK_STR (v[13], "state");
  free (v);
  return UNIT_RESULT ("test-final");
}
