/* azprep check: is this VM (or this fleet) ready to migrate?  Strictly
 * read-only.  See prep/check/rule.h and the manual section in check.pod.
 */
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "prep/azprep.h"
#include "prep/cmd/args.h"
#include "prep/common/json.h"
#include "prep/check/rule.h"
#include "prep/check/vm.h"
#include "prep/check/report/report.h"
#include "prep/fixup.h"

static const char usage[] =
  "Usage: azprep check [OPTIONS] [--format FMT] DISK...\n"
  "       azprep check [OPTIONS] --ovf FILE.ovf|FILE.ova | --vmx FILE.vmx\n"
  "       azprep check [OPTIONS] --vms FLEET [--shard I/N | --vm-index I]\n"
  "       azprep check [OPTIONS] --merge [--vms FLEET] REPORT.json...\n"
  "Check, read-only, whether VMs are ready to migrate to Azure: every\n"
  "fixup's check (what 'azprep fix' would repair) and the readiness rules\n"
  "no fixup repairs (OS support, architecture, disk sizes and counts,\n"
  "firmware and generation, encryption, hibernation, dirty filesystems,\n"
  "free space, swap, network filesystems).  Nothing is written to disks.\n"
  "\n"
  "Options:\n"
  "  --vms FILE         check a fleet: a JSON list [{\"name\": N, \"disks\":\n"
  "                     [D...]}] or one VM per line \"NAME DISK...\"\n"
  "  --jobs N           VMs checked at once (default: the cores, at most\n"
  "                     the GiB of available memory less one)\n"
  "  --shard I/N        only every N-th VM of the fleet from VM I (0-based),\n"
  "                     one of N machines' part; --json writes its report\n"
  "  --vm-index I       only VM I of the fleet (0-based; an array task's)\n"
  "  --merge            the reports of the shards (files of --json\n"
  "                     output) into one, in the order of --vms if given\n"
  "  --ovf FILE         disks, firmware, CPUs, memory from an OVF or OVA\n"
  "                     (a vApp of several VMs is checked as a fleet)\n"
  "  --ovf-vm ID        only the VM (VirtualSystem) ID of the OVF or OVA\n"
  "  --vmx FILE         the same from a VMware .vmx file\n"
  "  --name NAME        the VM's name in reports (default: descriptor or\n"
  "                     first disk)\n"
  "  --size NAME        the target Azure size (default: suggested from\n"
  "                     the descriptor's CPUs and memory)\n"
  "  --sizes FILE       the Azure size table (default: the one installed\n"
  "                     with azprep, azure-sizes.json)\n"
  "  --generation 1|2   the Azure generation the VM will be created as\n"
  "                     (a warning if the guest's firmware cannot boot it)\n"
  "  --json             print the report as JSON (schema in azprep(1))\n"
  "  --junit FILE       also write a JUnit XML report (one testsuite per\n"
  "                     VM, one testcase per rule and fixup)\n"
  "  --html FILE        also write a self-contained HTML report\n"
  "  --list             list the rules and fixups (ids) and exit\n"
  "  --format FMT       format of the disks that follow\n"
  "  --vsphere-allow-http, --vsphere-insecure\n"
  "                     let vsphere:// disks with http=1 / insecure=1 be\n"
  "                     read (plain HTTP, or TLS unverified), with a warning\n"
  "  -v, -x, --help     debug, trace libguestfs, this text\n"
  "\n"
  "Exit: 0 ready, 4 ready with warnings, 3 not ready (blockers),\n"
  "      1 could not check, 2 usage.  For a fleet: the worst VM's.\n";

static void
list_rules (bool json)
{
  size_t n, nf;
  const struct rule *const *all = rule_all (&n);
  const struct fixup *const *fixups = fixup_all (&nf);
  cJSON *a = json ? cJSON_CreateArray () : NULL;

  for (size_t i = 0; i < n + nf; i++) {
    const char *id = i < n ? all[i]->id : fixups[i - n]->name;
    const char *heading = i < n ? all[i]->heading : fixups[i - n]->heading;
    const char *kind = i < n ? "rule" : "fixup";
    const char *sev = i < n ? severity_name (all[i]->severity) : "-";
    if (json) {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "id", id);
      cJSON_AddStringToObject (o, "kind", kind);
      cJSON_AddStringToObject (o, "severity", sev);
      cJSON_AddStringToObject (o, "heading", heading);
      cJSON_AddItemToArray (a, o);
    }
    else
      printf ("%-28s %-6s %-8s %s\n", id, kind, sev, heading);
  }
  if (json) {
    char *s = cJSON_Print (a);
    puts (s);
    free (s);
    cJSON_Delete (a);
  }
}

/* The command line, as parsed. */
struct check_args {
  struct common_opts o;
  struct check_opts co;
  struct disk_args d;
  const char *vms_file, *ovf, *ovf_vm, *vmx;
  const char *junit, *html;
  int jobs;
  int64_t shard, nshards;       /* --shard I/N, --vm-index I (N = -1) */
  bool list, merge;
};

enum { OPT_VMS = OPT_FIRST_COMMAND_SPECIFIC, OPT_JOBS, OPT_OVF, OPT_VMX,
       OPT_NAME, OPT_SIZE, OPT_SIZES, OPT_JUNIT, OPT_HTML, OPT_LIST,
       OPT_GENERATION, OPT_OVF_VM, OPT_SHARD, OPT_VM_INDEX, OPT_MERGE };

/* One of check's own options or a disk (args_handler). */
static int
check_option (int c, char *arg, void *data)
{
  struct check_args *a = data;
  int64_t n;

  switch (c) {
  case OPT_VMS: a->vms_file = arg; break;
  case OPT_JOBS:
    if (parse_int64 (arg, &n) == -1 || n < 1 || n > 256)
      return usage_error ("check", "--jobs: a number from 1 to 256");
    a->jobs = n;
    break;
  case OPT_OVF: a->ovf = arg; break;
  case OPT_OVF_VM: a->ovf_vm = arg; break;
  case OPT_VMX: a->vmx = arg; break;
  case OPT_NAME: a->co.name = arg; break;
  case OPT_SIZE: a->co.size = arg; break;
  case OPT_SIZES: a->co.sizes_file = arg; break;
  case OPT_JUNIT: a->junit = arg; break;
  case OPT_HTML: a->html = arg; break;
  case OPT_LIST: a->list = true; break;
  case OPT_MERGE: a->merge = true; break;
  case OPT_SHARD:
    if (a->nshards || fleet_parse_shard (arg, &a->shard, &a->nshards) == -1)
      return usage_error ("check", "--shard I/N: 0 <= I < N, given once "
                          "(not with --vm-index)");
    break;
  case OPT_VM_INDEX:
    if (a->nshards || parse_int64 (arg, &a->shard) == -1 || a->shard < 0)
      return usage_error ("check", "--vm-index: a number from 0, given "
                          "once (not with --shard)");
    a->nshards = -1;
    break;
  case OPT_GENERATION:
    if (args_generation ("check", arg, &n) != -1)
      return EXIT_USAGE;
    a->co.generation = n;
    break;
  default:
    return disk_args_option (&a->d, c, arg);
  }
  return ARGS_OK;
}

/* Returns -1 when parsed (go on), else the exit code. */
static int
parse_args (int argc, char **argv, struct check_args *a)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    DISK_LONG_OPTIONS,
    { "vms", required_argument, NULL, OPT_VMS },
    { "jobs", required_argument, NULL, OPT_JOBS },
    { "ovf", required_argument, NULL, OPT_OVF },
    { "ova", required_argument, NULL, OPT_OVF },
    { "ovf-vm", required_argument, NULL, OPT_OVF_VM },
    { "vmx", required_argument, NULL, OPT_VMX },
    { "name", required_argument, NULL, OPT_NAME },
    { "size", required_argument, NULL, OPT_SIZE },
    { "sizes", required_argument, NULL, OPT_SIZES },
    { "junit", required_argument, NULL, OPT_JUNIT },
    { "html", required_argument, NULL, OPT_HTML },
    { "list", no_argument, NULL, OPT_LIST },
    { "merge", no_argument, NULL, OPT_MERGE },
    { "shard", required_argument, NULL, OPT_SHARD },
    { "vm-index", required_argument, NULL, OPT_VM_INDEX },
    { "generation", required_argument, NULL, OPT_GENERATION },
    { NULL, 0, NULL, 0 }
  };

  int r = args_parse ("check", usage, argc, argv, longopts, &a->o,
                      check_option, a);

  if (r != -1)
    disks_free (a->d.disks, a->d.ndisks);
  return r;
}

/* After the options: the disks after "--", then one source of VMs and
 * a known size.  Returns -1 (go on), else the exit code. */
static int
check_args_complete (int argc, char **argv, struct check_args *a)
{
  /* Disks after "--" (fleet children use it: a disk named "-x"). */
  if (disk_args_rest (&a->d, argc, argv) != -1)
    return EXIT_ERROR;
  a->co.trace = a->o.trace;
  if (a->merge) {
    if (a->ovf || a->vmx || a->nshards || a->d.ndisks == 0) {
      disks_free (a->d.disks, a->d.ndisks);
      return usage_error ("check", "--merge takes report files (and "
                          "--vms), no --ovf, --vmx, --shard or --vm-index");
    }
    return -1;
  }
  if (a->nshards && !a->vms_file)
    return usage_error ("check", "--shard and --vm-index go with --vms");
  if ((a->vms_file != NULL) + (a->ovf != NULL) + (a->vmx != NULL) > 1 ||
      ((a->vms_file || a->ovf || a->vmx) && a->d.ndisks)) {
    disks_free (a->d.disks, a->d.ndisks);
    return usage_error ("check", "give disks, --ovf, --vmx or --vms: "
                        "one of them");
  }
  if (!a->vms_file && !a->ovf && !a->vmx && a->d.ndisks == 0)
    return usage_error ("check", "no disk given");
  if (a->ovf_vm && !a->ovf)
    return usage_error ("check", "--ovf-vm goes with --ovf");
  if (a->co.size || a->co.sizes_file) {
    /* Catch a bad table or size name once, before any appliance. */
    struct size_table *t = sizes_load (a->co.sizes_file);
    bool ok = t && (!a->co.size || sizes_find (t, a->co.size));
    if (t && !ok)
      azp_error ("--size %s: not in the size table %s", a->co.size,
                 t->source);
    sizes_free (t);
    if (!ok) {
      disks_free (a->d.disks, a->d.ndisks);
      return EXIT_USAGE;
    }
  }
  return -1;
}

/* One VM from its disks or its descriptor: its result, added to VMS.
 * Returns -1, or the exit code if it could not be started. */
static int
check_one (struct check_args *a, cJSON *vms)
{
  struct vm_desc *desc = NULL;

  if (a->ovf || a->vmx) {
    desc = a->ovf ? desc_read_ovf_vm (a->ovf, a->ovf_vm)
      : desc_read_vmx (a->vmx);
    if (!desc) {
      cJSON_AddItemToArray (vms, check_vm_error (a->co.name ? a->co.name
                                                 : a->ovf ? a->ovf : a->vmx,
                                                 log_last_error ()));
      return -1;
    }
    for (size_t i = 0; i < desc->ndisks; i++) {
      struct disk *d;
      if (disks_add (&a->d.disks, &a->d.ndisks, desc->disks[i],
                     a->d.format) == -1)
        return EXIT_ERROR;
      /* An OVA member, served decoded (raw) by qemu-nbd. */
      d = &a->d.disks[i];
      if (desc->nbd_server && desc->nbd_server[i]) {
        free (d->format);
        d->format = NULL;
        d->nbd_server = xstrdup (desc->nbd_server[i]);
        d->size = desc->nbd_size[i];
      }
    }
  }
  cJSON_AddItemToArray (vms, check_vm (a->d.disks, a->d.ndisks, desc,
                                       &a->co));
  return -1;
}

/* Print the report (text or JSON) and write the JUnit and HTML files.
 * Returns the exit code. */
static int
write_report (const struct check_args *a, cJSON *vms)
{
  cJSON *report = check_report (vms);
  int ret = verdict_exit (json_str (report, "verdict"));

  if (a->o.json) {
    char *s = cJSON_Print (report);
    if (s)
      puts (s);
    free (s);
  }
  else
    check_print_text (stdout, report, isatty (STDOUT_FILENO) &&
                      !getenv ("NO_COLOR"));
  if (a->junit && check_write_junit (a->junit, report) == -1)
    ret = EXIT_ERROR;
  if (a->html && check_write_html (a->html, report) == -1)
    ret = EXIT_ERROR;
  cJSON_Delete (report);
  return ret;
}

/* Is --ovf a vApp (several VMs), to check as a fleet?  0 if so.  A
 * descriptor that cannot be read is checked as one VM, which reports
 * why. */
static int
fleet_from_ovf (const struct check_args *a)
{
  CLEANUP_FREE_STRING_LIST char **ids = NULL, **names = NULL;
  int n = desc_ovf_vms (a->ovf, &ids, &names);

  return n > 1 ? 0 : -1;
}

/* --merge: the reports of the shards into one.  The operands are the
 * report files, not disks. */
static int
check_merge (const struct check_args *a)
{
  struct fleet_vm *fleet = NULL;
  size_t n = 0;
  char **files = calloc (a->d.ndisks + 1, sizeof *files);
  cJSON *vms = NULL;

  if (files && (!a->vms_file || fleet_read (a->vms_file, &fleet, &n) == 0)) {
    for (size_t i = 0; i < a->d.ndisks; i++)
      files[i] = a->d.disks[i].path;
    vms = fleet_merge (files, a->d.ndisks, fleet, n);
  }
  free (files);
  fleet_free (fleet, n);
  disks_free (a->d.disks, a->d.ndisks);
  return vms ? write_report (a, vms) : EXIT_ERROR;
}

static int
check_run (int argc, char **argv)
{
  struct check_args a = { 0 };
  cJSON *vms;
  int r;

  r = parse_args (argc, argv, &a);
  if (r != -1)
    return r;
  if (a.list) {
    list_rules (a.o.json);
    disks_free (a.d.disks, a.d.ndisks);
    return EXIT_OK;
  }
  r = check_args_complete (argc, argv, &a);
  if (r != -1)
    return r;

  if (a.merge)
    return check_merge (&a);
  if (a.vms_file || (a.ovf && !a.ovf_vm && fleet_from_ovf (&a) == 0)) {
    struct fleet_vm *fleet = NULL;
    size_t n = 0, nsel;
    if (a.vms_file ? fleet_read (a.vms_file, &fleet, &n) == -1
        : fleet_ovf_vms (a.ovf, a.d.format, &fleet, &n) == -1)
      return EXIT_ERROR;
    nsel = n;
    if (a.nshards == -1 && a.shard >= (int64_t) n) {
      fleet_free (fleet, n);
      return usage_error ("check", "--vm-index: past the fleet's last VM");
    }
    if (a.nshards)
      nsel = a.nshards == -1 ? fleet_select (fleet, n, a.shard, n)
        : fleet_select (fleet, n, a.shard, a.nshards);
    vms = fleet_check (fleet, nsel, a.jobs ? a.jobs : fleet_default_jobs (),
                       &a.co, "/proc/self/exe");
    fleet_free (fleet, n);
  }
  else {
    vms = cJSON_CreateArray ();
    r = check_one (&a, vms);
    if (r != -1)
      return r;
  }
  return write_report (&a, vms);
}

static const struct command check_cmd = {
  "check", "is a VM (or a fleet) ready to migrate? read-only", check_run,
};
COMMAND (check_cmd);
