/* Unit tests: the journal round trip and hostile journal files. */
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/engine/journal.h"
#include "replicate/engine/replicate.h"

static void
write_text (const char *path, const char *s)
{
  FILE *f = fopen (path, "w");
  fputs (s, f);
  fclose (f);
}

int
main (void)
{
  char dir[] = "/tmp/test-journal.XXXXXX";
  CLEANUP_FREE char *path = NULL;
  struct journal j = { 0 }, k;
  struct jdisk *d;
  bool exists;

  CHECK (mkdtemp (dir) != NULL);
  path = xasprintf ("%s/vm.json", dir);
  CHECK (journal_load (&j, path, &exists) == 0 && !exists);
  j.name = strdup ("vm");
  j.created = 1700000000;
  j.next_cycle = 1700003600;
  d = journal_add_disk (&j);
  d->source = strdup ("/images/disk 0.qcow2");
  d->blob = strdup ("http://127.0.0.1:1/devstoreaccount1/c/vm-disk0.vhd");
  d->size = 10ULL << 30;
  d->manifest = strdup ("vm-disk0.manifest");
  d->state = strdup ("initial");
  d->open = true;
  d->cycles = 2;
  d->bytes_sent = 123456789012ULL;
  for (int i = 0; i < 16; i++)
    d->uuid[i] = 0xf0 + i;
  rangelist_add (&d->done, 0, 4 << 20);
  rangelist_add (&d->done, 8 << 20, 12 << 20);
  free (d->snapshots);
  d->snapshots = calloc (3, sizeof (char *));
  d->snapshots[0] = strdup ("2026-01-01T00:00:00.1234567Z");
  d->snapshots[1] = strdup ("2026-01-02T00:00:00.1234567Z");
  d->change_id = strdup ("52 3c 1a 9e 00 11 22 33-44 55 66 77 88 99 aa bb/4");
  d->cycle_change_id = strdup ("52 3c 1a 9e 00 11 22 33-44 55 66 77 88 99 "
                               "aa bb/5");
  CHECK (journal_save (&j) == 0);

  CHECK (journal_load (&k, path, &exists) == 0 && exists);
  CHECK (k.ndisks == 1 && !strcmp (k.name, "vm"));
  CHECK (k.next_cycle == 1700003600);
  CHECK (!strcmp (k.disks[0].source, "/images/disk 0.qcow2"));
  CHECK (k.disks[0].size == 10ULL << 30 && k.disks[0].open);
  CHECK (k.disks[0].bytes_sent == 123456789012ULL);
  CHECK (k.disks[0].done.n == 2 && k.disks[0].done.r[1].end == 12 << 20);
  CHECK (k.disks[0].uuid[15] == 0xff && k.disks[0].lease == NULL);
  CHECK (k.disks[0].snapshots[1] && !k.disks[0].snapshots[2] &&
         !strcmp (k.disks[0].snapshots[1], "2026-01-02T00:00:00.1234567Z"));
  /* The CBT chain survives a round trip. */
  CHECK_STR (k.disks[0].change_id,
             "52 3c 1a 9e 00 11 22 33-44 55 66 77 88 99 aa bb/4");
  CHECK_STR (k.disks[0].cycle_change_id,
             "52 3c 1a 9e 00 11 22 33-44 55 66 77 88 99 aa bb/5");
  journal_free (&k);

  /* No temporary file is left behind. */
  {
    CLEANUP_FREE char *cmd = xasprintf ("test $(ls %s | wc -l) = 1", dir);
    CHECK (system (cmd) == 0);
  }

  /* Hostile journals are refused, naming the file. */
  write_text (path, "{\"version\": 2, \"name\": \"vm\", \"disks\": []}");
  CHECK (journal_load (&k, path, &exists) == -1);
  journal_free (&k);
  write_text (path, "{\"version\": 1, \"name\": \"vm\", "
              "\"disks\": [{\"source\": 1}]}");
  CHECK (journal_load (&k, path, &exists) == -1);
  journal_free (&k);
  write_text (path, "[1, 2");
  CHECK (journal_load (&k, path, &exists) == -1);
  journal_free (&k);
  write_text (path, "{\"version\": 1, \"name\": \"vm\", "
              "\"disks\": [{\"source\": \"s\","
              "\"blob\": \"b\", \"state\": \"idle\", \"manifest\": \"../x\","
              "\"uuid\": \"00000000000000000000000000000000\", "
              "\"size\": 1048576}]}");
  CHECK (journal_load (&k, path, &exists) == -1);
  journal_free (&k);

  /* Azure Migrate's interval rule. */
  CHECK (replicate_next_wait (5000, true) == 0);
  CHECK (replicate_next_wait (600, false) == 3600);
  CHECK (replicate_next_wait (4 * 3600, false) == 2 * 3600);
  CHECK (replicate_next_wait (30 * 3600, false) == 12 * 3600);

  journal_free (&j);
  unlink (path);
  rmdir (dir);
  return UNIT_RESULT ("test-journal");
}
