/* azprep test-migrate: a -Test VM from a copy of a recovery point,
 * hydrated where it lies, while replication goes on. */

#include "prep/azprep.h"
#include "replicate/migrate/migrate.h"

static const char usage[] =
  "Usage: azprep test-migrate [OPTIONS] --vnet VNET --subnet SUBNET NAME\n"
  "Test-migrate the VM replicated by 'azprep replicate --name NAME': copy\n"
  "a recovery point of each disk server-side to DISK-test.vhd, prepare\n"
  "(hydrate) the copies where they lie through an NBD bridge (only the\n"
  "blocks the fixups touch travel; the replica is never written), check\n"
  "them, and write the report and the ARM template of the VM NAME-Test\n"
  "into the output directory.  Replication may go on meanwhile.  Run it\n"
  "again to start over from a fresh copy; 'azprep cleanup-test NAME'\n"
  "deletes the copies.\n"
  "\n"
  "Options:\n"
  "  --point ID           recovery point (default: latest); a wrong ID\n"
  "                       lists the job's points\n"
  MIGRATE_RUN_USAGE
  "\n"
  "Exit: 0 ready, 1 error (the replica is untouched), 2 usage,\n"
  "      3 refused (the guest cannot be made bootable).\n";

static int
test_migrate_run (int argc, char **argv)
{
  struct migrate_args a = { 0 };
  struct migrate m = { 0 };
  CLEANUP_FREE char *vmname = NULL;
  int ret;

  ret = migrate_parse_args ("test-migrate", usage, argc, argv, &a, &m);
  if (ret != -1)
    goto out;
  /* No lock on the job (with --state-container, no lease): test-migrate
   * only reads the job, and replication goes on meanwhile (a
   * --continuous replicate holds the lock for its whole life, so taking
   * it would refuse every test migration).  The recovery point it
   * copies is a snapshot, which no cycle writes; the journal is one Put
   * Blob, read whole.  What it writes is its own DISK-test.vhd, under
   * the copy's lease.  A cycle that prunes the point (--keep) during the
   * server-side copy fails that copy (exit 1, replica untouched).  Two
   * test-migrates of one job are not kept apart either: the second
   * breaks the first's lease on the copy and starts it over under a
   * lease of its own (the service chooses its id, per run), so the
   * first's bridges get 412 on every write, its marks are refused, and
   * it exits 1 saying another run took the copy over, writing nothing
   * into the second's copy, its metadata or its report.  The last one
   * started wins.  A local --state takes no lock either. */
  ret = migrate_open (&m, a.name, NULL);
  if (ret != EXIT_OK)
    goto out;
  ret = EXIT_ERROR;
  vmname = xasprintf ("%s-Test", a.name);
  if (vmname) {
    struct migrate_from f = { a.point, "test", vmname, "test migration",
                              "recovery point" };
    ret = migrate_from_point (&m, &a, &f);
  }
 out:
  return migrate_end (&m, &a, NULL, ret);
}

static const struct command test_migrate_cmd = {
  "test-migrate", "a -Test VM from a recovery point, hydrated in place",
  test_migrate_run,
};
COMMAND (test_migrate_cmd);
