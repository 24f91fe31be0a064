/* The datastore export, the NBD bridge to a datastore file: nbdkit's
 * curl plugin, read-only, on a unix socket in a private directory
 * (replicate/nbdkit/spawn.h).  nbdkit exits with azprep
 * (--exit-with-parent).
 *
 * The session cookie: a 0600 file in that directory, which the client
 * rewrites when it logs in again (vCenter ends idle sessions); nbdkit
 * reads it with a cookie script ("cat FILE": neither the password nor
 * the cookie is on a command line or in an environment) renewed every
 * second (cookie-script-renew).  The password never reaches the bridge.
 *
 * Reliability: curl's timeout per request, and two nbdkit filters: a
 * failed request (a reset, an HTTP 5xx, a 401 while the session is
 * renewed), the opening one included, is tried again twice after 1 s
 * (retry-request); if it still fails, the connection is reopened and
 * the read retried after 1, 2, 4, ... 32 s (retry: 6 retries, about a
 * minute) before it fails the cycle, naming the disk and offset.
 *
 * AZPREP_NBDKIT_STATS=FILE adds nbdkit's stats filter (bytes read),
 * for the tests and the benchmark.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/nbdkit/spawn.h"
#include "replicate/vsphere/vsphere.h"

struct datastore_export {
  struct nbdkit_child nbdkit;  /* its directory holds sock, the cookie */
  char *cookie, *uri;
  char *url;                   /* the datastore file, for messages */
  struct vsphere *v;           /* rewrites the cookie file */
};

/* Overwrite the secret before nbdkit_child_free unlinks it. */
static void
scrub (const char *path)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  struct stat st;

  if (fd < 0)
    return;
  if (fstat (fd, &st) == 0 && st.st_size > 0 && st.st_size < 65536) {
    char zero[65536] = { 0 };
    if (write (fd, zero, st.st_size) == -1)
      azp_debug ("%s: %m", path);
  }
  close (fd);
}

void
datastore_export_stop (struct datastore_export *b)
{
  if (!b)
    return;
  nbdkit_child_stop (&b->nbdkit);
  if (b->cookie && b->v)
    vsphere_cookie_file_remove (b->v, b->cookie);
  if (b->cookie)
    scrub (b->cookie);
  nbdkit_child_free (&b->nbdkit);
  free (b->cookie);
  free (b->uri);
  free (b->url);
  free (b);
}

const char *
datastore_export_socket (const struct datastore_export *b)
{
  return b->nbdkit.sock;
}

const char *
datastore_export_uri (const struct datastore_export *b)
{
  return b->uri;
}

/* nbdkit's curl plugin, read-only, for url. */
static int
export_args (struct nbdkit_child *k, const char *argv[],
             const struct vsphere_opts *o, const char *url,
             const char *cookie)
{
  const char *stats = getenv ("AZPREP_NBDKIT_STATS");
  bool http = !strncmp (url, "http:", 5);
  const char *a[4];
  size_t n = 0;

  a[0] = nbdkit_child_arg (k, "url=%s", url);
  /* The path is nbdkit_child's private directory (mkdtemp: no quote). */
  a[1] = nbdkit_child_arg (k, "cookie-script=exec cat '%s'", cookie);
  a[2] = o->cacert ? nbdkit_child_arg (k, "cainfo=%s", o->cacert) : NULL;
  a[3] = stats ? nbdkit_child_arg (k, "statsfile=%s", stats) : NULL;
  if (!a[0] || !a[1] || (o->cacert && !a[2]) || (stats && !a[3]))
    return -1;
  argv[n++] = "-r";
  argv[n++] = "--filter=retry";
  argv[n++] = "--filter=retry-request";
  if (stats)
    argv[n++] = "--filter=stats";
  argv[n++] = "curl";
  argv[n++] = a[0];
  argv[n++] = a[1];
  argv[n++] = "cookie-script-renew=1";
  argv[n++] = "timeout=300";
  argv[n++] = "retries=6";
  argv[n++] = "retry-delay=1";
  argv[n++] = "retry-exponential=yes";
  argv[n++] = "retry-request-retries=2";
  argv[n++] = "retry-request-delay=1";
  argv[n++] = http ? "protocols=http,https" : "protocols=https";
  argv[n++] = "followlocation=false";
  if (a[2])
    argv[n++] = a[2];
  if (o->insecure)
    argv[n++] = "sslverify=false";
  if (a[3]) {
    argv[n++] = a[3];
    argv[n++] = "statsappend=true";
  }
  argv[n] = NULL;
  return 0;
}

struct datastore_export *
datastore_export_spawn (struct vsphere *v, const char *url)
{
  struct datastore_export *b = calloc (1, sizeof *b);
  const char *argv[24];

  if (!b) {
    azp_error ("out of memory");
    return NULL;
  }
  if (nbdkit_child_init (&b->nbdkit, "azprep-vsphere", true) == -1)
    goto fail;
  b->cookie = nbdkit_child_path (&b->nbdkit, "cookie");
  b->v = v;
  b->url = xstrdup (url);
  b->uri = xasprintf ("nbd+unix:///?socket=%s", b->nbdkit.sock);
  if (!b->cookie || !b->uri || !b->url ||
      vsphere_cookie_file_add (v, b->cookie) == -1 ||
      export_args (&b->nbdkit, argv, vsphere_options (v), url,
                   b->cookie) == -1)
    goto fail;

  azp_debug ("nbdkit bridge for %s", url);
  if (nbdkit_child_spawn (&b->nbdkit, argv) == -1)
    goto fail;
  return b;
 fail:
  datastore_export_stop (b);
  return NULL;
}

int
datastore_export_ready (struct datastore_export *b)
{
  int status;

  switch (nbdkit_child_wait (&b->nbdkit, 30, &status)) {
  case NBDKIT_SERVING:
    azp_debug ("nbdkit bridge for %s serving", b->url);
    return 0;
  case NBDKIT_EXITED:
    if (WIFEXITED (status) && WEXITSTATUS (status) == 127)
      azp_error ("nbdkit is not installed (needed to read vsphere:// disks)");
    else {
      CLEANUP_FREE char *why = nbdkit_child_log_line (&b->nbdkit);
      azp_error ("%s: the nbdkit bridge failed: %s", b->url, why ? why : "");
    }
    break;
  case NBDKIT_TIMEOUT:
    azp_error ("%s: the nbdkit bridge did not start within 30 seconds",
               b->url);
    break;
  case NBDKIT_FAILED:
    break;
  }
  return -1;
}

struct datastore_export *
datastore_export_start (struct vsphere *v, const char *url)
{
  struct datastore_export *b = datastore_export_spawn (v, url);

  if (b && datastore_export_ready (b) == -1) {
    datastore_export_stop (b);
    return NULL;
  }
  return b;
}
