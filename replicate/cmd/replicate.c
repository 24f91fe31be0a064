/* azprep replicate: copy a VM's disks to Azure page blobs (fixed VHD),
 * then send deltas; each completed cycle becomes a recovery point.
 */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
#include "replicate/cmd/fleet.h"
#include "replicate/engine/replicate.h"
#include "replicate/engine/state.h"
#include "replicate/vsphere/vsphere.h"

static const char usage[] =
  "Usage: azprep replicate [OPTIONS] --container NAME | --to URL |\n"
  "         --to-file FILE DISK...\n"
  "       azprep replicate [OPTIONS] --container NAME | --to URL\n"
  "         --vms FLEET [--jobs N | --vm-index I]\n"
  "Replicate a VM's disks to Azure Storage as fixed-VHD page blobs: an\n"
  "initial copy, then delta cycles sending only what changed.  Each\n"
  "completed cycle is a recovery point (a blob snapshot).  The disks are\n"
  "only read.  Run the same command again to resume after a failure.\n"
  "\n"
  "Target:\n"
  "  --container NAME  container in the storage account of the credentials\n"
  "                    (blobs NAME-disk0.vhd, NAME-disk1.vhd, ...)\n"
  "  --to URL          a container URL (no SAS: the credentials sign)\n"
  "  --to-file FILE    URLs with a SAS, one a line: a container URL, or\n"
  "                    a blob URL per disk, e.g. managed disks' upload\n"
  "                    URLs (the blobs must exist; only Put Page is used\n"
  "                    there).  A SAS is a secret: never on the command\n"
  "                    line\n"
  "  --name NAME       job name and blob prefix (default: first disk's name)\n"
  "Fleets:\n"
  "  --vms FLEET       every VM of a fleet file (as check --vms reads it),\n"
  "                    each its own job named after the VM, in a child\n"
  "                    azprep; output lines carry the VM's name\n"
  "  --jobs N          VMs replicated at once (default 4)\n"
  "  --vm-index I      only VM I of FLEET (0-based), in this process: one\n"
  "                    task of a Slurm or Kubernetes array\n"
  "Source:\n"
  "  --format FMT      format of the disks that follow (raw, qcow2, vmdk,\n"
  "                    vpc, vhdx); detected when not given.  A DISK may\n"
  "                    also be an NBD URI (nbd://, nbd+unix://...)\n"
  "  --bitmap NAME     qcow2 persistent dirty bitmap to find deltas with (it\n"
  "                    must exist from the initial copy on); default: the\n"
  "                    image's only bitmap if it has exactly one\n"
  "  --enable-cbt      vsphere:// disks: turn changed block tracking on\n"
  "                    where it is off (without it, such a VM's cycles read\n"
  "                    whole disks and compare digests, with a warning)\n"
  "  --task-timeout SECS  vsphere:// disks: give up waiting for a vCenter\n"
  "                    task (a snapshot removal) after SECS (default 0: no\n"
  "                    limit; progress is shown meanwhile)\n"
  "  --keepalive SECS  vsphere:// disks: renew the vCenter session every SECS\n"
  "                    during a cycle (default 300)\n"
  "Cycles:\n"
  "  --cycles N        run N cycles (default 1: the initial copy, or one\n"
  "                    delta when it is done)\n"
  "  --continuous      run cycles until stopped (SIGINT, SIGTERM)\n"
  "  --interval SECS   wait between delta cycles (default: Azure Migrate's\n"
  "                    rule, half the last cycle's duration, 1 h to 12 h;\n"
  "                    the first delta right after the initial copy)\n"
  "  --keep N          recovery points to keep (default 3)\n"
  "Transfer:\n"
  "  --parallel N      requests in flight per disk (default 8)\n"
  "  --cacert FILE     CA certificates to verify the endpoint with\n"
  "  --api-version V   the storage REST version sent as x-ms-version\n"
  "                    (default " BLOB_DEFAULT_VERSION ", or\n"
  "                    $" BLOB_VERSION_ENV "; older for Azure Stack Hub)\n"
  "  --allow-http      allow plain HTTP to a host that is not loopback\n"
  "  --credentials FILE  connection string, or AZURE_STORAGE_* lines\n"
  "                    (default: the AZURE_STORAGE_* environment variables)\n"
  "  --state DIR       journal directory (default ~/.local/state/azprep)\n"
  STATE_USAGE ("                    ")
  "  --json            progress and results as JSON lines on stdout\n"
  "  -v, --verbose     debug messages\n"
  "  --help            this text\n"
  "\n"
  "Credentials are never taken from the command line.  SIGINT or SIGTERM\n"
  "stops cleanly: writes in flight finish, the journal records them, leases\n"
  "are released; a cycle cut short resumes with the same command.\n"
  "Exit: 0 done (or stopped between cycles), 1 error (or stopped during a\n"
  "cycle), 2 usage, 3 refused (blob not created by azprep), 5 the job's\n"
  "lease in the state container was lost (another worker may hold it;\n"
  "nothing more was written), 6 another worker holds the job.\n";

enum {
  OPT_CONTAINER = OPT_FIRST_COMMAND_SPECIFIC, OPT_TO, OPT_NAME, OPT_PARALLEL,
  OPT_CYCLES, OPT_CONTINUOUS, OPT_INTERVAL, OPT_KEEP, OPT_STATE, OPT_CACERT,
  OPT_ALLOW_HTTP, OPT_CREDENTIALS, OPT_BITMAP, OPT_ENABLE_CBT,
  OPT_TASK_TIMEOUT, OPT_KEEPALIVE, OPT_API_VERSION, OPT_TO_FILE,
  OPT_VMS, OPT_JOBS, OPT_VM_INDEX,
};

struct args {
  struct common_opts o;
  struct replicate_opts r;
  struct state_args st;         /* --state-container, --wait-lock */
  char **to_file;               /* the URLs read from --to-file */
  const char *vms;              /* --vms FLEET, or NULL */
  int64_t jobs, vm_index;       /* --jobs, --vm-index (-1: all VMs) */
};

/* The default job name: the first disk's file name without extension. */
static char *
default_name (const char *disk)
{
  const char *b = strrchr (disk, '/');
  char *n = xstrdup (b ? b + 1 : disk), *dot;
  if (!n)
    return NULL;
  dot = strchr (n, '.');
  if (dot && dot != n)
    *dot = '\0';
  for (char *p = n; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
      *p = '-';
  return n;
}

/* The options together: -1 (go on), else the exit code. */
static int
args_complete (struct args *args)
{
  struct replicate_opts *a = &args->r;

  a->state_container = args->st.container;
  a->wait_lock = args->st.wait_lock;
  if (args->vms && (a->ndisks || a->name))
    return usage_error ("replicate", "--vms: the fleet file names the VMs "
                        "and their disks (no DISK, no --name)");
  if (args->vm_index >= 0 && !args->vms)
    return usage_error ("replicate", "--vm-index goes with --vms");
  if (args->vms && a->nto && replicate_url_is_blob (a->to[0]))
    return usage_error ("replicate", "--vms: a container (--container, or "
                        "a container URL), not blob URLs");
  if (a->ndisks == 0 && !args->vms)
    return usage_error ("replicate", "no disk given");
  if (!a->container == !a->nto)
    return usage_error ("replicate",
                        "give either --container, --to or --to-file");
  if (a->container && !replicate_valid_name (a->container))
    return usage_error ("replicate", "--container: not a valid name");
  if (a->nto > 1 && !replicate_url_is_blob (a->to[0]))
    return usage_error ("replicate", "--to: one container URL only");
  return state_args_check (&args->st, "replicate", true);
}

int
replicate_exit (int r)
{
  return r == 0 ? EXIT_OK : r == -2 ? EXIT_NOTREADY : r == -3 ? EXIT_LEASE_LOST
    : r == -4 ? EXIT_BUSY : EXIT_ERROR;
}

/* The fleet options: 0 taken, an exit code (usage), or -1 not one. */
static int
fleet_option (struct args *args, int c)
{
  switch (c) {
  case OPT_VMS:
    args->vms = optarg;
    return 0;
  case OPT_JOBS:
    if (parse_int64 (optarg, &args->jobs) == -1 || args->jobs < 1 ||
        args->jobs > 256)
      return usage_error ("replicate", "--jobs: 1 to 256");
    return 0;
  case OPT_VM_INDEX:
    if (parse_int64 (optarg, &args->vm_index) == -1 || args->vm_index < 0)
      return usage_error ("replicate", "--vm-index: a number from 0");
    return 0;
  default:
    return -1;
  }
}

static int
parse_args (int argc, char **argv, struct args *args)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "format", required_argument, NULL, OPT_FORMAT },
    { "container", required_argument, NULL, OPT_CONTAINER },
    { "to", required_argument, NULL, OPT_TO },
    { "to-file", required_argument, NULL, OPT_TO_FILE },
    { "name", required_argument, NULL, OPT_NAME },
    { "parallel", required_argument, NULL, OPT_PARALLEL },
    { "cycles", required_argument, NULL, OPT_CYCLES },
    { "continuous", no_argument, NULL, OPT_CONTINUOUS },
    { "interval", required_argument, NULL, OPT_INTERVAL },
    { "keep", required_argument, NULL, OPT_KEEP },
    { "state", required_argument, NULL, OPT_STATE },
    STATE_LONG_OPTIONS,
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "api-version", required_argument, NULL, OPT_API_VERSION },
    { "allow-http", no_argument, NULL, OPT_ALLOW_HTTP },
    { "credentials", required_argument, NULL, OPT_CREDENTIALS },
    { "bitmap", required_argument, NULL, OPT_BITMAP },
    { "enable-cbt", no_argument, NULL, OPT_ENABLE_CBT },
    { "task-timeout", required_argument, NULL, OPT_TASK_TIMEOUT },
    { "keepalive", required_argument, NULL, OPT_KEEPALIVE },
    { "vms", required_argument, NULL, OPT_VMS },
    { "jobs", required_argument, NULL, OPT_JOBS },
    { "vm-index", required_argument, NULL, OPT_VM_INDEX },
    { NULL, 0, NULL, 0 }
  };
  struct replicate_opts *a = &args->r;
  const char *format = NULL;
  int c, r;

  /* --parallel default, by measurement (tests/bench/replicate.sh with
   * BENCH_SWEEP=1; 2 shared Xeon CPUs, 23 GiB, load average 9 to 14,
   * 2026-11-26; 128 MiB of data, best of two, MiB/s):
   *   in flight          1     2     4     8    16    32
   *   Azurite direct    55    78    44    59    85    74
   *   +200 ms/response  12    15    17    13    23    22
   * Azurite is one node.js thread: past 2 in flight it is noise.  With
   * latency added (a WAN round trip plus the service time of a 4 MiB
   * Put Page) throughput grows to ~16 and then flattens, at this
   * load's noise.  For Azure, Little's law: a standard page blob's
   * target is 60 MiB/s (15 Put Pages of 4 MiB per second); at 0.3 to
   * 0.6 s per request that is 5 to 9 in flight, so 8 reaches it, and
   * more only costs memory ((N + 3) x 4 MiB of buffers).  Premium or
   * managed-disk targets (up to 500 MiB/s) and long round trips want a
   * higher --parallel.
   */
  a->parallel = 8;
  a->cycles = 1;
  a->interval = -1;
  a->keep = 3;
  args->jobs = 4;
  args->vm_index = -1;
  a->disks = calloc (argc + 1, sizeof *a->disks);
  a->formats = calloc (argc + 1, sizeof *a->formats);
  a->to = calloc (argc + 1, sizeof *a->to);
  if (!a->disks || !a->formats || !a->to)
    return EXIT_ERROR;
  while ((c = getopt_long (argc, argv, "-" COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&args->o, c, usage))
      continue;
    r = state_args_option (&args->st, "replicate", c, optarg);
    if (r >= 0 || (r = fleet_option (args, c)) >= 0) {
      if (r > 0)
        return r;
      continue;
    }
    switch (c) {
    case 1:
      a->formats[a->ndisks] = (char *) format;
      a->disks[a->ndisks++] = optarg;
      break;
    case OPT_FORMAT:
      format = !strcmp (optarg, "auto") ? NULL : optarg;
      break;
    case OPT_CONTAINER: a->container = optarg; break;
    case OPT_TO:
      if (creds_url_has_sas (optarg))
        return usage_error ("replicate", "--to: refused: the URL carries a "
                            "SAS, a secret that would show in the process "
                            "list and shell history; put the URL in a file "
                            "(mode 600) and give --to-file FILE");
      a->to[a->nto++] = optarg;
      break;
    case OPT_TO_FILE:
      if (args->to_file || a->nto)
        return usage_error ("replicate", "give --to or --to-file once");
      args->to_file = creds_read_urls (optarg, &a->nto);
      if (!args->to_file)
        return EXIT_ERROR;
      free (a->to);
      a->to = args->to_file;
      break;
    case OPT_NAME: a->name = optarg; break;
    case OPT_STATE: a->state = optarg; break;
    case OPT_CACERT: a->cacert = optarg; break;
    case OPT_API_VERSION:
      if (blob_set_api_version (optarg) == -1)
        return usage_error ("replicate", "bad --api-version");
      break;
    case OPT_CREDENTIALS: a->credentials = optarg; break;
    case OPT_BITMAP: a->bitmap = optarg; break;
    case OPT_CONTINUOUS: a->continuous = true; break;
    case OPT_ALLOW_HTTP: a->allow_http = true; break;
    case OPT_ENABLE_CBT: a->enable_cbt = true; break;
    case OPT_TASK_TIMEOUT: {
      int64_t t;
      if (parse_int64 (optarg, &t) == -1 || t < 0)
        return usage_error ("replicate", "--task-timeout: seconds, 0 or more");
      vsphere_tuning.task_timeout = t;
      break;
    }
    case OPT_KEEPALIVE: {
      int64_t t;
      if (parse_int64 (optarg, &t) == -1 || t < 1 || t > 86400)
        return usage_error ("replicate", "--keepalive: 1 to 86400 seconds");
      vsphere_tuning.keepalive = t;
      break;
    }
    case OPT_PARALLEL:
      if (parse_int64 (optarg, &a->parallel) == -1 || a->parallel < 1 ||
          a->parallel > 64)
        return usage_error ("replicate", "--parallel: 1 to 64");
      break;
    case OPT_CYCLES:
      if (parse_int64 (optarg, &a->cycles) == -1 || a->cycles < 1)
        return usage_error ("replicate", "--cycles: a positive number");
      break;
    case OPT_INTERVAL:
      if (parse_int64 (optarg, &a->interval) == -1 || a->interval < 0)
        return usage_error ("replicate", "--interval: seconds, 0 or more");
      break;
    case OPT_KEEP:
      if (parse_int64 (optarg, &a->keep) == -1 || a->keep < 1 ||
          a->keep > 100)
        return usage_error ("replicate", "--keep: 1 to 100");
      break;
    default:
      return usage_error ("replicate", "unknown option");
    }
  }
  return args_complete (args);
}

static int
replicate_run (int argc, char **argv)
{
  struct args a = { 0 };
  CLEANUP_FREE char *name = NULL;
  int ret, r;

  ret = parse_args (argc, argv, &a);
  if (ret != -1)
    goto out;
  a.r.json = a.o.json;
  vsphere_tuning.json = a.o.json;   /* task progress events */
  if (a.vms) {
    ret = a.vm_index >= 0 ? replicate_fleet_one (a.vms, a.vm_index, &a.r)
      : replicate_fleet_all (a.vms, a.jobs, a.o.json, argc, argv);
    goto out;
  }
  name = a.r.name ? xstrdup (a.r.name) : default_name (a.r.disks[0]);
  ret = EXIT_ERROR;
  if (!name)
    goto out;
  a.r.name = name;
  if (!replicate_valid_name (a.r.name)) {
    ret = usage_error ("replicate", "--name: letters, digits, '-', '_', '.'");
    goto out;
  }
  r = replicate_job_run (&a.r);
  ret = replicate_exit (r);
 out:
  free (a.r.disks);
  free (a.r.formats);
  if (a.to_file)
    creds_urls_free (a.to_file);
  else
    free (a.r.to);
  return ret;
}

static const struct command replicate_cmd = {
  "replicate", "replicate a VM's disks to Azure page blobs (with deltas)",
  replicate_run,
};
COMMAND (replicate_cmd);
