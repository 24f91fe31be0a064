/* Unit test (no qemu): boot-test's console signs on lines as systemd,
 * the kernel, initramfs-tools, dracut, GRUB, OVMF, SeaBIOS, dhclient,
 * NetworkManager and systemd-networkd print them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/boot/boot.h"
#include "prep/common/common.h"
#include "prep/common/unit.h"

static pcre2_match_data *md;

static bool
target (const char *log)
{
  int r = console_target (log, md);
  CHECK (r != -1);
  return r == 1;
}

static bool
dhcp (const char *log)
{
  int r = console_dhcp (log, md);
  CHECK (r != -1);
  return r == 1;
}

/* The reason given, or "" when the log shows no stuck sign. */
static const char *
stuck (const char *log)
{
  const char *why;
  int r = console_stuck (log, md, &why);
  CHECK (r != -1);
  return r == 1 ? why : "";
}

static const char *
device_wait (const char *log)
{
  static char why[256];
  int r = console_device_wait (log, md, why, sizeof why);
  CHECK (r != -1);
  return r == 1 ? why : "";
}

static void
test_target (void)
{
  CHECK (target ("[  OK  ] Reached target multi-user.target - Multi-User "
                 "System.\n"));
  CHECK (target ("[  OK  ] Reached target Multi-User System.\n"));
  CHECK (target ("[  OK  ] Reached target graphical.target - Graphical "
                 "Interface.\n"));
  CHECK (target ("[  OK  ] Reached target Graphical Interface.\n"));
  CHECK (target ("Debian GNU/Linux 12 debian ttyS0\n\ndebian login: "));
  CHECK (!target ("[  OK  ] Reached target basic.target - Basic System.\n"
                  "[  OK  ] Reached target Network.\n"));
  CHECK (!target ("[  OK  ] Started getty@tty1.service - Getty on tty1.\n"));
}

static void
test_dhcp (void)
{
  CHECK (dhcp ("DHCPOFFER of 10.0.2.15 from 10.0.2.2\n"
               "DHCPACK of 10.0.2.15 from 10.0.2.2\n"));
  CHECK (dhcp ("bound to 10.0.2.16 -- renewal in 41603 seconds.\n"));
  CHECK (dhcp ("NetworkManager[612]: <info>  [1701820000.1234] dhcp4 "
               "(eth0): state changed bound\n"));
  CHECK (dhcp ("NetworkManager[612]: <info>  [1701820000.1234] dhcp4 "
               "(eth0): state changed new lease, address=10.0.2.15\n"));
  CHECK (dhcp ("systemd-networkd[301]: eth0: DHCPv4 address 10.0.2.15/24, "
               "gateway 10.0.2.2 acquired from 10.0.2.2\n"));
  CHECK (!dhcp ("DHCPDISCOVER on eth0 to 255.255.255.255 port 67 "
                "interval 3\nNo DHCPOFFERS received.\n"));
  CHECK (!dhcp ("systemd-networkd[301]: eth0: Link UP\n"));
}

static void
test_stuck (void)
{
  /* initramfs-tools: the first sign of the table gives the reason. */
  CHECK_STR (stuck ("Gave up waiting for root file system device.  Common "
                    "problems:\n - Boot args (cat /proc/cmdline)\nALERT!  "
                    "UUID=0a1b does not exist.  Dropping to a shell!\n"),
             "the initramfs gave up waiting for the root device");
  CHECK_STR (stuck ("(initramfs) Dropping to a shell\n"),
             "the initramfs dropped to a shell");
  CHECK_STR (stuck ("Warning: /dev/disk/by-uuid/0a1b does not exist\n\n"
                    "Generating \"/run/initramfs/rdsosreport.txt\"\n\n"
                    "Entering emergency mode. Exit the shell to continue.\n"),
             "systemd entered emergency mode");
  CHECK_STR (stuck ("You are in emergency mode. After logging in, type "
                    "\"journalctl -xb\" to view\nsystem logs, \"systemctl "
                    "reboot\" to reboot.\nGive root password for "
                    "maintenance\n(or press Control-D to continue): "),
             "systemd entered emergency mode");
  CHECK_STR (stuck ("You are in rescue mode. After logging in, type "
                    "\"journalctl -xb\" to view\nGive root password for "
                    "maintenance\n(or press Control-D to continue): "),
             "the guest is in emergency or rescue mode");
  CHECK_STR (stuck ("[    2.345678] Kernel panic - not syncing: VFS: Unable "
                    "to mount root fs on unknown-block(0,0)\n"),
             "the kernel panicked");
  CHECK_STR (stuck ("error: file `/boot/grub/i386-pc/normal.mod' not "
                    "found.\nEntering rescue mode...\ngrub rescue> "),
             "GRUB could not find its modules or configuration (grub "
             "rescue prompt)");
  CHECK_STR (stuck ("                             GNU GRUB  version 2.06\n\n"
                    "   Minimal BASH-like line editing is supported. For "
                    "the first word, TAB\n   lists possible command "
                    "completions.\n\n\ngrub> "),
             "GRUB found no configuration and started its shell");
  CHECK_STR (stuck ("UEFI Interactive Shell v2.2\nEDK II\nUEFI v2.70 (EDK "
                    "II, 0x00010000)\nMapping table\n      BLK0: Alias(s):\n"
                    "Press ESC in 1 seconds to skip startup.nsh or any other "
                    "key to continue.\nShell> "),
             "the UEFI firmware found no boot loader and started its shell");
  CHECK_STR (stuck ("BdsDxe: No bootable option or device was found.\n"
                    "BdsDxe: Press any key to enter the Boot Manager Menu.\n"),
             "the UEFI firmware found no boot loader");
  CHECK_STR (stuck ("Booting from Hard Disk...\nBoot failed: not a bootable "
                    "disk\n\nNo bootable device.\n"),
             "the BIOS found no bootable disk");
  /* A healthy boot: none (GRUB's menu, systemd starting its shells'
   * units, the target). */
  CHECK_STR (stuck ("                             GNU GRUB  version 2.06\n"
                    "[    0.000000] Linux version 6.1.0-13-amd64\n"
                    "Begin: Loading essential drivers ... done.\n"
                    "[  OK  ] Reached target Multi-User System.\n"), "");
  /* The UEFI shell's prompt alone is not one of the signs. */
  CHECK_STR (stuck ("Shell> "), "");
}

static void
test_device_wait (void)
{
  CHECK_STR (device_wait ("[ ***  ] Job dev-sda1.device/start running "
                          "(9min 43s / no limit)\n"),
             "the guest has waited 9 min for dev-sda1.device with no time "
             "limit (no driver for its disk controller?)");
  CHECK_STR (device_wait ("[  *** ] A start job is running for /dev/sda1 "
                          "(2min 3s / no limit)\n"),
             "the guest has waited 2 min for /dev/sda1 with no time limit "
             "(no driver for its disk controller?)");
  CHECK_STR (device_wait ("[ *** ] A start job is running for "
                          "dev-disk-by\\x2duuid-0a1b.device (3min / no "
                          "limit)\n"),
             "the guest has waited 3 min for dev-disk-by\\x2duuid-0a1b."
             "device with no time limit (no driver for its disk "
             "controller?)");
  /* Seconds, or under two minutes: still waiting, not stuck. */
  CHECK_STR (device_wait ("[ ***  ] Job dev-sda1.device/start running "
                          "(9s / no limit)\n"), "");
  CHECK_STR (device_wait ("[ ***  ] Job dev-sda1.device/start running "
                          "(1min 59s / no limit)\n"), "");
  /* The first line is under the limit, a later one over it. */
  CHECK_STR (device_wait ("Job dev-sda1.device/start running (1min 2s / "
                          "no limit)\nJob dev-sda1.device/start running "
                          "(2min 3s / no limit)\n"),
             "the guest has waited 2 min for dev-sda1.device with no time "
             "limit (no driver for its disk controller?)");
  /* systemd redraws its status line after a CR, which the log reader
   * drops: the statuses of several jobs end up on one line. */
  CHECK_STR (device_wait ("[ ***  ] (1 of 2) Job dev-sda1.device/start "
                          "running (5min / no limit)[  *** ] (2 of 2) Job "
                          "dracut-initqueue.service/start running (1min 2s "
                          "/ no limit)"),
             "the guest has waited 5 min for dev-sda1.device with no time "
             "limit (no driver for its disk controller?)");
  /* Not a device, or a job with a limit. */
  CHECK_STR (device_wait ("[  *** ] A start job is running for Wait for "
                          "Network to be Configured (2min 3s / no limit)\n"),
             "");
  CHECK_STR (device_wait ("[ ***  ] Job systemd-networkd-wait-online."
                          "service/start running (5min / no limit)\n"), "");
  CHECK_STR (device_wait ("[  *** ] A start job is running for /dev/sda1 "
                          "(2min 3s / 1min 30s)\n"), "");
}

/* console_read drops colour escapes, CRs and NULs. */
static void
test_read (void)
{
  char path[] = "/tmp/azprep-test-console.XXXXXX";
  static const char raw[] =
    "[\033[0;32m  OK  \033[0m] Reached target \033[0;1;39mmulti-user."
    "target\033[0m - Multi-User System.\r\nx\0y\r\n";
  int fd = mkstemp (path);
  char *text;

  CHECK (fd >= 0);
  if (fd < 0)
    return;
  CHECK (write (fd, raw, sizeof raw - 1) == (ssize_t) (sizeof raw - 1));
  close (fd);
  text = console_read (path);
  CHECK_STR (text, "[  OK  ] Reached target multi-user.target - Multi-User "
             "System.\nx y\n");
  CHECK (text && target (text));
  free (text);
  unlink (path);
  CHECK (console_read (path) == NULL);
}

int
main (void)
{
  md = re_match_data ();
  CHECK (md != NULL);
  if (!md)
    return 1;
  test_target ();
  test_dhcp ();
  test_stuck ();
  test_device_wait ();
  test_read ();
  pcre2_match_data_free (md);
  return UNIT_RESULT ("test-console");
}
