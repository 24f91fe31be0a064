/* Unit tests of the atomic write and the directory fsync. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
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

static mode_t
mode_of (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0 ? st.st_mode & 07777 : (mode_t) -1;
}

/* A symlink planted at the name the temporary file once had
 * (PATH.tmp.PID) is not followed, the file is 0600 whatever the umask,
 * and the temporary names are not guessable. */
static void
test_planted (const char *dir)
{
  CLEANUP_FREE char *path = xasprintf ("%s/journal.json", dir);
  CLEANUP_FREE char *victim = xasprintf ("%s/victim", dir);
  CLEANUP_FREE char *old = xasprintf ("%s.tmp.%d", path, (int) getpid ());
  CLEANUP_FREE char *t1 = NULL, *t2 = NULL;
  FILE *fp = fopen (victim, "w");
  char buf[1];
  int fd1, fd2;

  if (fp) {
    fputs ("victim", fp);
    fclose (fp);
  }
  CHECK (symlink (victim, old) == 0);
  umask (022);
  CHECK (write_file_atomic (path, "secret", 6) == 0);
  check_content (path, "secret");
  check_content (victim, "victim");
  CHECK (mode_of (path) == 0600);
  /* The planted link is still a link to the untouched victim. */
  CHECK (mode_of (old) != (mode_t) -1 && readlink (old, buf, 1) == 1);

  fd1 = create_temp_beside (path, ".x", &t1);
  fd2 = create_temp_beside (path, ".x", &t2);
  CHECK (fd1 >= 0 && fd2 >= 0);
  if (fd1 >= 0 && fd2 >= 0) {
    CHECK (strcmp (t1, t2) != 0);
    CHECK (mode_of (t1) == 0600);
    CHECK (fcntl (fd1, F_GETFD) & FD_CLOEXEC);
  }
  if (fd1 >= 0)
    close (fd1), unlink (t1);
  if (fd2 >= 0)
    close (fd2), unlink (t2);
  unlink (old);
  unlink (path);
  unlink (victim);
}

/* mkdir -p: parents made, the last one exactly 0700 whatever the
 * umask, existing directories kept, a file in the way refused. */
static void
test_make_dirs (const char *dir)
{
  CLEANUP_FREE char *deep = xasprintf ("%s/a//b/c/", dir);
  CLEANUP_FREE char *c = xasprintf ("%s/a/b/c", dir);
  CLEANUP_FREE char *b = xasprintf ("%s/a/b", dir);
  CLEANUP_FREE char *a = xasprintf ("%s/a", dir);
  CLEANUP_FREE char *f = xasprintf ("%s/a/file", dir);
  CLEANUP_FREE char *under = xasprintf ("%s/a/file/d", dir);
  FILE *fp;

  umask (0);
  CHECK (make_dirs (deep, 0700) == 0);
  CHECK (mode_of (c) == 0700);
  CHECK (mode_of (a) == 0777);
  CHECK (chmod (c, 0750) == 0);
  CHECK (make_dirs (c, 0700) == 0);       /* kept as it was */
  CHECK (mode_of (c) == 0750);
  umask (077);
  CHECK (make_dirs (c, 0700) == 0);
  if ((fp = fopen (f, "w")))
    fclose (fp);
  CHECK (make_dirs (f, 0700) == -1);
  CHECK (make_dirs (under, 0700) == -1);
  CHECK (make_dirs ("", 0700) == -1);
  CHECK (make_dirs ("/", 0700) == 0);
  unlink (f);
  rmdir (c);
  rmdir (b);
  rmdir (a);
  umask (022);
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
  test_planted (dir);
  test_make_dirs (dir);
  CHECK (count_entries (dir) == 0);
  rmdir (dir);
  return UNIT_RESULT ("test-file");
}
