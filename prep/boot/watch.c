/* The watcher: while qemu runs, read the serial console every 2 s for
 * the default target, a DHCP lease and the signs of a stuck guest, and
 * knock on sshd through the forwarded port.  Passes when the default
 * target is reached and sshd answers with its banner; stops early on a
 * stuck sign (a few seconds of console kept after it) or on silence.
 */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "prep/boot/boot.h"
#include "prep/common/common.h"

#define STUCK_GRACE 3           /* seconds of console kept after a sign */

struct watch {
  double start, last_knock, last_output, stuck_at;
  size_t last_len;
  pcre2_match_data *md;
};

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
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

/* What the console says so far.  0, or -1 (a pattern error). */
static int
look (struct watch *w, const char *text, struct boot_result *r)
{
  size_t len = strlen (text);
  const char *why;
  int target = 1, dhcp = 1, wait = 0;

  if (console_stuck (text, w->md, &why) == -1
      || (!r->target && (target = console_target (text, w->md)) == -1)
      || (!r->dhcp_seen && (dhcp = console_dhcp (text, w->md)) == -1))
    return -1;
  r->target = target == 1;
  r->dhcp_seen = dhcp == 1;
  if (len != w->last_len) {
    w->last_len = len;
    w->last_output = now ();
  }
  if (why && !r->stuck[0]) {
    snprintf (r->stuck, sizeof r->stuck, "%s", why);
    w->stuck_at = now ();
  }
  if (!r->target && !r->stuck[0]
      && (wait = console_device_wait (text, w->md, r->stuck,
                                      sizeof r->stuck)) == 1)
    w->stuck_at = now ();
  return wait == -1 ? -1 : 0;
}

/* qemu exited: an error when it printed nothing (it could not start),
 * else the end of the boot.  0 or -1 (reported). */
static int
exited (const char *log, int status, const struct boot_result *r)
{
  CLEANUP_FREE char *text = NULL;

  if (r->target && r->ssh)
    return 0;
  text = console_read (log);
  if (!text || !*text) {
    azp_error ("qemu-system-x86_64 exited (status %d) before the guest "
               "printed anything (run with -v to see why)",
               WIFEXITED (status) ? WEXITSTATUS (status) : -1);
    return -1;
  }
  return 0;
}

/* One round of the watch: 1 go on, 0 done, -1 error (reported). */
static int
watch_round (struct watch *w, struct qemu *q, const struct boot_opts *o,
       const char *log, struct boot_result *r)
{
  CLEANUP_FREE char *text = NULL;
  int status;

  if (waitpid (q->pid, &status, WNOHANG) == q->pid) {
    q->pid = -1;
    return exited (log, status, r);
  }
  text = console_read (log);
  if (text && look (w, text, r) == -1)
    return -1;
  if (!r->target && !r->stuck[0] && o->silence > 0 &&
      now () - w->last_output > o->silence) {
    snprintf (r->stuck, sizeof r->stuck, "no console output for %d s",
              o->silence);
    return 0;
  }
  /* Keep a few more seconds of console after the sign, then stop. */
  if (r->stuck[0] && now () - w->stuck_at >= STUCK_GRACE)
    return 0;
  /* Knock on sshd only once the guest is up, every 10 s at most. */
  if (!r->ssh && (r->target || r->dhcp_seen || now () - w->last_knock > 10)) {
    w->last_knock = now ();
    if (ssh_banner (q->port, r->banner, sizeof r->banner))
      r->ssh = true;
  }
  return r->target && r->ssh ? 0 : 1;
}

int
boot_run (const struct boot_opts *o, struct disk *disks, size_t ndisks,
          const char *dir, const char *log, struct boot_result *r)
{
  CLEANUP_PCRE2_MATCH_DATA_FREE pcre2_match_data *md = re_match_data ();
  struct watch w = { .start = now (), .md = md };
  struct qemu q = { .pid = -1 };
  int ret = -1, go = 1;

  if (!md || qemu_start (&q, o, disks, ndisks, dir, log) == -1)
    goto out;
  w.last_output = now ();
  while (go == 1 && now () - w.start < o->timeout) {
    struct timespec ts = { 2, 0 };
    go = watch_round (&w, &q, o, log, r);
    if (go == 1)
      nanosleep (&ts, NULL);
  }
  if (go == -1)
    goto out;
  r->seconds = now () - w.start;
  ret = 0;
 out:
  qemu_stop (&q);
  return ret;
}
