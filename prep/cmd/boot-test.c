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
 * panic, the firmware with nothing to boot (stuck_signs), a device job
 * with no time limit running for minutes (device_wait_sign), or no new
 * console output for --silence seconds before the default target.
 *
 * Limits: qemu has no VMBus, so the Hyper-V drivers are not exercised
 * by the boot; their presence is proven by listing each initramfs
 * (azprep inspect / fix).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <cjson/cJSON.h>

#include "prep/azprep.h"
#include "prep/guest/guest.h"

#define ESP_GUID_BYTES \
  "\x28\x73\x2a\xc1\x1f\xf8\xd2\x11\xba\x4b\x00\xa0\xc9\x3e\xc9\x3b"
#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define LOG_TAIL 4000
#define STUCK_GRACE 3           /* seconds of console kept after a sign */

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

struct result {
  bool target, ssh, dhcp_seen;
  char banner[256];
  char stuck[256];              /* why it cannot boot, or "" */
  double seconds;
};

/* What a guest that will not reach its default target prints on the
 * serial console.  Each one ends the wait at once. */
static const struct { const char *text, *why; } stuck_signs[] = {
  { "Gave up waiting for root", "the initramfs gave up waiting for the "
    "root device" },
  { "Dropping to a shell", "the initramfs dropped to a shell" },
  { "Entering emergency mode", "systemd entered emergency mode" },
  { "You are in emergency mode", "systemd entered emergency mode" },
  { "Give root password for maintenance", "the guest is in emergency or "
    "rescue mode" },
  { "Kernel panic - not syncing", "the kernel panicked" },
  { "grub rescue> ", "GRUB could not find its modules or configuration "
    "(grub rescue prompt)" },
  { "Minimal BASH-like line editing is supported", "GRUB found no "
    "configuration and started its shell" },
  { "UEFI Interactive Shell", "the UEFI firmware found no boot loader and "
    "started its shell" },
  { "No bootable option or device was found", "the UEFI firmware found no "
    "boot loader" },
  { "No bootable device", "the BIOS found no bootable disk" },
};

static const char *
stuck_sign (const char *log)
{
  for (size_t i = 0; i < sizeof stuck_signs / sizeof stuck_signs[0]; i++)
    if (strstr (log, stuck_signs[i].text))
      return stuck_signs[i].why;
  return NULL;
}

/* A systemd initramfs (dracut) whose root device never shows up waits
 * for it without a limit, printing
 *   Job dev-sda1.device/start running (2min 3s / no limit)
 * or, older, "A start job is running for /dev/sda1 (2min 3s / no limit)".
 * A device job still running after DEVICE_WAIT_MIN minutes with no limit
 * is stuck: the guest would wait there for ever.  Writes the reason. */
#define DEVICE_WAIT_MIN 2
static bool
device_wait_sign (const char *log, char *why, size_t n)
{
  static const char *const starts[] = {
    "Job dev-", "start job is running for "
  };
  const char *p = log;

  while ((p = strstr (p, " / no limit)")) != NULL) {
    const char *bol = p, *open, *dev = NULL;
    size_t devlen = 0;
    unsigned min;
    int used = 0;

    while (bol > log && bol[-1] != '\n' && bol[-1] != '\r')
      bol--;
    open = memrchr (bol, '(', p - bol);
    p++;
    if (!open || sscanf (open, "(%u%n", &min, &used) != 1 ||
        strncmp (open + used, "min ", 4) || min < DEVICE_WAIT_MIN)
      continue;
    for (size_t i = 0; i < 2 && !dev; i++) {
      const char *s = memmem (bol, open - bol, starts[i], strlen (starts[i]));
      if (s) {
        dev = i == 0 ? s + 4 : s + strlen (starts[i]);
        devlen = strcspn (dev, i == 0 ? "/ \n" : " \n");
        if (i == 1 && strncmp (dev, "/dev/", 5) &&
            !memmem (dev, devlen, ".device", 7))
          dev = NULL;           /* not a device: a service, a mount */
      }
    }
    if (!dev)
      continue;
    snprintf (why, n, "the guest has waited %u min for %.*s with no time "
              "limit (no driver for its disk controller?)",
              min, (int) (devlen > 120 ? 120 : devlen), dev);
    return true;
  }
  return false;
}

static bool
kvm_usable (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd == -1)
    return false;
  close (fd);
  return true;
}

/* UEFI if the first disk's GPT has an EFI system partition.  Reads the
 * first 34 sectors with qemu-img dd (any format). */
static int
detect_firmware (const struct disk *d, const char *dir, bool *uefi)
{
  CLEANUP_FREE char *out = xasprintf ("%s/head.raw", dir);
  CLEANUP_FREE char *ifarg = xasprintf ("if=%s", d->path);
  CLEANUP_FREE char *ofarg = xasprintf ("of=%s", out ? out : "");
  CLEANUP_FREE char *err = NULL;
  unsigned char buf[34 * 512];
  ssize_t n;
  int fd, r;

  *uefi = false;
  if (!out || !ifarg || !ofarg)
    return -1;
  {
    const char *argv[] = { "qemu-img", "dd", "-f", d->format, "-O", "raw",
                           "bs=512", "count=34", ifarg, ofarg, NULL };
    r = run_command_full (NULL, &err, argv);
  }
  if (r != 0) {
    CLEANUP_FREE char *why = first_line (err);
    azp_error ("%s: cannot read the partition table: %s", d->path,
               why ? why : "");
    return -1;
  }
  fd = open (out, O_RDONLY | O_CLOEXEC);
  n = fd >= 0 ? read (fd, buf, sizeof buf) : -1;
  if (fd >= 0)
    close (fd);
  if (n < 34 * 512 || memcmp (buf + 512, "EFI PART", 8))
    return 0;
  /* GPT entries at LBA 2: 128 bytes each, type GUID first. */
  for (size_t off = 1024; off + 128 <= sizeof buf; off += 128)
    if (!memcmp (buf + off, ESP_GUID_BYTES, 16)) {
      *uefi = true;
      break;
    }
  return 0;
}

static int
free_port (void)
{
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof a;
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (s >= 0 && bind (s, (struct sockaddr *) &a, sizeof a) == 0 &&
      getsockname (s, (struct sockaddr *) &a, &len) == 0)
    port = ntohs (a.sin_port);
  if (s >= 0)
    close (s);
  if (port == -1)
    azp_error ("cannot find a free TCP port: %m");
  return port;
}

/* Connect to the forwarded port and read the SSH banner.  sshd forks a
 * child that sends it, which takes long in a slow TCG guest: wait up to
 * 20 s, so as not to pile up unfinished connections (sshd then answers
 * "Exceeded MaxStartups"). */
static bool
ssh_banner (int port, char *banner, size_t len)
{
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct timeval tv = { 20, 0 };
  int s = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ssize_t n = -1;

  if (s == -1)
    return false;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  setsockopt (s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect (s, (struct sockaddr *) &a, sizeof a) == 0)
    n = read (s, banner, len - 1);
  close (s);
  if (n <= 0)
    return false;
  banner[n] = '\0';
  banner[strcspn (banner, "\r\n")] = '\0';
  return !strncmp (banner, "SSH-", 4);
}

/* The console log so far (bounded), NUL-terminated; NULL if none. */
static char *
read_log (const char *path)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "r");
  char *buf;
  size_t n;

  if (!fp)
    return NULL;
  buf = malloc (8 << 20);
  if (!buf)
    return NULL;
  n = fread (buf, 1, (8 << 20) - 1, fp);
  /* Colour escape sequences (systemd: "Reached target ESC[0;1;39m
   * multi-user.target"), carriage returns and NULs must not hide
   * matches: drop them. */
  {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
      if (buf[i] == '\033' && i + 1 < n && buf[i + 1] == '[') {
        i += 2;
        while (i < n && ((buf[i] >= '0' && buf[i] <= '9') || buf[i] == ';'))
          i++;
        continue;               /* the final letter goes too */
      }
      if (buf[i] == '\r')
        continue;
      buf[o++] = buf[i] ? buf[i] : ' ';
    }
    n = o;
  }
  buf[n] = '\0';
  return buf;
}

static bool
target_reached (const char *log)
{
  return strstr (log, "Reached target multi-user.target") ||
    strstr (log, "Reached target Multi-User System") ||
    strstr (log, "Reached target graphical.target") ||
    strstr (log, "Reached target Graphical Interface") ||
    strstr (log, " login: ");
}

static bool
dhcp_seen (const char *log)
{
  return strstr (log, "DHCPACK") || strstr (log, "bound to 10.0.2.") ||
    strstr (log, "dhcp4 (eth0): state changed bound") ||
    strstr (log, "10.0.2.15");
}

static void
print_tail (const char *log)
{
  size_t n = strlen (log);
  const char *p = n > LOG_TAIL ? log + n - LOG_TAIL : log;
  fprintf (stderr, "--- serial console (last %zu bytes) ---\n%s\n"
           "--- end of console ---\n", strlen (p), p);
}

static pid_t
start_qemu (char **argv)
{
  pid_t pid = fork ();
  if (pid == 0) {
    int nfd = open ("/dev/null", O_RDWR);
    if (nfd >= 0) {
      dup2 (nfd, 0);
      if (!log_verbose ()) {
        dup2 (nfd, 1);
        dup2 (nfd, 2);
      }
    }
    setpgid (0, 0);
    execvp (argv[0], argv);
    _exit (127);
  }
  if (pid == -1)
    azp_error ("fork: %m");
  return pid;
}

struct argv { char *v[64]; size_t n; };

static int
add (struct argv *a, char *s)
{
  if (!s || a->n + 1 >= sizeof a->v / sizeof a->v[0]) {
    free (s);
    azp_error ("out of memory");
    return -1;
  }
  a->v[a->n++] = s;
  a->v[a->n] = NULL;
  return 0;
}

static int
build_argv (struct argv *a, const char *accel, bool uefi, int memory,
            const char *controller, size_t ndisks, char **overlays,
            const char *vars, const char *log, int port)
{
  bool blk = !strcmp (controller, "virtio-blk");
  unsigned char mac[3];
  int fd = open ("/dev/urandom", O_RDONLY | O_CLOEXEC);

  if (fd == -1 || read (fd, mac, 3) != 3) {
    if (fd >= 0)
      close (fd);
    azp_error ("/dev/urandom: %m");
    return -1;
  }
  close (fd);
  if (add (a, xstrdup ("qemu-system-x86_64")) == -1 ||
      add (a, xstrdup ("-nodefaults")) == -1 ||
      add (a, xstrdup ("-display")) == -1 || add (a, xstrdup ("none")) == -1 ||
      /* A display adapter, as Azure's VMs have: without one GRUB's
       * console or gfxterm output can keep a guest from booting. */
      add (a, xstrdup ("-device")) == -1 || add (a, xstrdup ("VGA")) == -1 ||
      add (a, xstrdup ("-machine")) == -1 ||
      add (a, xasprintf ("%s,accel=%s", uefi ? "q35" : "pc", accel)) == -1 ||
      add (a, xstrdup ("-cpu")) == -1 ||
      add (a, xstrdup (!strcmp (accel, "kvm") ? "host" : "max")) == -1 ||
      add (a, xstrdup ("-m")) == -1 ||
      add (a, xasprintf ("%d", memory)) == -1 ||
      add (a, xstrdup ("-serial")) == -1 ||
      add (a, xasprintf ("file:%s", log)) == -1 ||
      add (a, xstrdup ("-netdev")) == -1 ||
      add (a, xasprintf ("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22", port))
      == -1 ||
      add (a, xstrdup ("-device")) == -1 ||
      /* 52:54:00 is qemu's prefix: never the VMware MAC (00:50:56). */
      add (a, xasprintf ("virtio-net-pci,netdev=n0,mac=52:54:00:%02x:%02x:%02x",
                         mac[0], mac[1], mac[2])) == -1)
    return -1;
  if (uefi &&
      (add (a, xstrdup ("-drive")) == -1 ||
       add (a, xstrdup ("if=pflash,format=raw,unit=0,readonly=on,file="
                        OVMF_CODE)) == -1 ||
       add (a, xstrdup ("-drive")) == -1 ||
       add (a, xasprintf ("if=pflash,format=raw,unit=1,file=%s", vars)) == -1))
    return -1;
  if (!blk && (add (a, xstrdup ("-device")) == -1 ||
               add (a, xstrdup ("virtio-scsi-pci,id=scsi0")) == -1))
    return -1;
  for (size_t i = 0; i < ndisks; i++) {
    if (add (a, xstrdup ("-drive")) == -1 ||
        add (a, xasprintf ("file=%s,format=qcow2,if=none,id=d%zu,"
                           "cache=unsafe", overlays[i], i)) == -1 ||
        add (a, xstrdup ("-device")) == -1)
      return -1;
    if (blk ? add (a, xasprintf ("virtio-blk-pci,drive=d%zu%s", i,
                                 i == 0 ? ",bootindex=0" : "")) == -1
        : add (a, xasprintf ("scsi-hd,drive=d%zu,bus=scsi0.0,scsi-id=%zu%s",
                             i, i, i == 0 ? ",bootindex=0" : "")) == -1)
      return -1;
  }
  return 0;
}

static int
copy_file (const char *from, const char *to)
{
  const char *argv[] = { "cp", from, to, NULL };
  if (run_command (NULL, argv) != 0) {
    azp_error ("cannot copy %s to %s", from, to);
    return -1;
  }
  return 0;
}

static int
make_overlay (const struct disk *d, const char *path)
{
  CLEANUP_FREE char *abs = realpath (d->path, NULL);
  CLEANUP_FREE char *err = NULL;
  const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b",
                         abs, "-F", d->format, path, NULL };
  if (!abs) {
    azp_error ("%s: %m", d->path);
    return -1;
  }
  if (run_command_full (NULL, &err, argv) != 0) {
    CLEANUP_FREE char *why = first_line (err);
    azp_error ("%s: cannot create overlay: %s", d->path, why ? why : "");
    return -1;
  }
  return 0;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Boot and watch.  Returns 0 (ran, see r), -1 error. */
static int
boot (const char *accel, bool uefi, int memory, int timeout, int silence,
      const char *controller,
      struct disk *disks, size_t ndisks, const char *dir, const char *log,
      struct result *r)
{
  char *overlays[32] = { NULL };
  CLEANUP_FREE char *vars = NULL;
  struct argv a = { .n = 0 };
  double start = now (), last_knock = 0, last_output, stuck_at = 0;
  size_t last_len = 0;
  int port, ret = -1, status;
  pid_t pid = -1;

  for (size_t i = 0; i < ndisks; i++) {
    overlays[i] = xasprintf ("%s/disk%zu.qcow2", dir, i);
    if (!overlays[i] || make_overlay (&disks[i], overlays[i]) == -1)
      goto out;
  }
  if (uefi) {
    vars = xasprintf ("%s/OVMF_VARS.fd", dir);
    if (access (OVMF_CODE, R_OK) == -1) {
      azp_error ("%s: OVMF is not installed (apt-get install ovmf)", OVMF_CODE);
      goto out;
    }
    if (!vars || copy_file (OVMF_VARS, vars) == -1)
      goto out;
  }
  port = free_port ();
  if (port == -1 ||
      build_argv (&a, accel, uefi, memory, controller, ndisks, overlays, vars,
                  log, port) == -1)
    goto out;
  if (log_verbose ()) {
    for (size_t i = 0; i < a.n; i++)
      fprintf (stderr, "%s%s", i ? " " : "azprep: debug: ", a.v[i]);
    fputc ('\n', stderr);
  }
  azp_info ("booting %s (%s, %s) with sshd forwarded to 127.0.0.1:%d",
            disks[0].path, uefi ? "UEFI" : "BIOS", accel, port);
  pid = start_qemu (a.v);
  if (pid == -1)
    goto out;
  last_output = now ();
  while (now () - start < timeout) {
    CLEANUP_FREE char *text = NULL;
    struct timespec ts = { 2, 0 };
    pid_t w = waitpid (pid, &status, WNOHANG);
    if (w == pid) {
      pid = -1;
      if (!r->target || !r->ssh) {
        text = read_log (log);
        /* qemu itself failed to start: an error, not a failed boot. */
        if (!text || !*text) {
          azp_error ("qemu-system-x86_64 exited (status %d) before the guest "
                     "printed anything (run with -v to see why)",
                     WIFEXITED (status) ? WEXITSTATUS (status) : -1);
          goto out;
        }
      }
      break;
    }
    text = read_log (log);
    if (text) {
      size_t len = strlen (text);
      const char *why = stuck_sign (text);
      r->target = r->target || target_reached (text);
      r->dhcp_seen = r->dhcp_seen || dhcp_seen (text);
      if (len != last_len) {
        last_len = len;
        last_output = now ();
      }
      if (why && !r->stuck[0]) {
        snprintf (r->stuck, sizeof r->stuck, "%s", why);
        stuck_at = now ();
      }
      if (!r->target && !r->stuck[0] &&
          device_wait_sign (text, r->stuck, sizeof r->stuck))
        stuck_at = now ();
    }
    if (!r->target && !r->stuck[0] && silence > 0 &&
        now () - last_output > silence) {
      snprintf (r->stuck, sizeof r->stuck, "no console output for %d s",
                silence);
      break;
    }
    /* Keep a few more seconds of console after the sign, then stop. */
    if (r->stuck[0] && now () - stuck_at >= STUCK_GRACE)
      break;
    /* Knock on sshd only once the guest is up, every 10 s at most. */
    if (!r->ssh && (r->target || r->dhcp_seen || now () - last_knock > 10)) {
      last_knock = now ();
      if (ssh_banner (port, r->banner, sizeof r->banner))
        r->ssh = true;
    }
    if (r->target && r->ssh)
      break;
    nanosleep (&ts, NULL);
  }
  r->seconds = now () - start;
  ret = 0;
 out:
  if (pid > 0) {
    kill (-pid, SIGTERM);
    kill (pid, SIGTERM);
    waitpid (pid, &status, 0);
  }
  for (size_t i = 0; i < a.n; i++)
    free (a.v[i]);
  for (size_t i = 0; i < ndisks; i++)
    if (overlays[i]) {
      unlink (overlays[i]);
      free (overlays[i]);
    }
  if (vars)
    unlink (vars);
  return ret;
}

static int
boot_test_run (int argc, char **argv)
{
  enum { OPT_ACCEL = OPT_FIRST_COMMAND_SPECIFIC, OPT_FIRMWARE, OPT_TIMEOUT,
         OPT_MEMORY, OPT_CONSOLE, OPT_CONTROLLER, OPT_SILENCE };
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "format", required_argument, NULL, OPT_FORMAT },
    { "accel", required_argument, NULL, OPT_ACCEL },
    { "firmware", required_argument, NULL, OPT_FIRMWARE },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "silence", required_argument, NULL, OPT_SILENCE },
    { "memory", required_argument, NULL, OPT_MEMORY },
    { "console", required_argument, NULL, OPT_CONSOLE },
    { "controller", required_argument, NULL, OPT_CONTROLLER },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct disk *disks = NULL;
  size_t ndisks = 0;
  const char *format = NULL, *accel = NULL, *firmware = NULL;
  const char *console = NULL, *controller = "virtio-scsi";
  int64_t timeout = 600, memory = 1024, silence = 120;
  char dir[] = "/var/tmp/azprep-boot-XXXXXX";
  CLEANUP_FREE char *log = NULL, *text = NULL;
  struct result r = { 0 };
  bool uefi = false, made_dir = false;
  int c, ret = EXIT_ERROR;

  while ((c = getopt_long (argc, argv, "-" COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&o, c, usage))
      continue;
    switch (c) {
    case OPT_FORMAT:
      format = !strcmp (optarg, "auto") ? NULL : optarg;
      break;
    case OPT_ACCEL:
      if (strcmp (optarg, "kvm") && strcmp (optarg, "tcg"))
        return usage_error ("boot-test", "--accel: kvm or tcg");
      accel = optarg;
      break;
    case OPT_FIRMWARE:
      if (strcmp (optarg, "bios") && strcmp (optarg, "uefi"))
        return usage_error ("boot-test", "--firmware: bios or uefi");
      firmware = optarg;
      break;
    case OPT_TIMEOUT:
      if (parse_int64 (optarg, &timeout) == -1 || timeout < 1 ||
          timeout > 86400)
        return usage_error ("boot-test", "--timeout: seconds, 1 to 86400");
      break;
    case OPT_SILENCE:
      if (parse_int64 (optarg, &silence) == -1 || silence < 0 ||
          silence > 86400)
        return usage_error ("boot-test", "--silence: seconds, 0 to 86400");
      break;
    case OPT_MEMORY:
      if (parse_int64 (optarg, &memory) == -1 || memory < 256 ||
          memory > 65536)
        return usage_error ("boot-test", "--memory: MiB, 256 to 65536");
      break;
    case OPT_CONSOLE: console = optarg; break;
    case OPT_CONTROLLER:
      if (strcmp (optarg, "virtio-scsi") && strcmp (optarg, "virtio-blk"))
        return usage_error ("boot-test", "--controller: virtio-scsi or "
                            "virtio-blk");
      controller = optarg;
      break;
    case 1:
      if (ndisks >= 32)
        return usage_error ("boot-test", "too many disks (32 at most)");
      if (disks_add (&disks, &ndisks, optarg, format) == -1)
        return EXIT_ERROR;
      break;
    default:
      return usage_error ("boot-test", "unknown option");
    }
  }
  if (ndisks == 0)
    return usage_error ("boot-test", "no disk given");
  if (!accel)
    accel = kvm_usable () ? "kvm" : "tcg";
  for (size_t i = 0; i < ndisks; i++)
    if (disk_probe (&disks[i]) == -1)
      goto out;
  if (!mkdtemp (dir)) {
    azp_error ("%s: %m", dir);
    goto out;
  }
  made_dir = true;
  if (firmware)
    uefi = !strcmp (firmware, "uefi");
  else if (detect_firmware (&disks[0], dir, &uefi) == -1)
    goto out;
  log = console ? xstrdup (console) : xasprintf ("%s/console.log", dir);
  if (!log)
    goto out;
  {
    int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1) {
      azp_error ("%s: %m", log);
      goto out;
    }
    close (fd);
  }
  if (boot (accel, uefi, memory, timeout, silence, controller, disks, ndisks,
            dir, log, &r) == -1)
    goto out;
  text = read_log (log);
  if (text)
    r.dhcp_seen = r.dhcp_seen || dhcp_seen (text);
  ret = r.target && r.ssh && !r.stuck[0] ? EXIT_OK : EXIT_NOTREADY;
  if (o.json) {
    cJSON *j = cJSON_CreateObject ();
    char *s;
    cJSON_AddNumberToObject (j, "schema", 1);
    cJSON_AddBoolToObject (j, "passed", ret == EXIT_OK);
    cJSON_AddStringToObject (j, "firmware", uefi ? "uefi" : "bios");
    cJSON_AddStringToObject (j, "accel", accel);
    cJSON_AddBoolToObject (j, "default_target_reached", r.target);
    cJSON_AddBoolToObject (j, "ssh_banner_received", r.ssh);
    cJSON_AddBoolToObject (j, "dhcp_on_console", r.dhcp_seen);
    cJSON_AddStringToObject (j, "ssh_banner", r.banner);
    if (r.stuck[0])
      cJSON_AddStringToObject (j, "stuck", r.stuck);
    else
      cJSON_AddNullToObject (j, "stuck");
    cJSON_AddNumberToObject (j, "seconds", (int) r.seconds);
    if (console)
      cJSON_AddStringToObject (j, "console_log", console);
    s = cJSON_Print (j);
    puts (s);
    free (s);
    cJSON_Delete (j);
  }
  else if (ret == EXIT_OK)
    printf ("boot-test passed in %d s: default target reached, DHCP lease "
            "(sshd answered at 10.0.2.15 via the forward), %s\n",
            (int) r.seconds, r.banner);
  if (ret != EXIT_OK) {
    azp_error ("%s: boot test failed after %d s: %s%s%s%s%s%s", disks[0].path,
               (int) r.seconds,
               r.stuck[0] ? "the guest is stuck: " : "", r.stuck,
               r.stuck[0] ? "; " : "",
               r.target ? "" : "default target not reached on the serial "
               "console; ",
               r.ssh ? "" : "no SSH banner on the forwarded port (no DHCP "
               "lease, no network or no sshd); ",
               "see the console log below");
    if (text)
      print_tail (text);
  }
 out:
  if (made_dir) {
    CLEANUP_FREE char *h = xasprintf ("%s/head.raw", dir);
    CLEANUP_FREE char *l = xasprintf ("%s/console.log", dir);
    if (h)
      unlink (h);
    if (l)
      unlink (l);
    rmdir (dir);
  }
  disks_free (disks, ndisks);
  return ret;
}

static const struct command boot_test_cmd = {
  "boot-test", "boot a prepared VM under qemu: console, DHCP, sshd",
  boot_test_run,
};
COMMAND (boot_test_cmd);
