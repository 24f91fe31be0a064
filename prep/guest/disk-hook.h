/* Remote disks: a disk kind that lives outside prep/ (vsphere:// from
 * replicate/vsphere/) registers a disk_hook with DISK_HOOK(), as a
 * fixup registers with FIXUP().  disk_probe opens a disk whose name
 * starts with the hook's prefix through it: the disk is then served,
 * raw and read-only, by an NBD export.
 */
#ifndef AZPREP_GUEST_DISK_HOOK_H
#define AZPREP_GUEST_DISK_HOOK_H

#include <stdint.h>

struct disk_hook {
  const char *prefix;        /* "vsphere://" */
  /* Open the disk named path: set *nbd_server (allocated,
   * "unix:SOCKET" or "host:port") and *size (bytes).  Returns the
   * hook's state for close(), or NULL (error reported, naming path). */
  void *(*open) (const char *path, char **nbd_server, int64_t *size);
  void (*close) (void *state);
};

#define DISK_HOOK(h) \
  static const struct disk_hook *const h##_disk_hook_ptr \
  __attribute__((section ("azprep_disk_hooks"), used)) = &(h)

/* The hook whose prefix path starts with, or NULL (a local file). */
const struct disk_hook *disk_hook_find (const char *path);

#endif
