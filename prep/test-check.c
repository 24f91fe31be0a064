/* Unit tests of the pure parts of azprep check: text cleaning for
 * XML/HTML, the size table and suggestions, verdicts, the vmx reader. */
#include <string.h>
#include <unistd.h>

#include "azprep.h"
#include "check.h"
#include "replicate/unit.h"

static void
test_clean (void)
{
  CLEANUP_FREE char *a = check_clean_text ("plain é ✓ text\twith\ttabs\n");
  CLEANUP_FREE char *b = check_clean_text ("bell\a esc\033 del\177 end");
  CLEANUP_FREE char *c = check_clean_text ("bad \xff\xfe utf8 \xc3");
  CLEANUP_FREE char *d = check_clean_text ("overlong \xc0\xaf surrogate "
                                           "\xed\xa0\x80");
  CHECK_STR (a, "plain é ✓ text\twith\ttabs\n");
  CHECK_STR (b, "bell? esc? del? end");
  CHECK_STR (c, "bad ?? utf8 ?");
  CHECK_STR (d, "overlong ?? surrogate ???");
}

static void
test_sizes (void)
{
  char path[] = "/tmp/azprep-sizes-XXXXXX";
  int fd = mkstemp (path);
  const char *json =
    "{\"sizes\": ["
    "{\"name\": \"G1only_2\", \"vcpus\": 2, \"memory_gib\": 4, "
    "\"max_data_disks\": 4, \"generations\": [1]},"
    "{\"name\": \"Both_2\", \"vcpus\": 2, \"memory_gib\": 8, "
    "\"max_data_disks\": 4, \"generations\": [1, 2]},"
    "{\"name\": \"Both_4\", \"vcpus\": 4, \"memory_gib\": 16, "
    "\"max_data_disks\": 8, \"generations\": [1, 2]}]}";
  struct size_table *t;
  const struct azure_size *s;

  CHECK (fd >= 0 && write (fd, json, strlen (json)) == (ssize_t) strlen (json));
  close (fd);
  t = sizes_load (path);
  unlink (path);
  CHECK (t && t->n == 3);
  if (!t)
    return;
  s = sizes_suggest (t, 2, 4096, 1, 0);
  CHECK_STR (s ? s->name : NULL, "G1only_2");
  s = sizes_suggest (t, 2, 4096, 2, 0);          /* gen 2: not G1only */
  CHECK_STR (s ? s->name : NULL, "Both_2");
  s = sizes_suggest (t, 1, 9000, 1, 0);          /* memory decides */
  CHECK_STR (s ? s->name : NULL, "Both_4");
  s = sizes_suggest (t, 2, 1024, 1, 6);          /* data disks decide */
  CHECK_STR (s ? s->name : NULL, "Both_4");
  CHECK (sizes_suggest (t, 8, 1024, 1, 0) == NULL);
  s = sizes_find (t, "both_4");
  CHECK_STR (s ? s->name : NULL, "Both_4");
  CHECK (sizes_find (t, "nope") == NULL);
  sizes_free (t);
  CHECK (sizes_load ("/nonexistent/sizes.json") == NULL);
  /* The shipped table loads and is ordered sensibly. */
  t = sizes_load ("prep/azure-sizes.json");
  CHECK (t && t->n > 10);
  sizes_free (t);
}

static void
test_verdicts (void)
{
  CHECK (verdict_exit ("ready") == EXIT_OK);
  CHECK (verdict_exit ("warnings") == EXIT_WARNINGS);
  CHECK (verdict_exit ("not-ready") == EXIT_NOTREADY);
  CHECK (verdict_exit ("error") == EXIT_ERROR);
  CHECK (verdict_exit (NULL) == EXIT_ERROR);
  CHECK_STR (verdict_name (EXIT_WARNINGS), "warnings");
  {
    cJSON *vms = cJSON_CreateArray ();
    cJSON *r;
    cJSON_AddItemToArray (vms, check_vm_error ("a", "x"));
    r = check_report (vms);
    CHECK_STR (cJSON_GetStringValue (cJSON_GetObjectItem (r, "verdict")),
               "error");
    cJSON_Delete (r);
  }
}

static void
test_vmx (void)
{
  char path[] = "/tmp/azprep-vmx-XXXXXX";
  int fd = mkstemp (path);
  const char *vmx =
    "config.version = \"8\"\n"
    "displayName = \"a|7Cb\"\n"
    "nvme0:0.fileName = \"n.vmdk\"\n"
    "ide1:0.fileName = \"i.vmdk\"\n"
    "scsi1:0.fileName = \"s10.vmdk\"\n"
    "scsi0:3.fileName = \"s03.vmdk\"\n"
    "scsi0:4.present = \"FALSE\"\n"
    "scsi0:4.fileName = \"gone.vmdk\"\n"
    "sata0:0.fileName = \"cd.iso\"\n"
    "numvcpus = \"4\"\n";
  struct vm_desc *d;

  CHECK (fd >= 0 && write (fd, vmx, strlen (vmx)) == (ssize_t) strlen (vmx));
  close (fd);
  d = desc_read_vmx (path);
  unlink (path);
  CHECK (d && d->ndisks == 4);
  if (!d)
    return;
  CHECK (strstr (d->disks[0], "/s03.vmdk") != NULL);
  CHECK (strstr (d->disks[1], "/s10.vmdk") != NULL);
  CHECK (strstr (d->disks[2], "/n.vmdk") != NULL);
  CHECK (strstr (d->disks[3], "/i.vmdk") != NULL);
  CHECK_STR (d->name, "a|b");
  CHECK (d->cpus == 4 && d->firmware == FIRMWARE_BIOS);
  desc_free (d);
}

int
main (void)
{
  test_clean ();
  test_sizes ();
  test_verdicts ();
  test_vmx ();
  return UNIT_RESULT ("prep/test-check");
}
