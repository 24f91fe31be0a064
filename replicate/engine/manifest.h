/* azprep replicate: the manifest, what the blob holds, as one 16-byte
 * digest per 64 KiB block (SHA-256 of the block, truncated).  An
 * all-zero entry means the blob reads zeros there; all-ones means
 * unknown (a write was attempted and its outcome is not known), which
 * never matches.  It is a sparse file mapped shared, so entries written
 * survive a kill -9 and memory holds only the touched pages.
 */
#ifndef AZPREP_REPLICATE_MANIFEST_H
#define AZPREP_REPLICATE_MANIFEST_H

#include <stdbool.h>
#include <stdint.h>

#define MANIFEST_BLOCK (64 * 1024)
#define MANIFEST_ENTRY 16

struct manifest;

/* Open (creating) the manifest for a disk of size bytes.  0 or -1. */
struct manifest *manifest_open (const char *path, uint64_t size);
/* Write the file to disk, then push the remote copy if there is one.
 * 0 or -1. */
int manifest_sync (struct manifest *m);

/* A remote copy of the manifest (a page blob: the state container).
 * put() writes len bytes (multiples of 512) at off; 0 or -1.  Once set,
 * the pages whose entries change are pushed by manifest_push (and
 * manifest_sync), and only those.
 */
typedef int (*manifest_put_fn) (void *opaque, uint64_t off, const void *buf,
                                size_t len);
int manifest_set_remote (struct manifest *m, manifest_put_fn put,
                         void *opaque);
/* Upload the changed pages to the remote copy (none: no-op).  0 or -1
 * (the pages stay marked). */
int manifest_push (struct manifest *m);
/* The remote copy's size for a disk of size bytes (a multiple of 512). */
size_t manifest_remote_size (uint64_t size);
/* The mapped entries (to fill from the remote copy). */
unsigned char *manifest_map (struct manifest *m, size_t *len);
void manifest_close (struct manifest *m);
/* Block index b's entry: compare, set, set to unknown/zero. */
bool manifest_equal (const struct manifest *m, uint64_t b,
                     const unsigned char d[MANIFEST_ENTRY]);
void manifest_set (struct manifest *m, uint64_t b,
                   const unsigned char d[MANIFEST_ENTRY]);
void manifest_set_unknown (struct manifest *m, uint64_t b);
/* The digest of a block: all zeros for a zero block, else MD5. */
void manifest_digest (const void *block, size_t len, bool zero,
                      unsigned char d[MANIFEST_ENTRY]);
/* Is buf all zeros?  (word-wise) */
bool is_zero (const void *buf, size_t len);

#endif
