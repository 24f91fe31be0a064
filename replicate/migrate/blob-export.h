/* The bridge: nbdkit with the azblob plugin (replicate/nbdkit/nbdkit-azblob.c)
 * serving one page blob on a private unix socket, for libguestfs to
 * open as an NBD drive (struct disk.nbd_server).  nbdkit runs with
 * --exit-with-parent: if azprep dies, so does it.
 */
#ifndef AZPREP_BRIDGE_H
#define AZPREP_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

struct bridge_opts {
  const char *creds_file;   /* passed as credentials=FILE, or NULL (env) */
  const char *cacert;
  const char *lease_id;     /* sent on writes, or NULL */
  bool readonly;
};

struct bridge_stats {
  uint64_t size;            /* device size (blob - footer) */
  uint64_t bytes_read, reads;
  uint64_t bytes_written, writes;
  uint64_t bytes_cleared, clears;
};

struct bridge;

/* The plugin: $AZPREP_NBDKIT_PLUGIN, else build/nbdkit-azblob.so next
 * to the azprep binary, else the installed one.  NULL (reported) if
 * none exists. */
char *bridge_plugin_path (void);

/* Start nbdkit for the blob URL (no SAS: credentials come from the
 * environment or o->creds_file) and wait until it serves.  NULL
 * (reported, with nbdkit's own error on stderr) on failure. */
struct bridge *bridge_start (const char *url, const struct bridge_opts *o);
/* "unix:/path/to/socket", for guestfs_add_drive_opts' server list. */
const char *bridge_server (const struct bridge *b);
/* Stop nbdkit, wait for it, read its counters into st (if not NULL),
 * free b.  0, or -1 (reported) if nbdkit failed or left no counters. */
int bridge_stop (struct bridge *b, struct bridge_stats *st);

#endif
