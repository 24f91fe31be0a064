/* Unit tests for replicate/nbdkit/spawn.c with nbdkit's null plugin:
 * it serves, stops and leaves nothing behind; a plugin that fails is
 * seen to exit, with its error in the log; no nbdkit is exit 127.
 * Skipped (77) without nbdkit. */
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/nbdkit/spawn.h"

static void
test_serves (void)
{
  struct nbdkit_child k;
  const char *args[] = { "null", NULL, NULL };
  CLEANUP_FREE char *dir = NULL;
  struct stat st;
  int status = 0;

  CHECK (nbdkit_child_init (&k, "azprep-test", false) == 0);
  args[1] = nbdkit_child_arg (&k, "size=%d", 1 << 20);
  CHECK_STR (args[1], "size=1048576");
  CHECK (nbdkit_child_start (&k, args, 30, &status) == NBDKIT_SERVING);
  CHECK (stat (k.sock, &st) == 0 && S_ISSOCK (st.st_mode));
  CHECK (stat (k.dir, &st) == 0 && (st.st_mode & 077) == 0);
  status = nbdkit_child_stop (&k);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  CHECK (nbdkit_child_stop (&k) == 0);
  dir = xstrdup (k.dir);
  nbdkit_child_free (&k);
  CHECK (dir && access (dir, F_OK) == -1);
}

static void
test_fails (void)
{
  struct nbdkit_child k;
  const char *args[] = { "null", "nosuchparameter=1", NULL };
  CLEANUP_FREE char *why = NULL;
  int status = 0;

  CHECK (nbdkit_child_init (&k, "azprep-test", true) == 0);
  CHECK (nbdkit_child_start (&k, args, 30, &status) == NBDKIT_EXITED);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) != 0 &&
         WEXITSTATUS (status) != 127);
  why = nbdkit_child_log_line (&k);
  CHECK (why && strstr (why, "nosuchparameter"));
  nbdkit_child_free (&k);
}

static void
test_missing (void)
{
  struct nbdkit_child k;
  const char *args[] = { "null", NULL };
  const char *path = getenv ("PATH");
  CLEANUP_FREE char *saved = path ? xstrdup (path) : NULL;
  int status = 0;

  CHECK (nbdkit_child_init (&k, "azprep-test", true) == 0);
  setenv ("PATH", "/nonexistent", 1);
  CHECK (nbdkit_child_start (&k, args, 30, &status) == NBDKIT_EXITED);
  CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 127);
  if (saved)
    setenv ("PATH", saved, 1);
  nbdkit_child_free (&k);
}

int
main (void)
{
  if (system ("nbdkit null --version >/dev/null 2>&1") != 0) {
    printf ("test-spawn: skipped (no nbdkit)\n");
    return 77;
  }
  test_serves ();
  test_fails ();
  test_missing ();
  return UNIT_RESULT ("test-spawn");
}
