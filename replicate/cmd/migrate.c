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
  MIGRATE_RUN_USAGE
  "\n"
  "Exit: 0 ready, 1 error (the replica is untouched), 2 usage,\n"
  "      3 refused (no --source-shutdown, or not bootable).\n";

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

/* One more cycle of azprep replicate on the same job: the replication
 * code itself, as a child, with the journal's sources. */
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
    return -1;
  }
  container = strndup (blob, slash - blob);
  if (!container) {
    azp_error ("out of memory");
    return -1;
  }
  argv = migrate_final_argv (m, self, container, json);
  if (!argv)
    return -1;
  if (!json)
    printf ("final delta cycle (the source is shut down: nothing changes "
            "after it)\n");
  r = run_visible (argv, json);
  if (r != 0) {
    azp_error ("%s: the final delta cycle failed (azprep replicate exited %d, "
               "its messages are above); nothing was copied: fix the cause and "
               "run azprep migrate again", m->name, r);
    return -1;
  }
  return 0;
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

  if (migrate_open (&m, name) == -1)
    goto out;
  if (!a.no_sync) {
    /* A vSphere source: vCenter says whether the VM is really off. */
    if (m.j.ndisks > 0 && vsphere_uri_p (m.j.disks[0].source) &&
        vsphere_check_final_cycle_uri (m.j.disks[0].source, true) == -1) {
      ret = EXIT_NOTREADY;
      goto out;
    }
    if (final_cycle (&m, a.o.json) == -1)
      goto out;
    /* Reload: the cycle added the final recovery point. */
    {
      char *sd = m.state_dir;
      const char *cf = m.creds_file, *ca = m.cacert;
      bool ah = m.allow_http;
      m.state_dir = NULL;
      migrate_close (&m);
      m.state_dir = sd;
      m.creds_file = cf;
      m.cacert = ca;
      m.allow_http = ah;
      if (migrate_open (&m, name) == -1)
        goto out;
    }
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
