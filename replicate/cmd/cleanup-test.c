/* azprep cleanup-test: delete the test migration's copies. */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
#include "replicate/migrate/hydrate.h"
#include "replicate/migrate/migrate.h"

static const char usage[] =
  "Usage: azprep cleanup-test [OPTIONS] NAME\n"
  "Clean up the test migration of the replicated VM NAME: break the\n"
  "leases on the DISK-test.vhd copies and delete them; the replica and\n"
  "its recovery points stay, replication goes on.  Print what to delete\n"
  "on the Azure side (the NAME-Test VM, its NIC and managed disks):\n"
  "azprep does not touch Azure resources other than blobs.\n"
  "\n"
  "Options:\n"
  MIGRATE_USAGE
  "  --resource-group RG  for the printed az commands\n"
  "  --json               print what was deleted as JSON\n"
  "  -v, --help           debug, this text\n"
  "\n"
  "Exit: 0 cleaned up (or nothing to clean), 1 error, 2 usage.\n";

/* The az commands that delete what the NAME-Test template created. */
static void
azure_side (const char *vm, size_t ndisks, const char *rg, cJSON *a)
{
  /* Printed for a shell: the resource group is the user's text. */
  CLEANUP_FREE char *g = shell_quote (rg ? rg : "RESOURCE_GROUP");
  CLEANUP_FREE char *qvm = shell_quote (vm);
  char *cmds[66];
  size_t n = 0;

  if (!g || !qvm)
    return;
  vm = qvm;

  cmds[n++] = xasprintf ("az vm delete --resource-group %s --name %s --yes",
                         g, vm);
  cmds[n++] = xasprintf ("az network nic delete --resource-group %s "
                         "--name %s-nic", g, vm);
  for (size_t i = 0; i < ndisks && i < 64; i++)
    cmds[n++] = i == 0
      ? xasprintf ("az disk delete --resource-group %s --name %s-osdisk "
                   "--yes", g, vm)
      : xasprintf ("az disk delete --resource-group %s --name %s-datadisk-%zu"
                   " --yes", g, vm, i);
  if (!a)
    printf ("On the Azure side, if %s was deployed, delete it:\n", vm);
  for (size_t i = 0; i < n; i++) {
    if (!cmds[i])
      continue;
    if (a)
      cJSON_AddItemToArray (a, cJSON_CreateString (cmds[i]));
    else
      printf ("  %s\n", cmds[i]);
    free (cmds[i]);
  }
}

static int
cleanup_test_run (int argc, char **argv)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    MIGRATE_LONG_OPTIONS,
    { "resource-group", required_argument, NULL, OPT_VM_RG },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct migrate m = { 0 };
  const char *name = NULL, *rg = NULL;
  struct args_one one = { OPT_VM_RG, &rg, NULL };
  CLEANUP_FREE char *vm = NULL;
  cJSON *j = NULL, *del = NULL;
  int ret;

  ret = migrate_parse_job ("cleanup-test", usage, argc, argv, longopts, &o,
                           &m, &name, args_one, &one);
  if (ret != -1)
    goto out;
  /* No lock on the job: cleanup-test reads the journal and deletes only
   * the test copies, never the journal or the replica (replication
   * goes on meanwhile). */
  ret = migrate_open (&m, name, NULL);
  if (ret != EXIT_OK)
    goto out;
  ret = EXIT_ERROR;
  if (!(vm = xasprintf ("%s-Test", name)))
    goto out;
  if (o.json) {
    j = cJSON_CreateObject ();
    del = cJSON_AddArrayToObject (j, "deleted");
  }
  for (size_t i = 0; i < m.j.ndisks; i++) {
    CLEANUP_FREE char *url = migrate_copy_url (&m, i, "test");
    CLEANUP_FREE char *state = NULL;
    if (!url || hydrate_copy_state (m.client, url, &state) == -1)
      goto out;
    if (!state) {
      if (!o.json)
        printf ("no test copy %s\n", url);
      continue;
    }
    if (hydrate_delete_blob (m.client, url) == -1)
      goto out;
    if (del)
      cJSON_AddItemToArray (del, cJSON_CreateString (url));
    else
      printf ("deleted %s\n", url);
  }
  azure_side (vm, m.j.ndisks, rg,
              j ? cJSON_AddArrayToObject (j, "azure") : NULL);
  if (j)
    migrate_print_json (j);
  ret = EXIT_OK;
 out:
  return migrate_end (&m, NULL, j, ret);
}

static const struct command cleanup_test_cmd = {
  "cleanup-test", "delete a test migration's copies (the replica stays)",
  cleanup_test_run,
};
COMMAND (cleanup_test_cmd);
