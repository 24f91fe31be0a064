/* Secrets in the environment: see "Secrets" in prep/common/common.h. */
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "prep/common/common.h"

static const char *const names[] = {
  "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_KEY",
  "AZURE_STORAGE_SAS_TOKEN", "VSPHERE_PASSWORD", "AZURE_CLIENT_SECRET",
};
#define NNAMES (sizeof names / sizeof names[0])

static char *taken[NNAMES];
static bool took;

void
secrets_no_core (void)
{
  struct rlimit rl = { 0, 0 };

  /* Not dumpable: no core file, no ptrace or /proc/PID/mem by the same
   * user.  Reset by execve, so children are unaffected. */
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  setrlimit (RLIMIT_CORE, &rl);
}

void
secrets_take_env (void)
{
  for (size_t i = 0; i < NNAMES; i++) {
    char *v = getenv (names[i]);
    if (!v)
      continue;
    taken[i] = strdup (v);
    /* The original bytes are what /proc/PID/environ shows: wipe them,
     * then drop the variable, so no child inherits it. */
    memset (v, 0, strlen (v));
    unsetenv (names[i]);
    if (taken[i])
      secrets_no_core ();
  }
  took = true;
}

const char *
secret_env (const char *name)
{
  if (!took)                    /* the nbdkit plugin: its own env */
    return getenv (name);
  for (size_t i = 0; i < NNAMES; i++)
    if (!strcmp (names[i], name))
      return taken[i];
  return getenv (name);
}

char **
secrets_child_env (void)
{
  extern char **environ;
  size_t n = 0, k = 0;
  char **env;

  while (environ[n])
    n++;
  env = calloc (n + NNAMES + 1, sizeof *env);
  if (!env) {
    azp_error ("out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    env[k++] = environ[i];
  for (size_t i = 0; i < NNAMES; i++)
    if (taken[i]) {
      env[k] = xasprintf ("%s=%s", names[i], taken[i]);
      if (!env[k++]) {
        secrets_child_env_free (env);
        return NULL;
      }
    }
  return env;
}

void
secrets_child_env_free (char **env)
{
  extern char **environ;
  size_t n = 0;

  if (!env)
    return;
  while (environ[n])
    n++;
  for (size_t i = n; env[i]; i++) {
    memset (env[i], 0, strlen (env[i]));
    free (env[i]);
  }
  free (env);
}
