/* nbdkit + the azblob plugin as a child process: see blob-export.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "replicate/migrate/blob-export.h"
#include "replicate/nbdkit/spawn.h"

#ifndef AZPREP_PLUGINDIR
#define AZPREP_PLUGINDIR "/usr/local/lib/azprep"
#endif

struct blob_export {
  struct nbdkit_child nbdkit;  /* its directory holds sock, pid, stats */
  char *server;                /* unix:DIR/sock */
  char *name;                  /* the blob URL, for messages */
  /* Entra ID: DIR/token, kept fresh by the refresher thread. */
  struct token_source *tokens;
  char *token_path;
  time_t token_expires;        /* of the token in the file */
  pthread_t refresher;
  bool refreshing, stop;
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

/* Write the current token to DIR/token (0600 in the private directory)
 * if it is not the one there already.  0 or -1 (reported).
 */
static int
token_write (struct blob_export *b)
{
  time_t exp = 0;
  char *tok = token_source_get (b->tokens, &exp);
  int r = 0;

  if (!tok)
    return -1;
  if (exp != b->token_expires || exp == 0) {
    r = write_file_atomic (b->token_path, tok, strlen (tok));
    if (r == -1)
      azp_error ("%s: %m", b->token_path);
    else
      b->token_expires = exp;
  }
  memset (tok, 0, strlen (tok));
  free (tok);
  return r;
}

/* Renew the token file every second while nbdkit serves (the source
 * only fetches a new token when the old one nears its expiry). */
static void *
token_refresher (void *opaque)
{
  struct blob_export *b = opaque;
  int wait = 0;

  pthread_mutex_lock (&b->lock);
  while (!b->stop) {
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    if (pthread_cond_timedwait (&b->cond, &b->lock, &ts) != ETIMEDOUT ||
        b->stop)
      continue;
    if (wait > 0 && wait--)
      continue;
    pthread_mutex_unlock (&b->lock);
    /* After a failure (reported), try again in 10 s. */
    if (token_write (b) == -1)
      wait = 10;
    pthread_mutex_lock (&b->lock);
  }
  pthread_mutex_unlock (&b->lock);
  return NULL;
}

char *
blob_export_plugin_path (void)
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
blob_export_free (struct blob_export *b)
{
  if (!b)
    return;
  if (b->refreshing) {
    pthread_mutex_lock (&b->lock);
    b->stop = true;
    pthread_cond_signal (&b->cond);
    pthread_mutex_unlock (&b->lock);
    pthread_join (b->refresher, NULL);
  }
  pthread_mutex_destroy (&b->lock);
  pthread_cond_destroy (&b->cond);
  free (b->token_path);
  nbdkit_child_free (&b->nbdkit);
  free (b->server);
  free (b->name);
  free (b);
}

/* The storage credentials of azprep's environment (which azprep took
 * out of it: nbdkit inherits none) into DIR/credentials, mode 0600 in
 * the bridge's private directory.  *path NULL when there are none.
 * 0 or -1 (reported). */
static int
write_env_creds (struct nbdkit_child *k, char **path)
{
  static const char *const vars[] = {
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
  };
  CLEANUP_CLOSE int fd = -1;
  int r = 0;

  *path = NULL;
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = secret_env (vars[i]);
    if (!v || !*v)
      continue;
    if (fd == -1) {
      *path = nbdkit_child_path (k, "credentials");
      if (!*path)
        return -1;
      fd = open (*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                 0600);
      if (fd == -1) {
        azp_error ("%s: %m", *path);
        return -1;
      }
    }
    if (dprintf (fd, "%s=%s\n", vars[i], v) < 0)
      r = -1;
  }
  if (r == -1)
    azp_error ("%s: cannot write the bridge's credentials: %m", *path);
  return r;
}

/* nbdkit's arguments after its own: options, the plugin, parameters. */
static int
export_args (struct nbdkit_child *k, const char *argv[], const char *plugin,
             const char *url, const struct blob_export_opts *o,
             char **env_creds)
{
  const char *a[7];
  const char *creds = o->creds_file;
  size_t i = 0;

  if (!creds) {
    if (write_env_creds (k, env_creds) == -1)
      return -1;
    creds = *env_creds;
  }
  a[0] = nbdkit_child_arg (k, "url=%s", url);
  a[1] = nbdkit_child_arg (k, "stats=%s/stats", k->dir);
  a[2] = o->lease_id ? nbdkit_child_arg (k, "lease=%s", o->lease_id) : NULL;
  a[3] = creds ? nbdkit_child_arg (k, "credentials=%s", creds) : NULL;
  a[4] = o->cacert ? nbdkit_child_arg (k, "cacert=%s", o->cacert) : NULL;
  /* The path of the token, never the token. */
  a[5] = o->tokens ? nbdkit_child_arg (k, "token-file=%s/token", k->dir)
    : NULL;
  a[6] = o->allow_http ? "allow-http=true" : NULL;
  if (!a[0] || !a[1] || (o->lease_id && !a[2]) ||
      (creds && !a[3]) || (o->cacert && !a[4]) || (o->tokens && !a[5]))
    return -1;
  if (o->readonly)
    argv[i++] = "-r";
  if (log_verbose () > 1)
    argv[i++] = "-v";
  /* The appliance reads some blocks many times (each mount, each hive
   * open): nbdkit's cache filter keeps what was read in a local
   * temporary file, so each block travels once.  Writes go through to
   * the plugin, which gathers them into Put Pages of up to 4 MiB sent
   * at the appliance's flush (pageio.h). */
  argv[i++] = "--filter=cache";
  argv[i++] = plugin;
  argv[i++] = a[0];
  argv[i++] = a[1];
  argv[i++] = "cache=writethrough";
  argv[i++] = "cache-on-read=true";
  argv[i++] = "cache-min-block-size=4096";
  for (size_t j = 2; j < sizeof a / sizeof a[0]; j++)
    if (a[j])
      argv[i++] = a[j];
  argv[i] = NULL;
  return 0;
}

struct blob_export *
blob_export_start (const char *url, const struct blob_export_opts *o)
{
  CLEANUP_FREE char *plugin = blob_export_plugin_path ();
  const char *argv[24];
  CLEANUP_FREE char *env_creds = NULL;
  struct blob_export *b;
  enum nbdkit_start st;
  int status;

  if (!plugin)
    return NULL;
  if (strchr (url, '?')) {
    azp_error ("bridge: a blob URL with a query (SAS) would go on nbdkit's "
               "command line: give the credentials in the environment");
    return NULL;
  }
  b = calloc (1, sizeof *b);
  if (!b) {
    azp_error ("out of memory");
    return NULL;
  }
  pthread_mutex_init (&b->lock, NULL);
  pthread_cond_init (&b->cond, NULL);
  b->name = xstrdup (url);
  if (!b->name || nbdkit_child_init (&b->nbdkit, "azprep-nbd", false) == -1)
    goto fail;
  if (o->tokens) {
    b->tokens = o->tokens;
    b->token_path = nbdkit_child_path (&b->nbdkit, "token");
    if (!b->token_path || token_write (b) == -1)
      goto fail;
    if (pthread_create (&b->refresher, NULL, token_refresher, b) != 0) {
      azp_error ("pthread_create: %m");
      goto fail;
    }
    b->refreshing = true;
  }
  b->server = xasprintf ("unix:%s", b->nbdkit.sock);
  if (!b->server ||
      export_args (&b->nbdkit, argv, plugin, url, o, &env_creds) == -1)
    goto fail;

  azp_debug ("bridge: starting nbdkit for %s on %s", b->name, b->nbdkit.sock);
  /* Ready when the pid file exists (nbdkit writes it once it accepts
   * connections); the plugin fetches the blob's size before that. */
  st = nbdkit_child_start (&b->nbdkit, argv, 120, &status);
  /* The plugin read its credentials before serving: remove them. */
  if (env_creds)
    unlink (env_creds);
  if (st == NBDKIT_SERVING)
    return b;
  if (st == NBDKIT_EXITED)
    azp_error ("%s: nbdkit failed to serve the blob (its error is above)",
               b->name);
  else if (st == NBDKIT_TIMEOUT)
    azp_error ("%s: nbdkit did not start in 120 s", b->name);
 fail:
  if (env_creds)
    unlink (env_creds);
  blob_export_free (b);
  return NULL;
}

const char *
blob_export_server (const struct blob_export *b)
{
  return b->server;
}

static int
read_stats (struct blob_export *b, struct blob_export_stats *st)
{
  CLEANUP_FREE char *path = nbdkit_child_path (&b->nbdkit, "stats");
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
  GET (writes); GET (bytes_cleared); GET (clears); GET (client_writes);
  GET (write_errors);
#undef GET
  cJSON_Delete (j);
  if (st->write_errors) {
    azp_error ("%s: the bridge lost acknowledged writes (%llu failed Put "
               "Page)", b->name, (unsigned long long) st->write_errors);
    return -1;
  }
  return 0;
}

int
blob_export_stop (struct blob_export *b, struct blob_export_stats *st)
{
  int status, r = 0;

  if (!b)
    return 0;
  status = nbdkit_child_stop (&b->nbdkit);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0) {
    azp_error ("%s: nbdkit exited with an error (status %d)", b->name,
               status);
    r = -1;
  }
  if (st) {
    memset (st, 0, sizeof *st);
    if (read_stats (b, st) == -1)
      r = -1;
  }
  blob_export_free (b);
  return r;
}
