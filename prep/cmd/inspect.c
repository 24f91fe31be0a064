/* azprep inspect: what is this guest, read-only. */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
#include "prep/cmd/args.h"
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
  "  --vsphere-allow-http, --vsphere-insecure: let vsphere:// disks with\n"
  "                 http=1 / insecure=1 be read, with a warning\n"
  "  -v, --verbose  debug messages;  -x, --trace  trace libguestfs calls\n"
  "  --help         this text\n"
  "\n"
  "Exit: 0 inspected, 1 error (unreadable disk, no OS, several OSes),\n"
  "      2 usage, 3 refused (a LUKS or BitLocker root).\n";

static int
inspect_option (int c, char *arg, void *data)
{
  return disk_args_option (data, c, arg);
}

static int
inspect_run (int argc, char **argv)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    DISK_LONG_OPTIONS,
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct disk_args d = { 0 };
  struct guest *gs;
  cJSON *j;
  int r, ret = EXIT_ERROR;
  double t0;

  r = args_parse ("inspect", usage, argc, argv, longopts, &o,
                  inspect_option, &d);
  if (r != -1)
    return r;
  if (d.ndisks == 0)
    return usage_error ("inspect", "no disk given");

  gs = guest_open (d.disks, d.ndisks, GUEST_READONLY |
                   (o.trace ? GUEST_TRACE : 0));
  if (!gs)
    goto out;
  t0 = monotonic_seconds ();
  if (guest_inspect (gs) == -1 || guest_mount (gs) == -1) {
    if (gs->refused)
      ret = EXIT_NOTREADY;
    goto out_close;
  }
  guest_timing (gs, "inspection", t0);
  t0 = monotonic_seconds ();
  j = guest_inspect_json (gs);
  if (!j)
    goto out_close;
  guest_timing (gs, "describe", t0);
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
  t0 = monotonic_seconds ();
  guest_close (gs);
  azp_debug ("time: close %.2f s", monotonic_seconds () - t0);
 out:
  disks_free (d.disks, d.ndisks);
  return ret;
}

static const struct command inspect_cmd = {
  "inspect", "describe a VM's disks and guest, read-only", inspect_run,
};
COMMAND (inspect_cmd);
