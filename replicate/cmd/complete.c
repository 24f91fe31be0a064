/* azprep complete: stop replication after a migration; keep only the
 * migrated copies. */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
#include "replicate/migrate/hydrate.h"
#include "replicate/migrate/migrate.h"

static const char usage[] =
  "Usage: azprep complete [OPTIONS] NAME\n"
  "Complete the migration of the replicated VM NAME: stop replication for\n"
  "it.  Delete the replica blobs with their recovery points (breaking\n"
  "replication's lease), any test copies, and the job's journal and\n"
  "manifests (in the state directory, or the state container: status\n"
  "--all no longer lists the job); break the leases on the migrated\n"
  "copies (migrate took them; their ids are not kept) and keep them (the\n"
  "VM's managed disks are imported from them).\n"
  "Print the remaining steps and the post-migration recommendations.\n"
  "\n"
  "Refused unless every disk has a finished migrated copy (azprep migrate).\n"
  "\n"
  "Options:\n"
  "  --force              complete even without migrated copies (stops\n"
  "                       replication and deletes the replica: nothing of\n"
  "                       the VM is left in Azure Storage)\n"
  MIGRATE_USAGE
  MIGRATE_WAIT_USAGE
  "  --json               print what was done as JSON\n"
  "  -v, --help           debug, this text\n"
  "\n"
  "The job is locked for the whole run (a replicate of it elsewhere is\n"
  "refused meanwhile).\n"
  "Exit: 0 completed, 1 error, 2 usage, 3 refused (not migrated),\n"
  "      5 the job's lease in the state container was lost (another\n"
  "      worker may hold it; nothing more was deleted), 6 another\n"
  "      worker holds the job.\n";

static const char *const steps[] = {
  "Install the Azure VM agent in the VM (walinuxagent / cloud-init on "
  "Linux, the Windows Azure VM Agent on Windows), if not done",
  "Make the application tweaks the move needs (connection strings, DNS "
  "names, licences bound to hardware)",
  "Run the application and business acceptance tests on the Azure VM",
  "Cut over: point users and DNS at the Azure VM",
  "Remove the on-premises VM from the vCenter inventory and from local "
  "backups",
  "Update the documentation (CMDB, runbooks, diagrams) with the VM's new "
  "home",
  NULL
};

static const char *const recommendations[] = {
  "Back the VM up with Azure Backup (a Recovery Services vault and a "
  "backup policy)",
  "Protect it with replication to a second region (Azure Site Recovery)",
  "Restrict traffic with network security groups and use just-in-time VM "
  "access for RDP/SSH (Microsoft Defender for Cloud)",
  "Encrypt the disks (encryption at host or Azure Disk Encryption, "
  "customer-managed keys if required)",
  "Watch costs with Azure Cost Management: right-size the VM from its "
  "metrics, consider reservations or savings plans",
  NULL
};

static void
print_list (const char *title, const char *const *l, const char *mark)
{
  printf ("\n%s\n", title);
  for (size_t i = 0; l[i]; i++)
    printf ("  %s %s\n", mark, l[i]);
}

static int
complete_run (int argc, char **argv)
{
  enum { OPT_FORCE = OPT_FIRST_COMMAND_SPECIFIC };
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    MIGRATE_LONG_OPTIONS,
    { "force", no_argument, NULL, OPT_FORCE },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct migrate m = { 0 };
  const char *name = NULL;
  bool force = false;
  struct args_one one = { OPT_FORCE, NULL, &force };
  cJSON *j = cJSON_CreateObject (), *kept, *deleted;
  int ret;

  ret = migrate_parse_job ("complete", usage, argc, argv, longopts, &o, &m,
                           &name, args_one, &one);
  if (ret != -1)
    goto out;
  ret = migrate_open (&m, name, "complete");
  if (ret != EXIT_OK)
    goto out;
  ret = EXIT_ERROR;
  kept = cJSON_AddArrayToObject (j, "kept");
  deleted = cJSON_AddArrayToObject (j, "deleted");

  /* Refuse before deleting anything. */
  for (size_t i = 0; i < m.j.ndisks && !force; i++) {
    CLEANUP_FREE char *url = migrate_copy_url (&m, i, "migrated");
    CLEANUP_FREE char *state = NULL;
    if (!url || hydrate_copy_state (m.client, url, &state) == -1)
      goto out;
    if (!state || strcmp (state, "done")) {
      azp_error ("complete %s: refused: %s is %s; run azprep migrate first (or "
                 "--force to drop the replication without a migrated copy)",
                 name, url, !state ? "missing" : "not hydrated");
      ret = EXIT_NOTREADY;
      goto out;
    }
  }

  for (size_t i = 0; i < m.j.ndisks; i++) {
    CLEANUP_FREE char *test = migrate_copy_url (&m, i, "test");
    CLEANUP_FREE char *mig = migrate_copy_url (&m, i, "migrated");
    CLEANUP_FREE char *state = NULL;
    if (!test || !mig || hydrate_delete_blob (m.client, test) == -1)
      goto out;
    if (hydrate_delete_blob (m.client, m.j.disks[i].blob) == -1)
      goto out;
    cJSON_AddItemToArray (deleted, cJSON_CreateString (m.j.disks[i].blob));
    if (!o.json)
      printf ("deleted the replica %s and its %zu recovery points\n",
              m.j.disks[i].blob, count_strings (m.j.disks[i].snapshots));
    if (hydrate_copy_state (m.client, mig, &state) == -1)
      goto out;
    if (state) {
      if (hydrate_break_lease (m.client, mig) == -1)
        goto out;
      cJSON_AddItemToArray (kept, cJSON_CreateString (mig));
      if (!o.json)
        printf ("kept %s (its lease broken)\n", mig);
    }
  }
  if (state_remove (m.state, &m.j) == -1)
    goto out;
  if (!o.json) {
    printf ("removed the job's journal and manifests from %s: replication "
            "of %s has stopped\n", state_where (m.state), name);
    print_list ("Remaining steps:", steps, "[ ]");
    print_list ("Recommendations after the migration:", recommendations, "-");
  }
  else {
    cJSON *a = cJSON_AddArrayToObject (j, "remaining_steps");
    for (size_t i = 0; steps[i]; i++)
      cJSON_AddItemToArray (a, cJSON_CreateString (steps[i]));
    a = cJSON_AddArrayToObject (j, "recommendations");
    for (size_t i = 0; recommendations[i]; i++)
      cJSON_AddItemToArray (a, cJSON_CreateString (recommendations[i]));
    migrate_print_json (j);
  }
  ret = EXIT_OK;
 out:
  return migrate_end (&m, NULL, j, ret);
}

static const struct command complete_cmd = {
  "complete", "stop replication after a migration, keep the migrated copy",
  complete_run,
};
COMMAND (complete_cmd);
