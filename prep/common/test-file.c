/* Unit tests of the atomic write and the directory fsync. */
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"

/* Entries in dir other than . and .. */
static int
count_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;

  if (!d)
    return -1;
  while ((e = readdir (d)))
    n += strcmp (e->d_name, ".") && strcmp (e->d_name, "..");
  closedir (d);
  return n;
}

static void
check_content (const char *path, const char *want)
{
  char buf[64] = "";
  FILE *fp = fopen (path, "r");
  size_t n = fp ? fread (buf, 1, sizeof buf - 1, fp) : 0;

  if (fp)
    fclose (fp);
  buf[n] = '\0';
  CHECK_STR (buf, want);
}

int
main (void)
{
  char dir[] = "/tmp/azprep-test-file.XXXXXX";
  CLEANUP_FREE char *path = NULL, *missing = NULL;

  if (!mkdtemp (dir))
    return 77;
  path = xasprintf ("%s/state.json", dir);
  missing = xasprintf ("%s/no/such/dir/f", dir);
  CHECK (write_file_atomic (path, "one\n", 4) == 0);
  check_content (path, "one\n");
  CHECK (write_file_atomic (path, "two", 3) == 0);
  check_content (path, "two");
  /* No temporary file left behind. */
  CHECK (count_entries (dir) == 1);
  CHECK (fsync_dir_of (path) == 0);
  CHECK (write_file_atomic (missing, "x", 1) == -1);
  CHECK (fsync_dir_of (missing) == -1);
  unlink (path);
  rmdir (dir);
  return UNIT_RESULT ("test-file");
}
