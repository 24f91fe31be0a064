/* azprep replicate: reading a source disk.
 *
 * A local raw image (without a dirty bitmap) is read directly: pread,
 * and SEEK_DATA/SEEK_HOLE for its extents.  Another local image (qcow2,
 * vmdk incl. streamOptimized, vhd, vhdx) is served read-only by
 * qemu-nbd, started as a subprocess on a private Unix socket (systemd
 * socket activation) and read with libnbd, so nothing is converted to
 * a temporary file.  Any other NBD server (nbdkit exposing a vSphere disk,
 * for example) plugs in through source_open_nbd with its URI.
 *
 * A source is used from one thread at a time.
 */
#ifndef AZPREP_REPLICATE_SOURCE_H
#define AZPREP_REPLICATE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct source;

/* Open a local image.  format: "raw", "qcow2", "vmdk", "vpc", "vhdx" or
 * NULL to detect it.  bitmap: the name of a persistent dirty bitmap of a
 * qcow2 image to expose (NULL: none).  NULL after azp_error().
 */
struct source *source_open_local (const char *path, const char *format,
                                  const char *bitmap);
/* Open an NBD endpoint by URI (nbd://, nbd+unix:///?socket=..., ...).
 * bitmap: a "qemu:dirty-bitmap:NAME" style context name, or NULL.
 */
struct source *source_open_nbd (const char *uri, const char *bitmap);
void source_close (struct source *s);
/* Another connection to the same NBD URI source (one connection reads
 * one request at a time on some servers: nbdkit's curl plugin), named
 * as s is; NULL when s is not an NBD URI source or the connection
 * fails (reported). */
struct source *source_clone (const struct source *s);

const char *source_name (const struct source *s);
/* Name the source in messages (a read error names it and the offset):
 * the disk it serves rather than the NBD URI.  0 or -1. */
int source_set_name (struct source *s, const char *name);
uint64_t source_size (const struct source *s);
/* Persistent dirty bitmaps of a local qcow2 image (NULL-terminated,
 * malloc'd; may be empty).  NULL after azp_error().
 */
char **source_list_bitmaps (const char *path);
/* Does the server expose the dirty bitmap asked for at open? */
bool source_has_bitmap (const struct source *s);

int source_pread (struct source *s, void *buf, size_t count,
                  uint64_t offset);

/* Call f for consecutive extents covering [offset, offset+len):
 * zero = the extent reads as zeros (a hole or known zeros).  Where the
 * server has no block status, everything is data.  f returns 0 or -1
 * (stop).
 */
typedef int (*source_extent_fn) (void *opaque, uint64_t offset,
                                 uint64_t len, bool flag);
int source_extents (struct source *s, uint64_t offset, uint64_t len,
                    source_extent_fn f, void *opaque);
/* The same for the dirty bitmap: flag = dirty. */
int source_dirty (struct source *s, uint64_t offset, uint64_t len,
                  source_extent_fn f, void *opaque);

#endif
