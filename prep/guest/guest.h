/* The guest handle: one per VM, reaching every layer.  It owns the
 * libguestfs handle (one appliance for all the VM's disks), the
 * inspection results, the report, and the options fixups read.
 */
#ifndef AZPREP_GUEST_H
#define AZPREP_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <guestfs.h>
#include <cjson/cJSON.h>

#include "prep/report.h"

struct distro_ops;              /* the Linux family's own table */
struct os_ops;                  /* prep/guest/os.h */
struct disk_hook;               /* prep/guest/disk-hook.h */

struct disk {
  char *path;          /* as given on the command line */
  char *format;        /* given (--format) or detected (qemu-img info) */
  int64_t size;        /* virtual size in bytes */
  bool probed;         /* disk_probe passed: not asked again */
  char *overlay;       /* temporary qcow2 overlay when writing */
  /* An NBD export ("unix:/path/to/socket" or "host:port") serving the
   * disk, raw, instead of a local file: path is then only its name in
   * messages, size must be set by the caller, and writes go straight
   * to the export (no overlay, no commit). */
  char *nbd_server;
  /* A remote disk (vsphere://...): the hook that opened it and its
   * state (the session and bridge behind nbd_server). */
  const struct disk_hook *hook;
  void *hook_state;
  /* The flock held on path (prep/guest/lock.c) while a handle is open:
   * lock_fd is valid only when locked. */
  bool locked, exclusive;
  int lock_fd;
};

enum firmware { FIRMWARE_UNKNOWN = 0, FIRMWARE_BIOS, FIRMWARE_UEFI };

/* One block device of the appliance (whole disk, partition or LV), as
 * blkid sees it: read once by guest_scan_storage, used by inspection,
 * the fixups and check instead of asking the appliance again. */
struct guest_blockdev {
  char *device;        /* /dev/sda, /dev/sda1, /dev/vg/lv */
  enum { BDEV_DISK, BDEV_PARTITION, BDEV_LV } kind;
  char *type;          /* blkid TYPE (ext4, ntfs, swap, crypto_LUKS, ...)
                          or NULL */
  char *uuid, *label;  /* filesystem UUID and label, or NULL */
  char *partuuid, *partlabel;  /* partition entry UUID, name, or NULL */
  char *disk;          /* partitions: the whole disk; else NULL */
  int partnum;         /* partitions: number; else 0 */
  char *table;         /* partitions: "msdos" or "gpt", or NULL */
  char *gpt_type;      /* GPT partition type GUID, upper case */
  int mbr_id;          /* MBR partition type, or -1 */
  bool bootable;       /* MBR active flag */
};

struct guest {
  guestfs_h *g;
  struct disk *disks;
  size_t ndisks;
  bool readonly;
  bool trace;
  double opened;              /* monotonic_seconds () at guest_open */

  /* Inspection (guest_inspect), strings owned by the handle. */
  char *root;                 /* root device, e.g. /dev/sda1 */
  char *type;                 /* "linux", "windows", ... */
  char *distro;               /* "debian", "rhel", "windows", ... */
  int major, minor;
  char *product_name;
  char *product_variant;      /* Windows: "Server", "Client" */
  char *arch;
  char *hostname;
  char *osinfo;
  char *package_format;
  char *package_management;
  char *windows_systemroot;       /* e.g. /Windows */
  char *windows_current_control_set;  /* e.g. ControlSet001 */
  char *windows_system_hive;      /* guest path */
  char *windows_software_hive;
  enum firmware firmware;
  char **esps;                    /* ESP devices, NULL-terminated, or NULL */
  int generation;                 /* Azure: 1 (BIOS) or 2 (UEFI) */
  bool mounted;

  /* Block devices (guest_scan_storage) and the root's mountpoints:
   * pairs (mountpoint, appliance device), "/" first, NULL-terminated. */
  struct guest_blockdev *bdevs;
  size_t nbdevs;
  bool storage_scanned;
  bool root_mounted;              /* read-only: inspection left / mounted */
  char **mountpoints;
  /* guest_inspect refused the guest (an encrypted root): commands exit
   * with EXIT_NOTREADY rather than EXIT_ERROR. */
  bool refused;

  /* Linux distro family, chosen once (distros/). */
  const struct distro_ops *distro_ops;
  void *distro_data;

  /* The OS family (set by guest_inspect) and its own state (Windows:
   * hive copies, refusals, BCD), released by its free(). */
  const struct os_ops *os;
  void *os_data;

  struct report *report;

  /* Options fixups read. */
  bool dry_run;
  bool keep_static_ip;
  bool no_backup;
  /* linux-selinux relabelled the guest now (no /.autorelabel needed). */
  bool selinux_relabelled;
  /* The Azure generation the user asked for (fix/check --generation),
   * 0 if not given.  Inspection still decides gs->generation; a
   * request the firmware cannot boot is a warning. */
  int requested_generation;

  /* check: guest_inspect reports no OS, several OSes and an encrypted
   * root as blocker findings (ids os-none, os-multiple, root-encrypted)
   * instead of printing an error; it still returns -1. */
  bool inspect_findings;

  /* Where fix --report / change records go. */
  const char *name;               /* VM name for reports, or NULL */

  /* Wall time of each phase (launch, inspection, each fixup, each
   * command run in the guest, commit), in order: an array of
   * {"phase", "seconds"} (guest_timing). */
  cJSON *timings;
};

/* How to open the disks. */
enum {
  GUEST_READONLY = 1,     /* add drives read-only, mount read-only */
  GUEST_OVERLAY = 2,      /* write to temporary overlays (fix) */
  GUEST_TRACE = 4,
  GUEST_VERBOSE = 8,
};

/* Parse a DISK argument list: [--format FMT] DISK... is handled by the
 * command; this appends one disk.  Returns 0 or -1. */
int disks_add (struct disk **disks, size_t *n, const char *path,
               const char *format);
void disks_free (struct disk *disks, size_t n);
/* qemu-img info (and qemu-img check of formats with tables): fill
 * format (if not given) and size; clear error.  Once: a disk it passed
 * is not probed again (check probes before it opens). */
int disk_probe (struct disk *d);

/* Probe each disk with qemu-img info (format, size, corruption), create
 * overlays if asked, create the handle, add the drives, launch.
 * Errors name the disk.  Returns NULL on error. */
struct guest *guest_open (struct disk *disks, size_t ndisks, unsigned flags);

/* Inspect: exactly one OS or a clear error ("no operating system",
 * "2 operating systems").  Fills the inspection fields, firmware,
 * generation.  Returns 0, or -1 with the error reported. */
int guest_inspect (struct guest *gs);

/* Read every block device once with blkid (prep/guest/storage.c).  0 or -1.
 * guest_blockdev: the entry of an appliance device, or NULL. */
int guest_scan_storage (struct guest *gs);
const struct guest_blockdev *guest_blockdev (struct guest *gs,
                                             const char *device);
/* The appliance device a guest's fstab spec names (UUID=, LABEL=,
 * PARTUUID=, PARTLABEL=, /dev/disk/by-*, /dev/mapper/VG-LV, /dev/VG/LV,
 * or a device name such as /dev/sdb1, /dev/vda2, /dev/nvme0n1p1 mapped
 * by disk order), or NULL.  Needs guest_scan_storage. */
char *guest_resolve_spec (struct guest *gs, const char *spec);
/* A guest device name (sdX, vdX, hdX, xvdX, nvmeNnM[pP]) as the
 * appliance names it (/dev/sdX...), by disk order; NULL if not one. */
char *device_map_by_index (const char *spec);
void guest_storage_free (struct guest *gs);
/* What tune2fs -l says of an ext2/3/4 superblock's state and features,
 * read straight from the device (one read in the daemon, where
 * tune2fs is a process in the appliance, a good part of a second under
 * TCG): state as tune2fs prints it ("clean", "not clean", "... with
 * errors"), errors recorded, the read-only feature. */
struct guest_ext_state {
  char state[32];
  bool errors;
  bool readonly;
};
/* 0, or -1 when the device cannot be read or holds no ext superblock
 * (no message). */
int guest_ext_state (struct guest *gs, const char *device,
                     struct guest_ext_state *st);
/* The same from the superblock's bytes (1024 from the device's byte
 * 1024). */
int ext_superblock_parse (const unsigned char *sb, size_t len,
                          struct guest_ext_state *st);

/* Mount the guest's filesystems (read-only if the handle is). */
int guest_mount (struct guest *gs);

/* Unmount, sync, shut the appliance down (flushing the overlays).
 * Returns 0 or -1. */
int guest_shutdown (struct guest *gs);

/* Record the wall time since START (monotonic_seconds ()) as PHASE in
 * gs->timings, and print it with -v ("time: PHASE 1.23 s"). */
void guest_timing (struct guest *gs, const char *phase, double start);

/* Close the handle.  Removes overlays unless they were committed. */
void guest_close (struct guest *gs);
/* Write helpers for fixups.  Each one (unless dry_run) keeps one
 * backup of the original as PATH.azprep-orig (the first original only),
 * writes, and records a report_change().  Return 0 or -1. */
int guest_write_file (struct guest *gs, const char *path,
                      const char *content, size_t len);
int guest_remove_file (struct guest *gs, const char *path);
int guest_backup_file (struct guest *gs, const char *path);
/* The same for a PATH known to exist (one round trip fewer). */
int guest_backup_present (struct guest *gs, const char *path);
int guest_symlink (struct guest *gs, const char *target, const char *link);

/* Read a guest file whole (bounded at max bytes; a larger file is an
 * error naming it).  Returns a NUL-terminated buffer, or NULL. */
char *guest_read_file (struct guest *gs, const char *path, size_t max,
                       size_t *len_r);
/* Copy a guest file's first size bytes (fewer if it is shorter) to fd
 * (named name in messages), in pread chunks of 1 MiB: guestfs_download
 * streams it in small chunks, each a message through the emulated
 * serial port.  0 or -1 (reported). */
int guest_copy_to_fd (struct guest *gs, const char *path, uint64_t size,
                      int fd, const char *name);
/* Does this guest path exist (any type, no error)? */
bool guest_exists (struct guest *gs, const char *path);
/* Is path a regular file (guest_is_file), a directory (guest_is_dir),
 * following a final symbolic link if follow?  1, 0 (no such path), or
 * -1 (another error).  As guestfs_is_file and guestfs_is_dir, but with
 * one stat in the daemon: those fork a process in the appliance at
 * each call (their implementation chroots in a child), tens of ms
 * under TCG. */
int guest_is_file (guestfs_h *g, const char *path, bool follow);
int guest_is_dir (guestfs_h *g, const char *path, bool follow);
/* The names in a guest directory, sorted, without "." and "..", as
 * guestfs_ls but in one reply (guestfs_ls writes a file in the
 * appliance and downloads it).  NULL on error (the appliance's is not
 * reported: the caller says). */
char **guest_ls (guestfs_h *g, const char *dir);

/* Inspection as JSON (schema in azprep(1)). */
cJSON *guest_inspect_json (struct guest *gs);

/* Commit the overlays into the disks atomically, or write them to
 * output (one file per disk, output[i]), see prep/guest/commit.c. */
int guest_commit (struct guest *gs);
int guest_write_output (struct guest *gs, char *const *outputs,
                        const char *output_format);

/* Roll back an interrupted commit of this disk, if any, and remove
 * the temporary files it left.  Only under the disk's exclusive lock.
 * Returns 0 or -1. */
int commit_recover (const char *disk_path);
/* The undo journal's name for this disk (free it), or NULL. */
char *commit_undo_path (const char *disk_path);

/* Disk locks (prep/guest/lock.c): an flock on the disk file, shared
 * for commands that only read, exclusive for fix.  disk_lock: 0, or -1
 * with an error naming the disk when another azprep holds a
 * conflicting lock.  disk_lock_and_recover: lock, then roll back an
 * interrupted fix; a reader does that only if no one else has the disk
 * (a reader that finds a journal while others read fails).  Called by
 * guest_open for every local disk; released by guest_close and
 * disks_free (disk_unlock: no-op when not locked). */
int disk_lock (struct disk *d, bool exclusive);
int disk_lock_and_recover (struct disk *d, bool exclusive);
void disk_unlock (struct disk *d);

#endif
