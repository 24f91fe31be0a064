/* Unit test of boot-test's network (prep/boot/qemu.c): the -netdev
 * option azprep gives qemu, run by the real qemu (no guest: the machine
 * is "none" and never starts), as its monitor reports it.  The booted
 * guest is untrusted: its network must be restricted (no host loopback
 * at 10.0.2.2, no Azure instance metadata), with sshd still forwarded.
 * A booted guest's own attempt is not tested here (a TCG boot per
 * run); this checks what qemu applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/boot/boot.h"
#include "prep/common/common.h"
#include "prep/common/unit.h"

/* qemu's monitor answers to "info network" and "info usernet". */
static char *
monitor (const char *netdev)
{
  int in[2], out[2], status;
  static char buf[65536];
  size_t len = 0;
  ssize_t r;
  pid_t pid;

  if (pipe (in) == -1 || pipe (out) == -1 || (pid = fork ()) == -1)
    return NULL;
  if (pid == 0) {
    dup2 (in[0], 0);
    dup2 (out[1], 1);
    dup2 (out[1], 2);
    close (in[1]);
    close (out[0]);
    execlp ("qemu-system-x86_64", "qemu-system-x86_64", "-machine", "none",
            "-nodefaults", "-display", "none", "-S", "-monitor", "stdio",
            "-netdev", netdev, NULL);
    _exit (127);
  }
  close (in[0]);
  close (out[1]);
  if (write (in[1], "info network\ninfo usernet\nquit\n", 31) != 31)
    perror ("write");
  close (in[1]);
  while (len < sizeof buf - 1 &&
         (r = read (out[0], buf + len, sizeof buf - 1 - len)) > 0)
    len += r;
  buf[len] = '\0';
  close (out[0]);
  waitpid (pid, &status, 0);
  if (!WIFEXITED (status) || WEXITSTATUS (status) == 127)
    return NULL;
  return buf;
}

int
main (void)
{
  CLEANUP_FREE char *netdev = qemu_netdev (40022);
  const char *out;

  if (access ("/usr/bin/qemu-system-x86_64", X_OK) != 0) {
    printf ("SKIP: qemu-system-x86_64 is not installed\n");
    return getenv ("CI") ? 1 : 77;
  }
  CHECK (netdev != NULL);
  out = netdev ? monitor (netdev) : NULL;
  CHECK (out != NULL);
  if (out) {
    CHECK (strstr (out, "type=user") != NULL);
    CHECK (strstr (out, "restrict=on") != NULL);
    CHECK (strstr (out, "restrict=off") == NULL);
    /* The forward to sshd, on the host's loopback only. */
    CHECK (strstr (out, "HOST_FORWARD") != NULL);
    CHECK (strstr (out, "127.0.0.1") != NULL);
    CHECK (strstr (out, "40022") != NULL);
    if (failures)
      fprintf (stderr, "qemu said:\n%s\n", out);
  }
  return UNIT_RESULT ("test-qemu");
}
