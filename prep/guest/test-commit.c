/* Host-side tests of the commit and the disk locks, on real raw and
 * qcow2 files with real qemu-img overlays (no appliance):
 *  - the undo journal (guest bytes) is 0600 and written under a name
 *    nobody can plant: a symlink at the old predictable name is not
 *    followed; the same for the qcow2 copy and the --output file;
 *  - a commit killed half-way is rolled back by commit_recover;
 *  - the locks: exclusive excludes everything, shared excludes a fix,
 *    and a reader never rolls back while another reader holds the disk.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "prep/common/unit.h"

#define SIZE (1 << 20)

static char dir[] = "/tmp/azprep-test-commit.XXXXXX";

static char *
in_dir (const char *name)
{
  return xasprintf ("%s/%s", dir, name);
}

static int
run (const char *const *argv)
{
  CLEANUP_FREE char *out = NULL, *err = NULL;
  int r = run_command_full (&out, &err, argv);
  if (r != 0)
    fprintf (stderr, "%s: %s\n", argv[0], err ? err : "");
  return r;
}

static void
write_bytes (const char *path, char c, size_t n)
{
  FILE *fp = fopen (path, "w");
  for (size_t i = 0; fp && i < n; i++)
    fputc (c, fp);
  if (fp)
    fclose (fp);
}

/* Is every byte of [0, n) of the raw file c? */
static bool
all_bytes (const char *path, char c, size_t n)
{
  FILE *fp = fopen (path, "r");
  bool ok = fp != NULL;
  for (size_t i = 0; ok && i < n; i++)
    ok = fgetc (fp) == c;
  if (fp)
    fclose (fp);
  return ok;
}

static mode_t
mode_of (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0 ? st.st_mode & 07777 : (mode_t) -1;
}

/* Entries of dir other than . and .. whose name starts with prefix. */
static int
count_prefixed (const char *prefix)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir (d)))
    n += !strncmp (e->d_name, prefix, strlen (prefix));
  if (d)
    closedir (d);
  return n;
}

/* A qcow2 overlay of disk (format fmt) whose first 64 KiB are 'B'. */
static char *
make_overlay (const char *disk, const char *fmt, const char *name)
{
  char *ovl = in_dir (name);
  const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2",
                           "-b", disk, "-F", fmt, ovl, NULL };
  const char *write[] = { "qemu-io", "-f", "qcow2", "-c",
                          "write -P 0x42 0 65536", ovl, NULL };
  if (!ovl || run (create) != 0 || run (write) != 0) {
    failures++;
    free (ovl);
    return NULL;
  }
  return ovl;
}

static void
test_raw (const char *victim)
{
  CLEANUP_FREE char *disk = in_dir ("raw.img");
  CLEANUP_FREE char *undo = in_dir ("raw.img.azprep-undo");
  CLEANUP_FREE char *planted = in_dir ("raw.img.azprep-undo.tmp");
  CLEANUP_FREE char *ovl = NULL;
  struct disk d = { .format = (char *) "raw", .size = SIZE, .lock_fd = -1 };
  struct guest gs = { .disks = &d, .ndisks = 1 };
  int status = 0;
  pid_t pid;

  write_bytes (disk, 'A', SIZE);
  d.path = disk;
  d.overlay = ovl = make_overlay (disk, "raw", "raw.ovl");
  if (!ovl)
    return;
  CHECK (symlink (victim, planted) == 0);

  /* Die after the first write of phase 2: the journal is complete. */
  pid = fork ();
  if (pid == 0) {
    setenv ("AZPREP_TEST_DIE_IN_COMMIT", "1", 1);
    _exit (guest_commit (&gs) == 0 ? 0 : 1);
  }
  CHECK (waitpid (pid, &status, 0) == pid);
  CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  CHECK (!all_bytes (disk, 'A', SIZE));
  CHECK (mode_of (undo) == 0600);
  CHECK (all_bytes (victim, 'V', 6));
  CHECK (commit_recover (disk) == 0);
  CHECK (all_bytes (disk, 'A', SIZE));
  CHECK (access (undo, F_OK) == -1);

  /* A whole commit: the overlay's bytes, no journal, nothing left. */
  CHECK (guest_commit (&gs) == 0);
  CHECK (all_bytes (disk, 'B', 65536));
  CHECK (access (undo, F_OK) == -1);
  CHECK (all_bytes (victim, 'V', 6));
  CHECK (count_prefixed ("raw.img.") == 1);     /* the planted link */
  unlink (planted);
  unlink (ovl);
  unlink (disk);
}

static void
test_qcow2_and_output (const char *victim)
{
  CLEANUP_FREE char *raw = in_dir ("src.raw");
  CLEANUP_FREE char *disk = in_dir ("q.qcow2");
  CLEANUP_FREE char *planted = in_dir ("q.qcow2.azprep-new");
  CLEANUP_FREE char *out = in_dir ("out.raw");
  CLEANUP_FREE char *planted_out = in_dir ("out.raw.azprep-tmp");
  CLEANUP_FREE char *ovl = NULL;
  const char *conv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O",
                         "qcow2", raw, disk, NULL };
  const char *verify[] = { "qemu-io", "-f", "qcow2", "-c",
                           "read -P 0x42 0 65536", disk, NULL };
  struct disk d = { .format = (char *) "qcow2", .size = SIZE,
                    .lock_fd = -1 };
  struct guest gs = { .disks = &d, .ndisks = 1 };
  char *outputs[] = { out, NULL };

  write_bytes (raw, 'A', SIZE);
  if (run (conv) != 0) {
    failures++;
    return;
  }
  d.path = disk;
  d.overlay = ovl = make_overlay (disk, "qcow2", "q.ovl");
  if (!ovl)
    return;
  CHECK (symlink (victim, planted) == 0);
  CHECK (symlink (victim, planted_out) == 0);
  umask (022);
  CHECK (guest_write_output (&gs, outputs, "raw") == 0);
  CHECK (all_bytes (out, 'B', 65536));
  CHECK (mode_of (out) == 0600);
  CHECK (guest_commit (&gs) == 0);
  CHECK (run (verify) == 0);
  CHECK (all_bytes (victim, 'V', 6));
  CHECK (count_prefixed ("q.qcow2.") == 1);
  CHECK (count_prefixed ("out.raw.") == 1);
  unlink (planted);
  unlink (planted_out);
  unlink (ovl);
  unlink (out);
  unlink (disk);
  unlink (raw);
}

/* Can another open file description take the lock (op)? */
static bool
other_can (const char *path, int op)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  bool ok = fd >= 0 && flock (fd, op | LOCK_NB) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

static void
test_locks (void)
{
  CLEANUP_FREE char *disk = in_dir ("lock.img");
  CLEANUP_FREE char *undo = in_dir ("lock.img.azprep-undo");
  struct disk a = { .lock_fd = -1 }, b = { .lock_fd = -1 };
  FILE *fp;

  write_bytes (disk, 'A', 4096);
  a.path = b.path = disk;
  CHECK (disk_lock (&a, true) == 0);
  CHECK (!other_can (disk, LOCK_SH));
  CHECK (disk_lock (&b, false) == -1 && !b.locked);
  disk_unlock (&a);
  CHECK (other_can (disk, LOCK_EX));

  /* Readers share; a fix is refused while one reads. */
  CHECK (disk_lock_and_recover (&a, false) == 0 && a.locked &&
         !a.exclusive);
  CHECK (disk_lock_and_recover (&b, false) == 0);
  CHECK (!other_can (disk, LOCK_EX));
  disk_unlock (&b);
  CHECK (disk_lock_and_recover (&b, true) == -1);

  /* A dead fix's journal while another reader holds the disk: refused,
   * nothing rolled back. */
  fp = fopen (undo, "w");
  if (fp) {
    fputs ("AZPREP-UNDO-1\n4096\n0 1\nBend\n", fp);
    fclose (fp);
  }
  CHECK (disk_lock_and_recover (&b, false) == -1 && !b.locked);
  CHECK (access (undo, F_OK) == 0 && all_bytes (disk, 'A', 4096));
  /* Alone, a reader rolls it back and keeps a shared lock. */
  disk_unlock (&a);
  CHECK (disk_lock_and_recover (&b, false) == 0 && !b.exclusive);
  CHECK (access (undo, F_OK) == -1 && all_bytes (disk, 'B', 1));
  CHECK (other_can (disk, LOCK_SH) && !other_can (disk, LOCK_EX));
  disk_unlock (&b);
  unlink (disk);
}

int
main (void)
{
  const char *need[] = { "qemu-img", "--version", NULL };
  const char *need2[] = { "qemu-io", "--version", NULL };
  CLEANUP_FREE char *victim = NULL;

  if (run (need) != 0 || run (need2) != 0) {
    printf ("SKIP: test-commit needs qemu-img and qemu-io\n");
    return 77;
  }
  if (!mkdtemp (dir))
    return 1;
  victim = in_dir ("victim");
  write_bytes (victim, 'V', 6);
  test_raw (victim);
  test_qcow2_and_output (victim);
  test_locks ();
  unlink (victim);
  CHECK (rmdir (dir) == 0);
  return UNIT_RESULT ("test-commit");
}
