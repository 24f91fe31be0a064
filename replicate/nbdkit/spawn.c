/* nbdkit as a child process: see replicate/nbdkit/spawn.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/nbdkit/spawn.h"

int
nbdkit_child_init (struct nbdkit_child *k, const char *prefix, bool with_log)
{
  const char *tmpdir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
  struct sockaddr_un sa;

  memset (k, 0, sizeof *k);
  k->dir = xasprintf ("%s/%s-XXXXXX", tmpdir, prefix);
  if (!k->dir)
    return -1;
  if (!mkdtemp (k->dir)) {
    azp_error ("%s: cannot create the bridge directory: %m", k->dir);
    free (k->dir);
    k->dir = NULL;
    return -1;
  }
  k->sock = nbdkit_child_path (k, "sock");
  k->pidfile = nbdkit_child_path (k, "pid");
  k->log = with_log ? nbdkit_child_path (k, "nbdkit.log") : NULL;
  if (!k->sock || !k->pidfile || (with_log && !k->log))
    return -1;
  if (strlen (k->sock) >= sizeof sa.sun_path) {
    azp_error ("%s: socket path too long (set TMPDIR shorter)", k->sock);
    return -1;
  }
  return 0;
}

char *
nbdkit_child_path (const struct nbdkit_child *k, const char *name)
{
  return xasprintf ("%s/%s", k->dir, name);
}

const char *
nbdkit_child_arg (struct nbdkit_child *k, const char *fmt, ...)
{
  char **na = realloc (k->args, (k->nargs + 1) * sizeof *na);
  va_list ap;
  int r;

  if (!na) {
    azp_error ("out of memory");
    return NULL;
  }
  k->args = na;
  va_start (ap, fmt);
  r = vasprintf (&k->args[k->nargs], fmt, ap);
  va_end (ap);
  if (r == -1) {
    azp_error ("out of memory");
    return NULL;
  }
  return k->args[k->nargs++];
}

/* In the child: stdout belongs to azprep's output, so nbdkit's goes to
 * stderr, or both to the log. */
static void
child_exec (const struct nbdkit_child *k, char **argv, char **envp)
{
  int nfd = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (nfd >= 0)
    dup2 (nfd, STDIN_FILENO);
  if (k->log) {
    int lfd = open (k->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (lfd >= 0)
      dup2 (lfd, STDERR_FILENO);
    if (nfd >= 0)
      dup2 (nfd, STDOUT_FILENO);
  }
  else
    dup2 (STDERR_FILENO, STDOUT_FILENO);
  execvpe ("nbdkit", argv, envp);
  fprintf (stderr, "azprep: nbdkit: %m\n");
  _exit (127);
}

int
nbdkit_child_spawn (struct nbdkit_child *k, const char *const *args)
{
  const char *fixed[] = { "nbdkit", "-f", "--exit-with-parent",
                          "-U", k->sock, "-P", k->pidfile };
  const size_t nfixed = sizeof fixed / sizeof fixed[0];
  size_t nargs = 0;
  CLEANUP_FREE const char **argv = NULL;
  CLEANUP_FREE char **envp = NULL;
  size_t nenv = 0;

  /* nbdkit and its scripts (the bridge's cookie script) get azprep's
   * environment without the vCenter password (the session cookie is
   * their credential). */
  while (environ[nenv])
    nenv++;
  envp = calloc (nenv + 2, sizeof *envp);
  if (!envp) {
    azp_error ("out of memory");
    return -1;
  }
  nenv = 0;
  for (char **e = environ; *e; e++)
    if (strncmp (*e, "VSPHERE_PASSWORD=", 17))
      envp[nenv++] = *e;
#ifdef AZPREP_ASAN_PRELOAD
  /* make check-asan: the sanitized plugin needs libasan loaded first. */
  envp[nenv++] = (char *) "LD_PRELOAD=" AZPREP_ASAN_PRELOAD;
#endif
  while (args[nargs])
    nargs++;
  argv = calloc (nfixed + nargs + 1, sizeof *argv);
  if (!argv) {
    azp_error ("out of memory");
    return -1;
  }
  memcpy (argv, fixed, sizeof fixed);
  memcpy (argv + nfixed, args, nargs * sizeof *argv);
  k->pid = fork ();
  if (k->pid == -1) {
    k->pid = 0;
    azp_error ("fork: %m");
    return -1;
  }
  if (k->pid == 0)
    child_exec (k, (char **) argv, envp);
  azp_debug ("nbdkit (pid %d) on %s", (int) k->pid, k->sock);
  return 0;
}

enum nbdkit_start
nbdkit_child_wait (struct nbdkit_child *k, int timeout, int *status)
{
  if (k->pid <= 0)
    return NBDKIT_FAILED;
  /* Every 5 ms: nbdkit serves within tens of milliseconds. */
  for (int i = 0; i <= timeout * 200; i++) {
    if (access (k->pidfile, F_OK) == 0)
      return NBDKIT_SERVING;
    if (waitpid (k->pid, status, WNOHANG) == k->pid) {
      k->pid = 0;
      return NBDKIT_EXITED;
    }
    usleep (5000);
  }
  return NBDKIT_TIMEOUT;
}

enum nbdkit_start
nbdkit_child_start (struct nbdkit_child *k, const char *const *args,
                    int timeout, int *status)
{
  if (nbdkit_child_spawn (k, args) == -1)
    return NBDKIT_FAILED;
  return nbdkit_child_wait (k, timeout, status);
}

char *
nbdkit_child_log_line (const struct nbdkit_child *k)
{
  char buf[1024];
  ssize_t r;
  int fd = k->log ? open (k->log, O_RDONLY | O_CLOEXEC) : -1;

  if (fd == -1)
    return xstrdup ("");
  r = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[r > 0 ? r : 0] = '\0';
  return first_line (buf);
}

int
nbdkit_child_stop (struct nbdkit_child *k)
{
  int status = 0;

  if (k->pid <= 0)
    return 0;
  /* nbdkit quits on SIGQUIT as on SIGTERM, which a replication's
   * children have blocked (replicate/engine/signals.c). */
  kill (k->pid, SIGQUIT);
  while (waitpid (k->pid, &status, 0) == -1 && errno == EINTR)
    ;
  k->pid = 0;
  return status;
}

/* Every file in DIR (nbdkit's and the caller's), then DIR. */
static void
remove_dir (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;

  if (d) {
    while ((e = readdir (d)) != NULL)
      if (strcmp (e->d_name, ".") && strcmp (e->d_name, ".."))
        unlinkat (dirfd (d), e->d_name, 0);
    closedir (d);
  }
  rmdir (dir);
}

void
nbdkit_child_free (struct nbdkit_child *k)
{
  nbdkit_child_stop (k);
  if (k->dir)
    remove_dir (k->dir);
  free (k->dir);
  free (k->sock);
  free (k->pidfile);
  free (k->log);
  for (size_t i = 0; i < k->nargs; i++)
    free (k->args[i]);
  free (k->args);
  memset (k, 0, sizeof *k);
}
