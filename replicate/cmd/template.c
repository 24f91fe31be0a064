/* azprep template: the ARM template for a VM made of hydrated blobs.
 * test-migrate and migrate write one themselves; this command writes
 * one again with other choices (size, network) without hydrating.
 */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
#include "replicate/migrate/vmdef.h"

static const char usage[] =
  "Usage: azprep template --name VM --os linux|windows [OPTIONS] BLOB-URL...\n"
  "Write the ARM template and parameters file that create an Azure VM\n"
  "from hydrated page blobs (fixed VHD; the OS disk first): managed\n"
  "disks imported from the blobs, a NIC in an existing VNet and subnet,\n"
  "the VM.  Print the az command that deploys them: azprep writes the\n"
  "template, Azure deploys it.\n"
  "\n"
  "Options:\n"
  "  --name VM            VM name\n"
  "  --test               name the VM VM-Test (a test migration)\n"
  "  --os linux|windows   the guest's OS\n"
  "  --generation 1|2     Hyper-V generation: 1 BIOS (default), 2 UEFI\n"
  "  --output-dir DIR     where to write (default .)\n"
  VMDEF_USAGE
  "  --json               print the paths and the command as JSON\n"
  "  -v, --help           debug, this text\n"
  "\n"
  "Exit: 0 written, 1 error, 2 usage.\n";

static int
template_run (int argc, char **argv)
{
  enum { OPT_NAME = OPT_FIRST_COMMAND_SPECIFIC, OPT_TEST, OPT_OS, OPT_GEN,
         OPT_DIR };
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    VMDEF_LONG_OPTIONS,
    { "name", required_argument, NULL, OPT_NAME },
    { "test", no_argument, NULL, OPT_TEST },
    { "os", required_argument, NULL, OPT_OS },
    { "generation", required_argument, NULL, OPT_GEN },
    { "output-dir", required_argument, NULL, OPT_DIR },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct vmdef_opts vo = { 0 };
  struct arm_disk disks[64];
  struct arm_vm vm = { 0 };
  const char *name = NULL, *os = NULL, *dir = ".";
  CLEANUP_FREE char *vmname = NULL, *account = NULL;
  bool test = false;
  int64_t gen = 1;
  size_t ndisks = 0;
  cJSON *j = NULL;
  int c, r, ret = EXIT_ERROR;

  while ((c = getopt_long (argc, argv, "-" COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&o, c, usage))
      continue;
    r = vmdef_option (&vo, c, optarg);
    if (r == -1)
      return EXIT_USAGE;
    if (r == 1)
      continue;
    switch (c) {
    case OPT_NAME: name = optarg; break;
    case OPT_TEST: test = true; break;
    case OPT_OS: os = optarg; break;
    case OPT_GEN:
      if (parse_int64 (optarg, &gen) == -1 || (gen != 1 && gen != 2))
        return usage_error ("template", "--generation must be 1 or 2");
      break;
    case OPT_DIR: dir = optarg; break;
    case 1:
      if (ndisks >= 64)
        return usage_error ("template", "at most 64 disks");
      disks[ndisks].source_uri = optarg;
      disks[ndisks].size = 0;
      ndisks++;
      break;
    default:
      return usage_error ("template", "unknown option");
    }
  }
  if (!name)
    return usage_error ("template", "--name is needed");
  if (!os || (strcmp (os, "linux") && strcmp (os, "windows")))
    return usage_error ("template", "--os linux or --os windows is needed");
  if (ndisks == 0)
    return usage_error ("template", "no blob URL given");
  if (vmdef_require (&vo, "template") != 0)
    return EXIT_USAGE;

  vmname = test ? xasprintf ("%s-Test", name) : xstrdup (name);
  account = vmdef_account_from_url (disks[0].source_uri);
  if (!vmname)
    return EXIT_ERROR;
  if (!account && !vo.storage_account_id) {
    azp_error ("%s: no storage account in this URL: give --storage-account-id",
               disks[0].source_uri);
    return EXIT_ERROR;
  }
  vm.name = vmname;
  vm.windows = !strcmp (os, "windows");
  vm.generation = gen;
  vm.storage_account = account;
  vm.disks = disks;
  vm.ndisks = ndisks;
  if (vo.hybrid_benefit && !vo.license_type) {
    if (!vm.windows) {
      azp_error ("--hybrid-benefit: for Linux give --license-type "
                 "(RHEL_BYOS, SLES_BYOS): this command does not inspect the "
                 "guest");
      return EXIT_ERROR;
    }
    vm.license_type = vmdef_license_type (true, NULL, NULL);
  }
  if (vmdef_fill (&vm, &vo) == -1)
    return EXIT_ERROR;
  if (o.json)
    j = cJSON_CreateObject ();
  if (vmdef_emit (&vm, &vo, dir, j, !o.json) == -1)
    goto out;
  if (j) {
    char *s = cJSON_Print (j);
    puts (s);
    free (s);
  }
  ret = EXIT_OK;
 out:
  cJSON_Delete (j);
  return ret;
}

static const struct command template_cmd = {
  "template", "write the ARM template of a VM made of hydrated blobs",
  template_run,
};
COMMAND (template_cmd);
