/* The qemu side of boot-test: which firmware and accelerator, temporary
 * overlays over the disks, the command line (the disks on another
 * controller than VMware's, a NIC with a new MAC, user-mode networking
 * forwarding a host port to the guest's sshd), start and stop.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "prep/boot/boot.h"
#include "prep/common/common.h"

#define ESP_GUID_BYTES \
  "\x28\x73\x2a\xc1\x1f\xf8\xd2\x11\xba\x4b\x00\xa0\xc9\x3e\xc9\x3b"
#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

bool
boot_kvm_usable (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd == -1)
    return false;
  close (fd);
  return true;
}

/* Reads the first 34 sectors with qemu-img dd (any format). */
int
boot_detect_firmware (const struct disk *d, const char *dir, bool *uefi)
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

static pid_t
spawn (char **argv)
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

struct qemu_argv { char *v[64]; size_t n; };

static int
add (struct qemu_argv *a, char *s)
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

char *
qemu_netdev (int port)
{
  /* restrict=on: the guest is untrusted; it must not reach the host's
   * loopback services (10.0.2.2) nor, on an Azure VM, the instance
   * metadata service and its tokens.  slirp still answers DHCP, and
   * the explicit forward to sshd still works. */
  return xasprintf ("user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:%d-:22",
                    port);
}

static int
qemu_argv (struct qemu_argv *a, const struct boot_opts *o, size_t ndisks,
           char **overlays, const char *vars, const char *log, int port)
{
  bool blk = !strcmp (o->controller, "virtio-blk");
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
      add (a, xasprintf ("%s,accel=%s", o->uefi ? "q35" : "pc", o->accel))
      == -1 ||
      add (a, xstrdup ("-cpu")) == -1 ||
      add (a, xstrdup (!strcmp (o->accel, "kvm") ? "host" : "max")) == -1 ||
      add (a, xstrdup ("-m")) == -1 ||
      add (a, xasprintf ("%d", o->memory)) == -1 ||
      add (a, xstrdup ("-serial")) == -1 ||
      add (a, xasprintf ("file:%s", log)) == -1 ||
      add (a, xstrdup ("-netdev")) == -1 ||
      add (a, qemu_netdev (port)) == -1 ||
      add (a, xstrdup ("-device")) == -1 ||
      /* 52:54:00 is qemu's prefix: never the VMware MAC (00:50:56). */
      add (a, xasprintf ("virtio-net-pci,netdev=n0,mac=52:54:00:%02x:%02x:%02x",
                         mac[0], mac[1], mac[2])) == -1)
    return -1;
  if (o->uefi &&
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

/* The overlays, and the firmware's variables for UEFI. */
static int
prepare (struct qemu *q, const struct boot_opts *o, struct disk *disks,
         size_t ndisks, const char *dir)
{
  for (size_t i = 0; i < ndisks; i++) {
    q->overlays[i] = xasprintf ("%s/disk%zu.qcow2", dir, i);
    q->noverlays = i + 1;
    if (!q->overlays[i] || make_overlay (&disks[i], q->overlays[i]) == -1)
      return -1;
  }
  if (o->uefi) {
    q->vars = xasprintf ("%s/OVMF_VARS.fd", dir);
    if (access (OVMF_CODE, R_OK) == -1) {
      azp_error ("%s: OVMF is not installed (apt-get install ovmf)",
                 OVMF_CODE);
      return -1;
    }
    if (!q->vars || copy_file (OVMF_VARS, q->vars) == -1)
      return -1;
  }
  return 0;
}

int
qemu_start (struct qemu *q, const struct boot_opts *o, struct disk *disks,
            size_t ndisks, const char *dir, const char *log)
{
  struct qemu_argv a = { .n = 0 };
  int ret = -1;

  q->pid = -1;
  if (prepare (q, o, disks, ndisks, dir) == -1)
    goto out;
  q->port = free_port ();
  if (q->port == -1 ||
      qemu_argv (&a, o, ndisks, q->overlays, q->vars, log, q->port) == -1)
    goto out;
  if (log_verbose ()) {
    for (size_t i = 0; i < a.n; i++)
      fprintf (stderr, "%s%s", i ? " " : "azprep: debug: ", a.v[i]);
    fputc ('\n', stderr);
  }
  azp_info ("booting %s (%s, %s) with sshd forwarded to 127.0.0.1:%d",
            disks[0].path, o->uefi ? "UEFI" : "BIOS", o->accel, q->port);
  q->pid = spawn (a.v);
  if (q->pid != -1)
    ret = 0;
 out:
  for (size_t i = 0; i < a.n; i++)
    free (a.v[i]);
  return ret;
}

void
qemu_stop (struct qemu *q)
{
  int status;

  if (q->pid > 0) {
    kill (-q->pid, SIGTERM);
    kill (q->pid, SIGTERM);
    waitpid (q->pid, &status, 0);
    q->pid = -1;
  }
  for (size_t i = 0; i < q->noverlays; i++)
    if (q->overlays[i]) {
      unlink (q->overlays[i]);
      free (q->overlays[i]);
      q->overlays[i] = NULL;
    }
  if (q->vars) {
    unlink (q->vars);
    free (q->vars);
    q->vars = NULL;
  }
}
