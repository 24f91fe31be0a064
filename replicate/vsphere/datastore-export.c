/* NBD bridge to a datastore file: nbdkit's curl plugin, read-only, on a
 * unix socket in a private directory.  The session cookie goes in a
 * 0600 file (cookie=+FILE), never on nbdkit's command line.  nbdkit
 * exits with azprep (--exit-with-parent).
 *
 * AZPREP_NBDKIT_STATS=FILE adds nbdkit's stats filter (bytes read),
 * for the tests and the benchmark.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/vsphere/vsphere.h"

struct vsphere_bridge {
  pid_t pid;
  char *dir, *sock, *cookie, *log, *uri;
};

static void
remove_files (struct vsphere_bridge *b)
{
  if (b->cookie) {
    /* Overwrite the secret before unlinking. */
    int fd = open (b->cookie, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st;
      if (fstat (fd, &st) == 0 && st.st_size > 0 && st.st_size < 65536) {
        char zero[65536] = { 0 };
        if (write (fd, zero, st.st_size) == -1)
          azp_debug ("%s: %m", b->cookie);
      }
      close (fd);
    }
    unlink (b->cookie);
  }
  if (b->sock)
    unlink (b->sock);
  if (b->log)
    unlink (b->log);
  if (b->dir)
    rmdir (b->dir);
}

void
vsphere_bridge_stop (struct vsphere_bridge *b)
{
  if (!b)
    return;
  if (b->pid > 0) {
    int status;
    kill (b->pid, SIGTERM);
    while (waitpid (b->pid, &status, 0) == -1 && errno == EINTR)
      ;
  }
  remove_files (b);
  free (b->dir); free (b->sock); free (b->cookie); free (b->log);
  free (b->uri);
  free (b);
}

const char *
vsphere_bridge_socket (const struct vsphere_bridge *b)
{
  return b->sock;
}

const char *
vsphere_bridge_uri (const struct vsphere_bridge *b)
{
  return b->uri;
}

static int
write_secret (const char *path, const char *s)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  size_t len = strlen (s);

  if (fd == -1) {
    azp_error ("%s: %m", path);
    return -1;
  }
  if (write (fd, s, len) != (ssize_t) len || close (fd) == -1) {
    azp_error ("%s: %m", path);
    return -1;
  }
  return 0;
}

/* The first line of nbdkit's log, for a message. */
static char *
log_line (const char *log)
{
  char buf[1024];
  ssize_t r;
  int fd = open (log, O_RDONLY | O_CLOEXEC);

  if (fd == -1)
    return xstrdup ("");
  r = read (fd, buf, sizeof buf - 1);
  close (fd);
  buf[r > 0 ? r : 0] = '\0';
  return first_line (buf);
}

struct vsphere_bridge *
vsphere_bridge_start (struct vsphere *v, const char *url)
{
  const struct vsphere_opts *o = vsphere_options (v);
  const char *tmpdir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
  const char *stats = getenv ("AZPREP_NBDKIT_STATS");
  struct vsphere_bridge *b = calloc (1, sizeof *b);
  CLEANUP_FREE char *urlarg = NULL, *cookiearg = NULL, *caarg = NULL;
  CLEANUP_FREE char *statsarg = NULL;
  bool http = !strncmp (url, "http:", 5);
  const char *argv[32];
  size_t n = 0;

  if (!b) {
    azp_error ("out of memory");
    return NULL;
  }
  b->dir = xasprintf ("%s/azprep-vsphere-XXXXXX", tmpdir);
  if (!b->dir)
    goto fail;
  if (!mkdtemp (b->dir)) {
    azp_error ("%s: %m", b->dir);
    free (b->dir);
    b->dir = NULL;
    goto fail;
  }
  b->sock = xasprintf ("%s/nbd.sock", b->dir);
  b->cookie = xasprintf ("%s/cookie", b->dir);
  b->log = xasprintf ("%s/nbdkit.log", b->dir);
  b->uri = b->sock ? xasprintf ("nbd+unix:///?socket=%s", b->sock) : NULL;
  if (!b->sock || !b->cookie || !b->log || !b->uri)
    goto fail;
  if (strlen (b->sock) >= 108) {
    azp_error ("%s: socket path too long (set TMPDIR shorter)", b->sock);
    goto fail;
  }
  if (write_secret (b->cookie, vsphere_cookie (v)) == -1)
    goto fail;
  urlarg = xasprintf ("url=%s", url);
  cookiearg = xasprintf ("cookie=+%s", b->cookie);
  caarg = o->cacert ? xasprintf ("cainfo=%s", o->cacert) : NULL;
  statsarg = stats ? xasprintf ("statsfile=%s", stats) : NULL;
  if (!urlarg || !cookiearg || (o->cacert && !caarg) || (stats && !statsarg))
    goto fail;

  argv[n++] = "nbdkit";
  argv[n++] = "-f";
  argv[n++] = "--exit-with-parent";
  argv[n++] = "-r";
  argv[n++] = "-U";
  argv[n++] = b->sock;
  if (stats) {
    argv[n++] = "--filter=stats";
  }
  argv[n++] = "curl";
  argv[n++] = urlarg;
  argv[n++] = cookiearg;
  argv[n++] = http ? "protocols=http,https" : "protocols=https";
  argv[n++] = "followlocation=false";
  if (caarg)
    argv[n++] = caarg;
  if (o->insecure)
    argv[n++] = "sslverify=false";
  if (statsarg) {
    argv[n++] = statsarg;
    argv[n++] = "statsappend=true";
  }
  argv[n] = NULL;

  b->pid = fork ();
  if (b->pid == -1) {
    azp_error ("fork: %m");
    goto fail;
  }
  if (b->pid == 0) {
    int lfd = open (b->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int nfd = open ("/dev/null", O_RDWR | O_CLOEXEC);
    if (lfd >= 0)
      dup2 (lfd, 2);
    if (nfd >= 0) {
      dup2 (nfd, 0);
      dup2 (nfd, 1);
    }
    execvp (argv[0], (char **) argv);
    _exit (127);
  }
  azp_debug ("nbdkit bridge (pid %d) for %s", (int) b->pid, url);

  /* Wait for the socket, or for nbdkit to fail. */
  for (int i = 0; i < 600; i++) {
    struct timespec ts = { 0, 50000000 };
    int status;
    struct stat st;
    if (stat (b->sock, &st) == 0)
      return b;
    if (waitpid (b->pid, &status, WNOHANG) == b->pid) {
      CLEANUP_FREE char *why = log_line (b->log);
      b->pid = 0;
      if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
        azp_error ("nbdkit is not installed (needed to read vsphere:// disks)");
      else
        azp_error ("%s: the nbdkit bridge failed: %s", url, why ? why : "");
      goto fail;
    }
    nanosleep (&ts, NULL);
  }
  azp_error ("%s: the nbdkit bridge did not start within 30 seconds", url);

 fail:
  vsphere_bridge_stop (b);
  return NULL;
}
