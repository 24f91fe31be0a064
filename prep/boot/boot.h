/* prep/boot: boot a prepared guest under qemu (boot-test) and read what
 * its serial console says: the default target, a DHCP lease, or a sign
 * that it is stuck.  prep/cmd/boot-test.c is the command around it.
 */
#ifndef AZPREP_BOOT_H
#define AZPREP_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "prep/common/regex.h"
#include "prep/guest/guest.h"

/* How to boot (from the command line). */
struct boot_opts {
  const char *accel;            /* "kvm" or "tcg" */
  bool uefi;
  int memory;                   /* MiB */
  int timeout, silence;         /* seconds; silence 0: never */
  const char *controller;       /* "virtio-scsi" or "virtio-blk" */
};

/* What the boot showed. */
struct boot_result {
  bool target, ssh, dhcp_seen;
  char banner[256];
  char stuck[256];              /* why it cannot boot, or "" */
  double seconds;
};

/* Console (prep/boot/console.c).  The console log so far (bounded,
 * without colour escapes, CRs and NULs), NUL-terminated; NULL if none. */
char *console_read (const char *path);
/* The signs, matched with patterns compiled once; md is match data
 * from re_match_data (), reused for every call.  Each returns 1 (seen),
 * 0 (not), -1 (a pattern error, reported). */
int console_target (const char *log, pcre2_match_data *md);
int console_dhcp (const char *log, pcre2_match_data *md);
/* A sign that the guest will not reach its default target: *why is set
 * to the reason (static text). */
int console_stuck (const char *log, pcre2_match_data *md, const char **why);
/* A device job with no time limit running for minutes: the reason is
 * written to why[0..n). */
int console_device_wait (const char *log, pcre2_match_data *md, char *why,
                         size_t n);
/* The last bytes of the log on stderr, framed. */
void console_print_tail (const char *log);

/* qemu (prep/boot/qemu.c). */
bool boot_kvm_usable (void);
/* UEFI if the first disk's GPT has an EFI system partition; dir is a
 * scratch directory.  0 or -1 (reported). */
int boot_detect_firmware (const struct disk *d, const char *dir,
                          bool *uefi);
/* Boot disks[] on overlays in dir, the console going to log, and watch
 * until the guest is up, stuck, or out of time.  0 (ran: see *r) or -1
 * (qemu could not start, reported). */
int boot_run (const struct boot_opts *o, struct disk *disks, size_t ndisks,
              const char *dir, const char *log, struct boot_result *r);

/* Inside prep/boot: a running qemu (prep/boot/qemu.c) for the watcher
 * (prep/boot/watch.c). */
#define BOOT_MAX_DISKS 32
struct qemu {
  pid_t pid;                    /* -1: not running */
  int port;                     /* host port forwarded to the guest's 22 */
  char *overlays[BOOT_MAX_DISKS];
  size_t noverlays;
  char *vars;                   /* OVMF variables (UEFI) */
};
/* Overlays in dir, the command line, and qemu started.  0, or -1
 * (reported; qemu_stop still cleans up). */
int qemu_start (struct qemu *q, const struct boot_opts *o,
                struct disk *disks, size_t ndisks, const char *dir,
                const char *log);
/* Stop qemu if it runs and remove the overlays. */
void qemu_stop (struct qemu *q);
/* The -netdev option: user networking, isolated from the host and the
 * outside, with sshd forwarded to 127.0.0.1:port.  NULL on OOM. */
char *qemu_netdev (int port);

#endif /* AZPREP_BOOT_H */
