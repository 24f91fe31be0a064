/* nbdkit + the azblob plugin as a child process: see bridge.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "replicate/migrate/blob-export.h"

#ifndef AZPREP_PLUGINDIR
#define AZPREP_PLUGINDIR "/usr/local/lib/azprep"
#endif

struct bridge {
  pid_t pid;
  char *dir;            /* private directory: sock, pid, stats */
  char *server;         /* unix:DIR/sock */
  char *name;           /* the blob URL, for messages */
};

char *
bridge_plugin_path (void)
{
  const char *env = getenv ("AZPREP_NBDKIT_PLUGIN");
  char self[PATH_MAX];
  ssize_t n;

  if (env && *env) {
    if (access (env, R_OK) == 0)
      return xstrdup (env);
    azp_error ("AZPREP_NBDKIT_PLUGIN=%s: %m", env);
    return NULL;
  }
  n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    char *slash, *p;
    self[n] = '\0';
    slash = strrchr (self, '/');
    if (slash) {
      *slash = '\0';
      p = xasprintf ("%s/build/nbdkit-azblob.so", self);
      if (p && access (p, R_OK) == 0)
        return p;
      free (p);
    }
  }
  if (access (AZPREP_PLUGINDIR "/nbdkit-azblob.so", R_OK) == 0)
    return xstrdup (AZPREP_PLUGINDIR "/nbdkit-azblob.so");
  azp_error ("the nbdkit plugin nbdkit-azblob.so is not built or installed "
             "(make; or set AZPREP_NBDKIT_PLUGIN)");
  return NULL;
}

static void
bridge_free (struct bridge *b)
{
  if (!b)
    return;
  if (b->dir) {
    const char *files[] = { "sock", "pid", "stats", "stats.tmp", NULL };
    for (size_t i = 0; files[i]; i++) {
      CLEANUP_FREE char *f = xasprintf ("%s/%s", b->dir, files[i]);
      if (f)
        unlink (f);
    }
    rmdir (b->dir);
  }
  free (b->dir);
  free (b->server);
  free (b->name);
  free (b);
}

struct bridge *
bridge_start (const char *url, const struct bridge_opts *o)
{
  const char *tmpdir = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";
  CLEANUP_FREE char *plugin = bridge_plugin_path ();
  CLEANUP_FREE char *sock = NULL, *pidf = NULL, *a_url = NULL,
    *a_stats = NULL, *a_lease = NULL, *a_creds = NULL,
    *a_ca = NULL;
  struct bridge *b;
  const char *argv[32];
  size_t i = 0;
  struct timespec start, now;

  if (!plugin)
    return NULL;
  b = calloc (1, sizeof *b);
  if (!b) {
    azp_error ("out of memory");
    return NULL;
  }
  b->pid = -1;
  if (strchr (url, '?')) {
    azp_error ("bridge: a blob URL with a query (SAS) would go on nbdkit's "
               "command line: give the credentials in the environment");
    goto fail;
  }
  b->name = xstrdup (url);
  b->dir = xasprintf ("%s/azprep-nbd-XXXXXX", tmpdir);
  if (!b->name || !b->dir)
    goto fail;
  if (!mkdtemp (b->dir)) {
    azp_error ("%s: cannot create the bridge directory: %m", b->dir);
    free (b->dir);
    b->dir = NULL;
    goto fail;
  }
  sock = xasprintf ("%s/sock", b->dir);
  pidf = xasprintf ("%s/pid", b->dir);
  b->server = xasprintf ("unix:%s", sock);
  a_url = xasprintf ("url=%s", url);
  a_stats = xasprintf ("stats=%s/stats", b->dir);
  if (!sock || !pidf || !b->server || !a_url || !a_stats)
    goto fail;

  argv[i++] = "nbdkit";
  argv[i++] = "-U";
  argv[i++] = sock;
  argv[i++] = "-P";
  argv[i++] = pidf;
  argv[i++] = "--exit-with-parent";
  if (o->readonly)
    argv[i++] = "-r";
  if (log_verbose () > 1)
    argv[i++] = "-v";
  /* The appliance reads some blocks many times (each mount, each hive
   * open): nbdkit's cache filter keeps what was read in a local
   * temporary file, so each block travels once.  Writes go through to
   * the blob before they are acknowledged, as without it. */
  argv[i++] = "--filter=cache";
  argv[i++] = plugin;
  argv[i++] = a_url;
  argv[i++] = a_stats;
  argv[i++] = "cache=writethrough";
  argv[i++] = "cache-on-read=true";
  argv[i++] = "cache-min-block-size=4096";
  if (o->lease_id && (a_lease = xasprintf ("lease=%s", o->lease_id)))
    argv[i++] = a_lease;
  if (o->creds_file && (a_creds = xasprintf ("credentials=%s", o->creds_file)))
    argv[i++] = a_creds;
  if (o->cacert && (a_ca = xasprintf ("cacert=%s", o->cacert)))
    argv[i++] = a_ca;
  argv[i] = NULL;

  azp_debug ("bridge: starting nbdkit for %s on %s", b->name, sock);
  b->pid = fork ();
  if (b->pid == -1) {
    azp_error ("fork: %m");
    goto fail;
  }
  if (b->pid == 0) {
    /* stdout belongs to azprep's output; nbdkit logs on stderr. */
    dup2 (STDERR_FILENO, STDOUT_FILENO);
    execvp ("nbdkit", (char **) argv);
    fprintf (stderr, "azprep: nbdkit: %m\n");
    _exit (127);
  }

  /* Ready when the pid file exists (nbdkit writes it once it accepts
   * connections); the plugin fetches the blob's size before that. */
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;) {
    int status;
    if (access (pidf, F_OK) == 0)
      return b;
    if (waitpid (b->pid, &status, WNOHANG) == b->pid) {
      b->pid = -1;
      azp_error ("%s: nbdkit failed to serve the blob (its error is above)",
                 b->name);
      goto fail;
    }
    clock_gettime (CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec > 120) {
      azp_error ("%s: nbdkit did not start in 120 s", b->name);
      goto fail;
    }
    usleep (20000);
  }

 fail:
  if (b->pid > 0) {
    kill (b->pid, SIGTERM);
    waitpid (b->pid, NULL, 0);
  }
  bridge_free (b);
  return NULL;
}

const char *
bridge_server (const struct bridge *b)
{
  return b->server;
}

static int
read_stats (struct bridge *b, struct bridge_stats *st)
{
  CLEANUP_FREE char *path = xasprintf ("%s/stats", b->dir);
  CLEANUP_FCLOSE FILE *fp = NULL;
  char buf[4096];
  size_t n;
  cJSON *j;

  if (!path)
    return -1;
  fp = fopen (path, "r");
  if (!fp) {
    azp_error ("%s: the bridge left no counters (%s: %m)", b->name, path);
    return -1;
  }
  n = fread (buf, 1, sizeof buf - 1, fp);
  buf[n] = '\0';
  j = cJSON_Parse (buf);
  if (!j) {
    azp_error ("%s: unreadable bridge counters", b->name);
    return -1;
  }
#define GET(f) do { cJSON *v = cJSON_GetObjectItem (j, #f);             \
    st->f = cJSON_IsNumber (v) ? (uint64_t) v->valuedouble : 0; } while (0)
  GET (size); GET (bytes_read); GET (reads); GET (bytes_written);
  GET (writes); GET (bytes_cleared); GET (clears);
#undef GET
  cJSON_Delete (j);
  return 0;
}

int
bridge_stop (struct bridge *b, struct bridge_stats *st)
{
  int status = 0, r = 0;

  if (!b)
    return 0;
  if (b->pid > 0) {
    kill (b->pid, SIGTERM);
    while (waitpid (b->pid, &status, 0) == -1 && errno == EINTR)
      ;
    if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
      azp_error ("%s: nbdkit exited with an error (status %d)", b->name,
                 status);
      r = -1;
    }
  }
  if (st) {
    memset (st, 0, sizeof *st);
    if (read_stats (b, st) == -1)
      r = -1;
  }
  bridge_free (b);
  return r;
}
