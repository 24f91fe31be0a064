/* VMware VM descriptors (OVF, OVA, .vmx): what check reads besides the
 * disks, and the readers' shared helpers (desc.c).
 */
#ifndef AZPREP_CHECK_DESC_H
#define AZPREP_CHECK_DESC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#include "prep/guest/guest.h"

/* A VM descriptor: OVF/OVA (desc/ovf.c) or .vmx (desc/vmx.c). */
struct vm_desc {
  char *kind;                /* "ovf", "ova", "vmx" */
  char *source;              /* the descriptor file */
  char *name;                /* VM name, or NULL */
  char **disks;              /* disk paths in order, NULL-terminated */
  int64_t *capacity;         /* per disk, bytes, -1 if unknown */
  size_t ndisks;
  enum firmware firmware;    /* FIRMWARE_UNKNOWN if not stated */
  int cpus;                  /* 0 if unknown */
  int64_t memory_mib;        /* 0 if unknown */
  int nics;
  char *guest_os;            /* VMware guest id (vmw:osType, guestOS) */
  bool secure_boot;
  bool vtpm;
  /* OVA: each disk is a tar member served, decoded, by a read-only
   * qemu-nbd (prep/check/desc/ova.c): per disk, its NBD server
   * ("unix:SOCKET") and virtual size, or why it cannot be read; all
   * NULL for other descriptors. */
  char **nbd_server;
  int64_t *nbd_size;
  char **disk_error;
  pid_t *nbd_pid;
  char *ova_dir;             /* the sockets' temporary directory */
};

/* Largest descriptor accepted (bytes). */
#define DESC_MAX_SIZE (4 * 1024 * 1024)

/* Parse a descriptor.  OVA disks are read in place, each through a
 * read-only qemu-nbd (sockets in a temporary directory under $TMPDIR)
 * that desc_free stops.  NULL after a clear error naming the file and
 * what is wrong. */
struct vm_desc *desc_read_ovf (const char *path);
/* The same for one VM of a multi-VM descriptor (a vApp), by the id
 * desc_ovf_vms gives (NULL: the only VM). */
struct vm_desc *desc_read_ovf_vm (const char *path, const char *vm_id);
/* The VMs of an OVF or OVA (VirtualSystems, through collections): the
 * number, with their ids (ovf:id, else "#N") and names (Name, else the
 * id) in NULL-terminated lists the caller frees (even on error); -1
 * after an error naming the file. */
int desc_ovf_vms (const char *path, char ***ids, char ***names);
struct vm_desc *desc_read_vmx (const char *path);
void desc_free (struct vm_desc *d);
cJSON *desc_json (const struct vm_desc *d);

/* Helpers of the readers. */

/* The whole file, at most DESC_MAX_SIZE bytes, NUL-terminated. */
char *desc_slurp (const char *path, size_t *len_r);
/* A relative path with no ".." component (no escaping the VM's dir). */
bool desc_safe_relative (const char *p);
struct vm_desc *desc_new (const char *kind, const char *source);
char *desc_dirname (const char *path);
/* Append dir/file (file as is if absolute). */
int desc_add_disk (struct vm_desc *d, const char *dir, const char *file,
                   int64_t capacity);

/* OVA archives (ova.c): the .ovf member's text; serving the
 * disk members hrefs (in the order of d->disks) through qemu-nbd;
 * stopping them. */
char *ova_read_ovf (const char *path, char **member_r, size_t *len_r);
int ova_serve_disks (struct vm_desc *d, const char *path, char *const *hrefs);
void ova_stop (struct vm_desc *d);

#endif
