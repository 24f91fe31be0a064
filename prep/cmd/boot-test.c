/* azprep boot-test: boot a prepared guest under qemu, on a temporary
 * overlay, with its disks on another controller than VMware's
 * (virtio-scsi, or virtio-blk where /dev/sdX become /dev/vdX) and a
 * NIC with a new MAC, as on Azure.  Passes when the serial console
 * shows the default target, and sshd answers with its banner through
 * user-mode networking's port forward to 10.0.2.15, the address slirp's
 * DHCP server leases (a guest without a DHCP lease cannot answer there).
 *
 * It fails early, without waiting for --timeout, when the console shows
 * the guest cannot get there: a rescue shell, emergency mode, a kernel
 * panic, the firmware with nothing to boot, a device job with no time
 * limit running for minutes, or no new console output for --silence
 * seconds before the default target (prep/boot/console.c reads the
 * signs; prep/boot/qemu.c and watch.c boot and watch).  This file is
 * the command: its options, its output and its exit code.
 *
 * Limits: qemu has no VMBus, so the Hyper-V drivers are not exercised
 * by the boot; their presence is proven by listing each initramfs
 * (azprep inspect / fix).
 */
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "prep/azprep.h"
#include "prep/cmd/args.h"
#include "prep/boot/boot.h"
#include "prep/guest/guest.h"

static const char usage[] =
  "Usage: azprep boot-test [OPTIONS] [--format FMT] DISK...\n"
  "Boot a prepared VM under qemu and check that it comes up as it must on\n"
  "Azure: the disks on another controller (virtio-scsi or virtio-blk), a\n"
  "NIC with a new MAC, user-mode networking with DHCP.  The\n"
  "disks are never written: the guest runs on temporary overlays.\n"
  "Passes when the serial console shows the default target, and sshd\n"
  "answers with its banner on a forwarded port (the guest is reachable\n"
  "only at the address the DHCP server leased).  qemu has no VMBus: the\n"
  "Hyper-V drivers are checked by listing the initramfs (inspect), not\n"
  "by this boot.\n"
  "\n"
  "Options:\n"
  "  --accel kvm|tcg        default: kvm if /dev/kvm is usable, else tcg\n"
  "  --firmware bios|uefi   default: uefi if the first disk has an EFI\n"
  "                         system partition, else bios (OVMF for uefi)\n"
  "  --timeout SECS         give up after SECS (default 600)\n"
  "  --silence SECS         fail when the console prints nothing for SECS\n"
  "                         before the default target (default 120; 0:\n"
  "                         never)\n"
  "  --controller virtio-scsi|virtio-blk\n"
  "                         where the disks go (default virtio-scsi; with\n"
  "                         virtio-blk /dev/sdX names become /dev/vdX)\n"
  "  --memory MIB           guest memory (default 1024)\n"
  "  --console FILE         keep the serial console log in FILE\n"
  "  --format FMT           format of the disks that follow\n"
  "  --json                 print the result as JSON\n"
  "  -v, --help             debug, this text\n"
  "\n"
  "It fails at once, before the timeout, when the console shows that\n"
  "the guest is stuck: an initramfs or emergency shell, a kernel panic,\n"
  "the firmware's shell or no bootable device, a device waited for over\n"
  "2 min with no time limit, or silence.\n"
  "\n"
  "Exit: 0 booted, 1 error (qemu could not start), 2 usage,\n"
  "      3 the guest did not boot as required (console log printed).\n";

/* The command line. */
struct args {
  struct common_opts o;
  struct boot_opts b;
  struct disk_args d;
  const char *firmware, *console;
  int64_t timeout, memory, silence;
};

enum { OPT_ACCEL = OPT_FIRST_COMMAND_SPECIFIC, OPT_FIRMWARE, OPT_TIMEOUT,
       OPT_MEMORY, OPT_CONSOLE, OPT_CONTROLLER, OPT_SILENCE };

/* arg, a number from lo to hi, into *v: true, else false. */
static bool
number_in (const char *arg, int64_t lo, int64_t hi, int64_t *v)
{
  return parse_int64 (arg, v) == 0 && *v >= lo && *v <= hi;
}

/* One of boot-test's own options or a disk (args_handler). */
static int
boot_test_option (int c, char *arg, void *data)
{
  struct args *a = data;

  switch (c) {
  case OPT_ACCEL:
    if (strcmp (arg, "kvm") && strcmp (arg, "tcg"))
      return usage_error ("boot-test", "--accel: kvm or tcg");
    a->b.accel = arg;
    break;
  case OPT_FIRMWARE:
    if (strcmp (arg, "bios") && strcmp (arg, "uefi"))
      return usage_error ("boot-test", "--firmware: bios or uefi");
    a->firmware = arg;
    break;
  case OPT_TIMEOUT:
    if (!number_in (arg, 1, 86400, &a->timeout))
      return usage_error ("boot-test", "--timeout: seconds, 1 to 86400");
    break;
  case OPT_SILENCE:
    if (!number_in (arg, 0, 86400, &a->silence))
      return usage_error ("boot-test", "--silence: seconds, 0 to 86400");
    break;
  case OPT_MEMORY:
    if (!number_in (arg, 256, 65536, &a->memory))
      return usage_error ("boot-test", "--memory: MiB, 256 to 65536");
    break;
  case OPT_CONSOLE: a->console = arg; break;
  case OPT_CONTROLLER:
    if (strcmp (arg, "virtio-scsi") && strcmp (arg, "virtio-blk"))
      return usage_error ("boot-test", "--controller: virtio-scsi or "
                          "virtio-blk");
    a->b.controller = arg;
    break;
  case 1:
    if (a->d.ndisks >= BOOT_MAX_DISKS)
      return usage_error ("boot-test", "too many disks (32 at most)");
    /* fall through */
  default:
    return disk_args_option (&a->d, c, arg);
  }
  return ARGS_OK;
}

/* Options and disks into *a: -1 to go on, else the exit code. */
static int
parse_args (int argc, char **argv, struct args *a)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    DISK_LONG_OPTIONS,
    { "accel", required_argument, NULL, OPT_ACCEL },
    { "firmware", required_argument, NULL, OPT_FIRMWARE },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "silence", required_argument, NULL, OPT_SILENCE },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "console", required_argument, NULL, OPT_CONSOLE },
    { "controller", required_argument, NULL, OPT_CONTROLLER },
    { NULL, 0, NULL, 0 }
  };
  int r;

  a->timeout = 600;
  a->memory = 1024;
  a->silence = 120;
  r = args_parse ("boot-test", usage, argc, argv, longopts, &a->o,
                  boot_test_option, a);
  if (r != -1)
    return r;
  if (a->d.ndisks == 0)
    return usage_error ("boot-test", "no disk given");
  a->b.timeout = a->timeout;
  a->b.memory = a->memory;
  a->b.silence = a->silence;
  return -1;
}

/* Create (or empty) the console log.  0 or -1 (reported). */
static int
empty_file (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd == -1) {
    azp_error ("%s: %m", path);
    return -1;
  }
  close (fd);
  return 0;
}

static void
print_json (const struct args *a, const struct boot_result *r, bool passed)
{
  cJSON *j = cJSON_CreateObject ();
  char *s;

  cJSON_AddNumberToObject (j, "schema", 1);
  cJSON_AddBoolToObject (j, "passed", passed);
  cJSON_AddStringToObject (j, "firmware", a->b.uefi ? "uefi" : "bios");
  cJSON_AddStringToObject (j, "accel", a->b.accel);
  cJSON_AddBoolToObject (j, "default_target_reached", r->target);
  cJSON_AddBoolToObject (j, "ssh_banner_received", r->ssh);
  cJSON_AddBoolToObject (j, "dhcp_on_console", r->dhcp_seen);
  cJSON_AddStringToObject (j, "ssh_banner", r->banner);
  if (r->stuck[0])
    cJSON_AddStringToObject (j, "stuck", r->stuck);
  else
    cJSON_AddNullToObject (j, "stuck");
  cJSON_AddNumberToObject (j, "seconds", (int) r->seconds);
  if (a->console)
    cJSON_AddStringToObject (j, "console_log", a->console);
  s = cJSON_Print (j);
  puts (s);
  free (s);
  cJSON_Delete (j);
}

/* The verdict: printed, and the exit code. */
static int
verdict (const struct args *a, struct boot_result *r, const char *log)
{
  CLEANUP_PCRE2_MATCH_DATA_FREE pcre2_match_data *md = re_match_data ();
  CLEANUP_FREE char *text = console_read (log);
  int ret, dhcp;

  if (!md || (text && (dhcp = console_dhcp (text, md)) == -1))
    return EXIT_ERROR;
  if (text)
    r->dhcp_seen = r->dhcp_seen || dhcp;
  ret = r->target && r->ssh && !r->stuck[0] ? EXIT_OK : EXIT_NOTREADY;
  if (a->o.json)
    print_json (a, r, ret == EXIT_OK);
  else if (ret == EXIT_OK)
    printf ("boot-test passed in %d s: default target reached, DHCP lease "
            "(sshd answered at 10.0.2.15 via the forward), %s\n",
            (int) r->seconds, r->banner);
  if (ret != EXIT_OK) {
    azp_error ("%s: boot test failed after %d s: %s%s%s%s%s%s",
               a->d.disks[0].path, (int) r->seconds,
               r->stuck[0] ? "the guest is stuck: " : "", r->stuck,
               r->stuck[0] ? "; " : "",
               r->target ? "" : "default target not reached on the serial "
               "console; ",
               r->ssh ? "" : "no SSH banner on the forwarded port (no DHCP "
               "lease, no network or no sshd); ",
               "see the console log below");
    if (text)
      console_print_tail (text);
  }
  return ret;
}

static void
remove_dir (const char *dir)
{
  CLEANUP_FREE char *h = xasprintf ("%s/head.raw", dir);
  CLEANUP_FREE char *l = xasprintf ("%s/console.log", dir);

  if (h)
    unlink (h);
  if (l)
    unlink (l);
  rmdir (dir);
}

static int
boot_test_run (int argc, char **argv)
{
  struct args a = { .b = { .controller = "virtio-scsi" } };
  char dir[] = "/var/tmp/azprep-boot-XXXXXX";
  CLEANUP_FREE char *log = NULL;
  struct boot_result r = { 0 };
  bool made_dir = false;
  int ret = parse_args (argc, argv, &a);

  if (ret != -1)
    goto out;
  ret = EXIT_ERROR;
  if (!a.b.accel)
    a.b.accel = boot_kvm_usable () ? "kvm" : "tcg";
  for (size_t i = 0; i < a.d.ndisks; i++)
    if (disk_probe (&a.d.disks[i]) == -1)
      goto out;
  if (!mkdtemp (dir)) {
    azp_error ("%s: %m", dir);
    goto out;
  }
  made_dir = true;
  if (a.firmware)
    a.b.uefi = !strcmp (a.firmware, "uefi");
  else if (boot_detect_firmware (&a.d.disks[0], dir, &a.b.uefi) == -1)
    goto out;
  log = a.console ? xstrdup (a.console) : xasprintf ("%s/console.log", dir);
  if (!log || empty_file (log) == -1
      || boot_run (&a.b, a.d.disks, a.d.ndisks, dir, log, &r) == -1)
    goto out;
  ret = verdict (&a, &r, log);
 out:
  if (made_dir)
    remove_dir (dir);
  disks_free (a.d.disks, a.d.ndisks);
  return ret;
}

static const struct command boot_test_cmd = {
  "boot-test", "boot a prepared VM under qemu: console, DHCP, sshd",
  boot_test_run,
};
COMMAND (boot_test_cmd);
