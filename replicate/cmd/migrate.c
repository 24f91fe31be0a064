/* azprep migrate: final delta cycle, final recovery point, hydrated
 * copy, production VM definition. */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/azprep.h"
#include "replicate/migrate/migrate.h"
#include "replicate/vsphere/vsphere.h"

static const char usage[] =
  "Usage: azprep migrate --source-shutdown [OPTIONS] --vnet VNET\n"
  "         --subnet SUBNET NAME\n"
  "Migrate the VM replicated by 'azprep replicate --name NAME': with the\n"
  "source VM shut down, run a final delta cycle (nothing is lost), take\n"
  "the final recovery point, copy it server-side to DISK-migrated.vhd,\n"
  "prepare (hydrate) the copies where they lie, check them, and write the\n"
  "report and the ARM template of the production VM NAME.  The replica\n"
  "is never written.  Then deploy the template and run 'azprep complete\n"
  "NAME'.\n"
  "\n"
  "Options:\n"
  "  --source-shutdown    required: the source VM is shut down (a planned\n"
  "                       migration with no data loss); azprep cannot\n"
  "                       see vCenter and refuses without it\n"
  "  --no-final-sync      skip the final delta cycle (the source is gone\n"
  "                       or unreadable; the latest recovery point is used)\n"
  MIGRATE_WAIT_USAGE
  MIGRATE_RUN_USAGE
  "\n"
  "With --state-container the job is locked (its lease) for the whole\n"
  "run, and the final cycle writes the replica under that lease: a\n"
  "replicate of the job elsewhere is refused meanwhile.\n"
  "Exit: 0 ready, 1 error (the replica is untouched), 2 usage,\n"
  "      3 refused (no --source-shutdown, or not bootable), 5 the job's\n"
  "      lease in the state container was lost (another worker may hold\n"
  "      it; nothing more was written), 6 another worker holds the job.\n";

/* Run argv with azprep's stderr (and stdout, or stderr when stdout
 * carries JSON): the child's progress and errors are the user's. */
static int
run_visible (const char *const *argv, bool stdout_to_stderr)
{
  char **env = secrets_child_env ();    /* azprep itself needs them */
  int status;
  pid_t pid;

  if (!env)
    return -1;
  fflush (stdout);
  pid = fork ();
  if (pid == -1) {
    azp_error ("fork: %m");
    secrets_child_env_free (env);
    return -1;
  }
  if (pid == 0) {
    if (stdout_to_stderr)
      dup2 (STDERR_FILENO, STDOUT_FILENO);
    execve (argv[0], (char **) argv, env);
    fprintf (stderr, "azprep: %s: %m\n", argv[0]);
    _exit (127);
  }
  secrets_child_env_free (env);
  while (waitpid (pid, &status, 0) == -1)
    if (errno != EINTR) {
      azp_error ("waitpid: %m");
      return -1;
    }
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

/* Run argv as a child that shares this run's lock on the job in the
 * state container (its lease id, in the child's environment only; a
 * local state directory's flock cannot be shared, so there the parent
 * takes none and the child locks).  The child's exit code, or -1. */
static int
run_locked (struct migrate *m, const char *const *argv, bool json)
{
  CLEANUP_FREE char *join = NULL;
  int r;

  if (state_remote (m->state) &&
      (!(join = state_join_env (m->state)) ||
       setenv (STATE_JOIN_ENV, join, 1) == -1))
    return -1;
  r = run_visible (argv, json);
  unsetenv (STATE_JOIN_ENV);
  return r;
}

/* One more cycle of azprep replicate on the same job: the replication
 * code itself, as a child, with the journal's sources.  An exit code. */
static int
final_cycle (struct migrate *m, bool json)
{
  CLEANUP_FREE const char **argv = NULL;
  CLEANUP_FREE char *self = NULL, *container = NULL;
  const char *blob = m->j.disks[0].blob, *slash;
  int r;

  self = realpath ("/proc/self/exe", NULL);
  slash = strrchr (blob, '/');
  if (!self || !slash) {
    azp_error ("%s: cannot run azprep replicate for the final cycle", m->name);
    return EXIT_ERROR;
  }
  container = strndup (blob, slash - blob);
  if (!container) {
    azp_error ("out of memory");
    return EXIT_ERROR;
  }
  argv = migrate_final_argv (m, self, container, json);
  if (!argv)
    return EXIT_ERROR;
  if (!json)
    printf ("final delta cycle (the source is shut down: nothing changes "
            "after it)\n");
  r = run_locked (m, argv, json);
  if (r != 0) {
    azp_error ("%s: the final delta cycle failed (azprep replicate exited %d, "
               "its messages are above); nothing was copied: fix the cause and "
               "run azprep migrate again", m->name, r);
    return r == EXIT_LEASE_LOST ? r : EXIT_ERROR;
  }
  return EXIT_OK;
}

static int
migrate_run_cmd (int argc, char **argv)
{
  struct migrate_args a = { 0 };
  struct migrate m = { 0 };
  const char *name;
  int ret;

  ret = migrate_parse_args ("migrate", usage, argc, argv, &a, &m);
  if (ret != -1)
    goto out;
  ret = EXIT_ERROR;
  name = a.name;
  if (!a.shutdown) {
    azp_error ("migrate %s: refused: shut the source VM down first and say so "
               "with --source-shutdown (a planned migration with no data loss: "
               "the final delta cycle must see the last write); to try the VM "
               "while it runs, use azprep test-migrate", name);
    ret = EXIT_NOTREADY;
    goto out;
  }

  /* With a container, the job's lock for the whole run (see
   * run_locked). */
  ret = migrate_open (&m, name, m.sa.container ? "migrate" : NULL);
  if (ret != EXIT_OK)
    goto out;
  ret = EXIT_ERROR;
  if (!a.no_sync) {
    /* A vSphere source: vCenter says whether the VM is really off. */
    if (m.j.ndisks > 0 && vsphere_uri_p (m.j.disks[0].source) &&
        vsphere_check_final_cycle_uri (m.j.disks[0].source, true) == -1) {
      ret = EXIT_NOTREADY;
      goto out;
    }
    ret = final_cycle (&m, a.o.json);
    if (ret != EXIT_OK)
      goto out;
    ret = EXIT_ERROR;
    /* Reload: the cycle added the final recovery point. */
    if (migrate_reload (&m) == -1)
      goto out;
  }
  {
    struct migrate_from f = { "latest", "migrated", name, "migration",
                              "the final recovery point" };
    ret = migrate_from_point (&m, &a, &f);
  }
  if (ret == EXIT_OK && !a.o.json)
    printf ("Next: deploy the template, test the VM, then run "
            "'azprep complete %s' to stop replication and clean up.\n",
            name);

 out:
  return migrate_end (&m, &a, NULL, ret);
}

static const struct command migrate_cmd = {
  "migrate", "final sync, hydrated copy and the production VM definition",
  migrate_run_cmd,
};
COMMAND (migrate_cmd);
