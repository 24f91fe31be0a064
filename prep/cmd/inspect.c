/* azprep inspect: what is this guest, read-only. */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
#include "prep/guest/guest.h"
#include "prep/inspect/inspect.h"

static const char usage[] =
  "Usage: azprep inspect [OPTIONS] [--format FMT] DISK...\n"
  "Inspect a VM's disks, read-only: operating system, firmware and Azure\n"
  "generation, partitions and filesystems, kernels and initramfs drivers,\n"
  "network configuration, services (Linux); control set, drivers, SAN\n"
  "policy, RDP, hibernation (Windows).  All of a VM's disks go together.\n"
  "\n"
  "Options:\n"
  "  --format FMT   format of the disks that follow (raw, qcow2, vmdk,\n"
  "                 vpc, vhdx); detected when not given\n"
  "  --json         print JSON (schema in azprep(1))\n"
  "  -v, --verbose  debug messages;  -x, --trace  trace libguestfs calls\n"
  "  --help         this text\n"
  "\n"
  "Exit: 0 inspected, 1 error (unreadable disk, no OS, several OSes),\n"
  "      2 usage, 3 refused (a LUKS or BitLocker root).\n";

static int
inspect_run (int argc, char **argv)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "format", required_argument, NULL, OPT_FORMAT },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct disk *disks = NULL;
  size_t ndisks = 0;
  const char *format = NULL;
  struct guest *gs;
  cJSON *j;
  int c, ret = EXIT_ERROR;

  /* "-" in optstring: disks and --format interleave, in order. */
  while ((c = getopt_long (argc, argv, "-" COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&o, c, usage))
      continue;
    switch (c) {
    case OPT_FORMAT:
      format = !strcmp (optarg, "auto") ? NULL : optarg;
      break;
    case 1:
      if (disks_add (&disks, &ndisks, optarg, format) == -1)
        return EXIT_ERROR;
      break;
    default:
      return usage_error ("inspect", "unknown option");
    }
  }
  if (ndisks == 0)
    return usage_error ("inspect", "no disk given");

  gs = guest_open (disks, ndisks, GUEST_READONLY |
                   (o.trace ? GUEST_TRACE : 0));
  if (!gs)
    goto out;
  if (guest_inspect (gs) == -1 || guest_mount (gs) == -1) {
    if (gs->refused)
      ret = EXIT_NOTREADY;
    goto out_close;
  }
  j = guest_inspect_json (gs);
  if (!j)
    goto out_close;
  if (o.json) {
    char *s = cJSON_Print (j);
    if (s)
      puts (s);
    free (s);
  }
  else
    inspect_print_text (stdout, j);
  cJSON_Delete (j);
  ret = EXIT_OK;
 out_close:
  guest_close (gs);
 out:
  disks_free (disks, ndisks);
  return ret;
}

static const struct command inspect_cmd = {
  "inspect", "describe a VM's disks and guest, read-only", inspect_run,
};
COMMAND (inspect_cmd);
