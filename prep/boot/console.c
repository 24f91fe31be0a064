/* What a booting guest says on its serial console, as named patterns
 * compiled once: the default target, a DHCP lease, and the signs that
 * it will never get there (a rescue or emergency shell, a kernel panic,
 * the firmware with nothing to boot, a device waited for without end).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "prep/boot/boot.h"
#include "prep/common/common.h"

#define LOG_MAX (8 << 20)
#define LOG_TAIL 4000
/* A device job still running after this many minutes with no limit is
 * stuck: the guest would wait there for ever. */
#define DEVICE_WAIT_MIN 2

/* systemd: "Reached target multi-user.target - Multi-User System." (or
 * the older "Reached target Multi-User System."), or a getty's login
 * prompt. */
static struct re target = {
  "default-target",
  "Reached target (?:multi-user\\.target|Multi-User System"
  "|graphical\\.target|Graphical Interface)| login: "
};

/* dhclient ("DHCPACK of 10.0.2.15 from 10.0.2.2", "bound to
 * 10.0.2.15"), NetworkManager ("dhcp4 (eth0): state changed bound"),
 * systemd-networkd and cloud-init printing the address. */
static struct re dhcp = {
  "dhcp-lease",
  "DHCPACK|bound to 10\\.0\\.2\\.|dhcp4 \\(eth0\\): state changed bound"
  "|10\\.0\\.2\\.15"
};

/* What a guest that will not reach its default target prints.  Each
 * one ends the wait at once; the first in this order gives the reason. */
static struct { struct re re; const char *why; } stuck[] = {
  { { "initramfs-gave-up", "Gave up waiting for root" },
    "the initramfs gave up waiting for the root device" },
  { { "initramfs-shell", "Dropping to a shell" },
    "the initramfs dropped to a shell" },
  { { "emergency-mode", "(?:Entering|You are in) emergency mode" },
    "systemd entered emergency mode" },
  { { "maintenance-shell", "Give root password for maintenance" },
    "the guest is in emergency or rescue mode" },
  { { "kernel-panic", "Kernel panic - not syncing" },
    "the kernel panicked" },
  { { "grub-rescue", "grub rescue> " },
    "GRUB could not find its modules or configuration (grub rescue "
    "prompt)" },
  { { "grub-shell", "Minimal BASH-like line editing is supported" },
    "GRUB found no configuration and started its shell" },
  { { "uefi-shell", "UEFI Interactive Shell" },
    "the UEFI firmware found no boot loader and started its shell" },
  { { "uefi-no-boot", "No bootable option or device was found" },
    "the UEFI firmware found no boot loader" },
  { { "bios-no-boot", "No bootable device" },
    "the BIOS found no bootable disk" },
};

/* A systemd initramfs (dracut) whose root device never shows up waits
 * for it without a limit, printing
 *   Job dev-sda1.device/start running (2min 3s / no limit)
 * or, older, "A start job is running for /dev/sda1 (2min 3s / no limit)".
 * The wait: group 1 is the minutes, which a wait of seconds only
 * ("(9s / no limit)") does not have; its parenthesis is the last one
 * before " / no limit)".  systemd rewrites its status line after a CR,
 * so one line of the log holds many of them: the device is the first
 * job named on the line before the wait. */
static struct re no_limit_wait = {
  "no-limit-wait", "\\((\\d+)min(?= )[^(\\r\\n]*? / no limit\\)"
};
static struct re device_job = {
  "device-job", "Job (dev-[^/ \\r\\n]*)"
};
/* A service or a mount waiting so is not a device: checked after. */
static struct re start_job = {
  "start-job", "start job is running for ([^ \\r\\n]*)"
};

char *
console_read (const char *path)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "r");
  char *buf;
  size_t n, o = 0;

  if (!fp)
    return NULL;
  buf = malloc (LOG_MAX);
  if (!buf)
    return NULL;
  n = fread (buf, 1, LOG_MAX - 1, fp);
  /* Colour escape sequences (systemd: "Reached target ESC[0;1;39m
   * multi-user.target"), carriage returns and NULs must not hide
   * matches: drop them. */
  for (size_t i = 0; i < n; i++) {
    if (buf[i] == '\033' && i + 1 < n && buf[i + 1] == '[') {
      i += 2;
      while (i < n && ((buf[i] >= '0' && buf[i] <= '9') || buf[i] == ';'))
        i++;
      continue;                 /* the final letter goes too */
    }
    if (buf[i] == '\r')
      continue;
    buf[o++] = buf[i] ? buf[i] : ' ';
  }
  buf[o] = '\0';
  return buf;
}

int
console_target (const char *log, pcre2_match_data *md)
{
  return re_match (&target, log, strlen (log), 0, md);
}

int
console_dhcp (const char *log, pcre2_match_data *md)
{
  return re_match (&dhcp, log, strlen (log), 0, md);
}

int
console_stuck (const char *log, pcre2_match_data *md, const char **why)
{
  size_t len = strlen (log);

  *why = NULL;
  for (size_t i = 0; i < sizeof stuck / sizeof stuck[0]; i++) {
    int r = re_match (&stuck[i].re, log, len, 0, md);
    if (r != 0) {
      if (r == 1)
        *why = stuck[i].why;
      return r;
    }
  }
  return 0;
}

/* The device named on the line s[0..len): 1 (*dev, *devlen), 0 none,
 * -1 error. */
static int
device_named (const char *s, size_t len, pcre2_match_data *md,
              const char **dev, size_t *devlen)
{
  int r = re_match (&device_job, s, len, 0, md);

  if (r == 0 && (r = re_match (&start_job, s, len, 0, md)) == 1) {
    re_group (md, s, 1, dev, devlen);
    return !strncmp (*dev, "/dev/", 5) || memmem (*dev, *devlen, ".device", 7);
  }
  if (r == 1)
    re_group (md, s, 1, dev, devlen);
  return r;
}

int
console_device_wait (const char *log, pcre2_match_data *md, char *why,
                     size_t n)
{
  size_t len = strlen (log), start = 0;
  int r;

  while ((r = re_match (&no_limit_wait, log, len, start, md)) == 1) {
    const char *open = log + pcre2_get_ovector_pointer (md)[0], *bol = open;
    const char *dev, *min;
    size_t devlen, minlen;
    unsigned long m;

    start = pcre2_get_ovector_pointer (md)[1];
    re_group (md, log, 1, &min, &minlen);
    m = strtoul (min, NULL, 10);
    if (m < DEVICE_WAIT_MIN)
      continue;
    while (bol > log && bol[-1] != '\n' && bol[-1] != '\r')
      bol--;
    r = device_named (bol, open - bol, md, &dev, &devlen);
    if (r == -1)
      return -1;
    if (r == 0)
      continue;
    snprintf (why, n, "the guest has waited %u min for %.*s with no time "
              "limit (no driver for its disk controller?)",
              m > UINT_MAX ? UINT_MAX : (unsigned) m,
              (int) (devlen > 120 ? 120 : devlen), dev);
    return 1;
  }
  return r;
}

void
console_print_tail (const char *log)
{
  size_t n = strlen (log);
  const char *p = n > LOG_TAIL ? log + n - LOG_TAIL : log;

  /* The guest wrote it: no escape sequences to the terminal. */
  fprintf (stderr, "--- serial console (last %zu bytes) ---\n", strlen (p));
  fputs_clean (p, stderr, true);
  fputs ("\n--- end of console ---\n", stderr);
}
