/* A job's state: the dispatch to a backend (see state.h) and the local
 * directory backend.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/engine/replicate.h"
#include "replicate/engine/state.h"

bool
replicate_valid_name (const char *n)
{
  if (!*n || strlen (n) > 200 || *n == '.' || *n == '-')
    return false;
  for (; *n; n++)
    if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
          (*n >= '0' && *n <= '9') || *n == '-' || *n == '_' || *n == '.'))
      return false;
  return true;
}

int
state_args_option (struct state_args *a, const char *cmd, int c,
                   const char *arg)
{
  int64_t t;

  switch (c) {
  case OPT_STATE_CONTAINER:
    if (!replicate_valid_name (arg))
      return usage_error (cmd, "--state-container: not a valid name");
    a->container = arg;
    return 0;
  case OPT_WAIT_LOCK:
    if (parse_int64 (arg, &a->wait_lock) == -1 || a->wait_lock < 0 ||
        a->wait_lock > 7 * 86400)
      return usage_error (cmd, "--wait-lock: 0 to 604800 seconds");
    return 0;
  case OPT_LEASE_SECONDS:
    if (parse_int64 (arg, &t) == -1 || t < 15 || t > 60)
      return usage_error (cmd, "--lease-seconds: 15 to 60");
    setenv (STATE_LEASE_ENV, arg, 1);
    return 0;
  default:
    return -1;
  }
}

int
state_args_check (const struct state_args *a, const char *cmd, bool locks)
{
  if (a->wait_lock && !locks)
    return usage_error (cmd, "--wait-lock: %s takes no lock on the job",
                        cmd);
  if (a->wait_lock && !a->container)
    return usage_error (cmd, "--wait-lock needs --state-container");
  return -1;
}

char *
state_worker_id (void)
{
  char host[256] = "";

  if (gethostname (host, sizeof host - 1) == -1 || !*host)
    snprintf (host, sizeof host, "unknown-host");
  return xasprintf ("%s/%ld", host, (long) getpid ());
}

/* The local directory, created 0700 if missing, checked. */
static int
make_dir (const char *dir)
{
  if (make_dirs (dir, 0700) == -1) {
    azp_error ("%s: cannot create the state directory", dir);
    return -1;
  }
  return replicate_check_state_dir (dir);
}

struct state *
state_open (const struct state_opts *o, const struct creds *cr,
            const struct blob_opts *bo)
{
  struct state *s = calloc (1, sizeof *s);

  if (!s) {
    azp_error ("out of memory");
    return NULL;
  }
  s->dir = o->dir ? xstrdup (o->dir) : replicate_default_state_dir ();
  if (!s->dir)
    goto fail;
  if (!o->container) {
    s->ops = &state_local_ops;
    s->where = xstrdup (s->dir);
    if (!s->where || (!o->readonly && make_dir (s->dir) == -1))
      goto fail;
    return s;
  }
  s->ops = &state_blob_ops;
  if ((!o->readonly && make_dir (s->dir) == -1) ||
      state_blob_init (s, o, cr, bo) == -1)
    goto fail;
  return s;
 fail:
  state_close (s);
  return NULL;
}

void
state_close (struct state *s)
{
  if (!s)
    return;
  if (s->ops && s->ops->close)
    s->ops->close (s);
  free (s->dir);
  free (s->where);
  free (s);
}

int
state_lock (struct state *s, const char *name, const char *what,
            bool present)
{
  return s->ops->lock (s, name, what, present);
}

int
state_remove (struct state *s, const struct journal *j)
{
  return s->ops->remove (s, j);
}

int
state_journal_load (struct state *s, const char *name, struct journal *j,
                    bool *exists)
{
  return s->ops->journal_load (s, name, j, exists);
}

struct manifest *
state_manifest_open (struct state *s, const struct journal *j, size_t i)
{
  return s->ops->manifest_open (s, j, i);
}

char **
state_list (struct state *s)
{
  return s->ops->list (s);
}

int
state_holder (struct state *s, const char *name, char **worker, bool *held)
{
  *worker = NULL;
  *held = false;
  return s->ops->holder ? s->ops->holder (s, name, worker, held) : 0;
}

const char *
state_where (const struct state *s)
{
  return s->where;
}

bool
state_remote (const struct state *s)
{
  return s->ops != &state_local_ops;
}

const volatile int *
state_fence (const struct state *s)
{
  return &s->lost;
}

/* The local directory. */

static int
local_lock (struct state *s, const char *name, const char *what,
            bool present)
{
  CLEANUP_FREE char *path = present ? replicate_journal_path (s->dir, name)
    : NULL;

  if (present && !path)
    return -1;
  if (replicate_lock_job (s->dir, name, what) == -1)
    return -1;
  return present && access (path, F_OK) == -1 ? -2 : 0;
}

static int
local_journal_load (struct state *s, const char *name, struct journal *j,
                    bool *exists)
{
  CLEANUP_FREE char *path = replicate_journal_path (s->dir, name);

  if (!path) {
    memset (j, 0, sizeof *j);
    return -1;
  }
  return journal_load (j, path, exists);
}

static struct manifest *
local_manifest_open (struct state *s, const struct journal *j, size_t i)
{
  CLEANUP_FREE char *path = xasprintf ("%s/%s", s->dir,
                                       j->disks[i].manifest);
  return path ? manifest_open (path, j->disks[i].size) : NULL;
}

/* The journal, the manifests (relative to the directory, or absolute
 * in old journals), the lock file. */
static int
local_remove (struct state *s, const struct journal *j)
{
  CLEANUP_FREE char *lock = replicate_lock_path (s->dir, j->name);

  for (size_t i = 0; i < j->ndisks; i++) {
    const char *man = j->disks[i].manifest;
    CLEANUP_FREE char *p = NULL;
    if (!man)
      continue;
    p = man[0] == '/' ? xstrdup (man) : xasprintf ("%s/%s", s->dir, man);
    if (p && unlink (p) == -1 && errno != ENOENT) {
      azp_error ("%s: %m", p);
      return -1;
    }
  }
  if (unlink (j->path) == -1) {
    azp_error ("%s: %m", j->path);
    return -1;
  }
  if (lock && unlink (lock) == -1 && errno != ENOENT)
    azp_debug ("%s: %m", lock);
  return 0;
}

static char **
local_list (struct state *s)
{
  struct dirent **ents = NULL;
  int n = scandir (s->dir, &ents, NULL, alphasort);
  char **names = calloc (n > 0 ? n + 1 : 1, sizeof *names);
  size_t k = 0;

  for (int i = 0; i < n; i++) {
    size_t l = strlen (ents[i]->d_name);
    if (names && l > 5 && !strcmp (ents[i]->d_name + l - 5, ".json") &&
        ents[i]->d_name[0] != '.')
      names[k++] = strndup (ents[i]->d_name, l - 5);
    free (ents[i]);
  }
  free (ents);
  if (!names)
    azp_error ("out of memory");
  return names;
}

const struct state_ops state_local_ops = {
  .kind = "directory",
  .lock = local_lock,
  .journal_load = local_journal_load,
  .manifest_open = local_manifest_open,
  .list = local_list,
  .holder = NULL,
  .remove = local_remove,
  .close = NULL,
};
