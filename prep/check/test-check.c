/* Unit tests of the pure parts of azprep check: text cleaning for
 * XML/HTML, the size table and suggestions, verdicts, the vmx reader. */
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/check/rule.h"
#include "prep/check/vm.h"
#include "prep/check/report/report.h"
#include "prep/common/unit.h"

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
  t = sizes_load ("prep/check/azure-sizes.json");
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

/* A file's contents (for the writers' output). */
static char *
slurp (const char *path)
{
  FILE *fp = fopen (path, "r");
  char *buf = calloc (1, 65536);
  if (fp && buf && fread (buf, 1, 65535, fp) == 0)
    buf[0] = '\0';
  if (fp)
    fclose (fp);
  return buf;
}

/* Only blockers that azprep fix repairs: not ready as is, ready after
 * fix, in every report alike. */
static void
test_fixable_verdict (void)
{
  static const char vm_json[] =
    "{\"name\":\"web\",\"verdict\":\"not-ready\",\"exit\":3,"
    "\"ready_after_fix\":true,\"error\":null,\"disks\":[],\"os\":null,"
    "\"azure\":null,\"descriptor\":null,\"counts\":{\"blocker\":1,"
    "\"warning\":0,\"info\":0,\"fixable\":1},\"rules\":[{\"id\":"
    "\"linux-initramfs\",\"kind\":\"fixup\",\"heading\":\"h\","
    "\"result\":\"fail\"}],\"findings\":[{\"id\":\"linux-initramfs\","
    "\"severity\":\"blocker\",\"object\":\"/boot/initrd\",\"message\":"
    "\"no Hyper-V drivers\",\"remedy\":\"\",\"fixable\":true,\"fixup\":"
    "\"linux-initramfs\",\"rule\":\"linux-initramfs\"}]}";
  cJSON *vms = cJSON_CreateArray (), *r, *vm = cJSON_Parse (vm_json);
  char html[] = "/tmp/azprep-html-XXXXXX", junit[] = "/tmp/azprep-junit-XXXXXX";
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&text, &len);
  CLEANUP_FREE char *h = NULL, *j = NULL;

  CHECK (vm != NULL);
  CHECK_STR (check_verdict_words (vm, true),
             "NOT READY; READY AFTER 'azprep fix'");
  cJSON_AddItemToArray (vms, vm);
  r = check_report (vms);
  CHECK_STR (cJSON_GetStringValue (cJSON_GetObjectItem (r, "verdict")),
             "not-ready");
  CHECK (cJSON_IsTrue (cJSON_GetObjectItem (r, "ready_after_fix")));
  check_print_text (fp, r, false);
  fclose (fp);
  CHECK (strstr (text, "web: NOT READY; READY AFTER 'azprep fix' (1 blocker")
         != NULL);
  CHECK (strstr (text, "verdict: NOT READY; READY AFTER 'azprep fix'\n")
         != NULL);
  CHECK (strstr (text, "READY WITH WARNINGS") == NULL);
  close (mkstemp (html));
  close (mkstemp (junit));
  CHECK (check_write_html (html, r) == 0);
  CHECK (check_write_junit (junit, r) == 0);
  h = slurp (html);
  j = slurp (junit);
  CHECK (h && strstr (h, "not ready; ready after &#39;azprep fix&#39;"));
  CHECK (j && strstr (j, "type=\"fixable-blocker\""));
  CHECK (j && strstr (j, "name=\"ready_after_fix\" value=\"true\""));
  CHECK (j && strstr (j, "failures=\"1\""));
  unlink (html);
  unlink (junit);
  free (text);
  /* With a blocker no fixup repairs: not ready, and not after fix. */
  cJSON_ReplaceItemInObject (vm, "ready_after_fix", cJSON_CreateFalse ());
  CHECK_STR (check_verdict_words (vm, false), "not ready");
  cJSON_Delete (r);
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

/* Run one rule on a guest described by its fields alone (the pure
 * rules read no appliance); returns "severity" of its first finding,
 * or "" if it found nothing.  Triggering and quiet cases of each. */
static char sev_buf[16];

static const char *
run_rule (const char *id, struct guest *gs, const struct vm_desc *desc,
          const struct azure_size *target)
{
  const struct rule *r = rule_find (id);
  struct check_ctx ctx = { .gs = gs, .desc = desc, .target = target,
                           .inspected = true };
  struct size_table t = { NULL, 0, NULL };

  ctx.sizes = &t;
  gs->report = report_new ();
  sev_buf[0] = '\0';
  CHECK (r && r->check);
  if (r && r->check && r->check (&ctx) == 0 && gs->report->nfindings > 0) {
    CHECK_STR (gs->report->findings[0].id, id);
    snprintf (sev_buf, sizeof sev_buf, "%s",
              gs->report->findings[0].severity == SEV_BLOCKER ? "blocker"
              : gs->report->findings[0].severity == SEV_WARNING ? "warning"
              : "info");
  }
  report_free (gs->report);
  gs->report = NULL;
  return sev_buf;
}

#define MiB (1024LL * 1024)
#define TiB (1024LL * 1024 * MiB)

static void
test_pure_rules (void)
{
  struct disk disks[3] = {
    { .path = (char *) "os.img", .size = 30LL * 1024 * MiB },
    { .path = (char *) "d1.img", .size = 64 * MiB },
    { .path = (char *) "d2.img", .size = 64 * MiB },
  };
  struct guest lin = { .disks = disks, .ndisks = 1, .root = "/dev/sda1",
                       .type = "linux", .distro = "debian", .major = 12,
                       .arch = "x86_64", .firmware = FIRMWARE_BIOS,
                       .generation = 1 };
  struct guest win = { .disks = disks, .ndisks = 1, .root = "/dev/sda2",
                       .type = "windows", .distro = "windows", .major = 10,
                       .product_name = "Windows Server 2022",
                       .product_variant = "Server", .arch = "x86_64",
                       .firmware = FIRMWARE_UEFI, .generation = 2 };
  struct vm_desc desc = { .source = (char *) "vm.vmx",
                          .firmware = FIRMWARE_UEFI };
  struct azure_size small = { .name = (char *) "Small_1", .vcpus = 1,
                              .memory_gib = 1, .max_data_disks = 1 };
  struct guest g;

  /* OS type, distribution, version, architecture. */
  CHECK_STR (run_rule ("os-unsupported", &lin, NULL, NULL), "");
  CHECK_STR (run_rule ("os-unsupported", &win, NULL, NULL), "");
  g = lin; g.distro = (char *) "archlinux";
  CHECK_STR (run_rule ("os-unsupported", &g, NULL, NULL), "blocker");
  g = lin; g.type = (char *) "freebsd";
  CHECK_STR (run_rule ("os-unsupported", &g, NULL, NULL), "blocker");
  CHECK_STR (run_rule ("os-unknown", &lin, NULL, NULL), "");
  g = lin; g.distro = NULL;
  CHECK_STR (run_rule ("os-unknown", &g, NULL, NULL), "blocker");
  CHECK_STR (run_rule ("os-version", &lin, NULL, NULL), "");
  g = lin; g.major = 6;
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "blocker");
  g = lin; g.distro = (char *) "rhel"; g.major = 6; g.minor = 2;
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "warning");
  g.minor = 10;
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "");
  CHECK_STR (run_rule ("os-version", &win, NULL, NULL), "");
  g = win; g.major = 6; g.minor = 0;          /* Server 2008 */
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "blocker");
  g.minor = 1;                                /* 2008 R2 */
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "");
  g.minor = 3;                                /* 2012 R2 */
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "warning");
  g.product_variant = (char *) "Client";      /* Windows 8.1 */
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "warning");
  g.major = 5; g.minor = 1;                   /* XP */
  CHECK_STR (run_rule ("os-version", &g, NULL, NULL), "blocker");
  CHECK_STR (run_rule ("arch-32bit", &lin, NULL, NULL), "");
  g = win; g.arch = (char *) "i386";
  CHECK_STR (run_rule ("arch-32bit", &g, NULL, NULL), "blocker");
  g = lin; g.arch = (char *) "aarch64";
  CHECK_STR (run_rule ("arch-32bit", &g, NULL, NULL), "blocker");

  /* Firmware, generation, descriptor. */
  CHECK_STR (run_rule ("firmware-generation", &lin, NULL, NULL), "info");
  CHECK_STR (run_rule ("firmware-mismatch", &win, &desc, NULL), "");
  CHECK_STR (run_rule ("firmware-mismatch", &lin, NULL, NULL), "");
  CHECK_STR (run_rule ("firmware-mismatch", &lin, &desc, NULL), "warning");
  CHECK_STR (run_rule ("secure-boot", &lin, &desc, NULL), "");
  desc.secure_boot = true;
  CHECK_STR (run_rule ("secure-boot", &lin, &desc, NULL), "warning");

  /* Disks: whole MiB, the OS disk per generation, data disks. */
  CHECK_STR (run_rule ("disk-size-mib", &lin, NULL, NULL), "");
  g = lin; g.ndisks = 3;
  disks[2].size = 64 * MiB + 512;
  CHECK_STR (run_rule ("disk-size-mib", &g, NULL, NULL), "warning");
  disks[2].size = 64 * MiB;
  CHECK_STR (run_rule ("os-disk-size", &lin, NULL, NULL), "");
  disks[0].size = 3 * TiB;
  CHECK_STR (run_rule ("os-disk-size", &lin, NULL, NULL), "blocker");
  CHECK_STR (run_rule ("os-disk-size", &win, NULL, NULL), "");   /* gen 2 */
  disks[0].size = 5 * TiB;
  CHECK_STR (run_rule ("os-disk-size", &win, NULL, NULL), "blocker");
  disks[0].size = 30LL * 1024 * MiB;
  CHECK_STR (run_rule ("data-disk-size", &g, NULL, NULL), "");
  disks[1].size = 33 * TiB;
  CHECK_STR (run_rule ("data-disk-size", &g, NULL, NULL), "blocker");
  disks[1].size = 64 * MiB;
  CHECK_STR (run_rule ("data-disk-count", &g, NULL, NULL), "");  /* no size */
  CHECK_STR (run_rule ("data-disk-count", &g, NULL, &small), "blocker");
  g.ndisks = 2;
  CHECK_STR (run_rule ("data-disk-count", &g, NULL, &small), "");
}

int
main (void)
{
  test_clean ();
  test_sizes ();
  test_verdicts ();
  test_fixable_verdict ();
  test_vmx ();
  test_pure_rules ();
  return UNIT_RESULT ("prep/test-check");
}
