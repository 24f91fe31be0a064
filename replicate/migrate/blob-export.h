/* The blob export: nbdkit with the azblob plugin
 * (replicate/nbdkit/nbdkit-azblob.c) serving one page blob on a private
 * unix socket (replicate/nbdkit/spawn.h), for libguestfs to open as an
 * NBD drive (struct disk.nbd_server).  nbdkit runs with
 * --exit-with-parent: if azprep dies, so does it.
 */
#ifndef AZPREP_MIGRATE_BLOB_EXPORT_H
#define AZPREP_MIGRATE_BLOB_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "replicate/azure/token.h"

struct blob_export_opts {
  const char *creds_file;   /* passed as credentials=FILE, or NULL: the
                             * secrets of the environment go to nbdkit in
                             * a file of its private directory, removed
                             * once it serves */
  const char *cacert;
  const char *lease_id;     /* sent on writes, or NULL */
  bool readonly;
  /* Entra ID: the token source whose tokens the plugin gets through a
   * private file (token-file=), renewed by a thread of this process
   * while nbdkit runs.  NULL: none. */
  struct token_source *tokens;
  bool allow_http;          /* allow-http=true (azprep's --allow-http) */
};

struct blob_export_stats {
  uint64_t size;            /* device size (blob - footer) */
  uint64_t bytes_read, reads;
  uint64_t bytes_written, writes;
  uint64_t bytes_cleared, clears;
  uint64_t client_writes;   /* the guest's writes, gathered into writes */
  uint64_t write_errors;    /* gathered writes lost (an error) */
};

struct blob_export;

/* The plugin: $AZPREP_NBDKIT_PLUGIN, else build/nbdkit-azblob.so next
 * to the azprep binary, else the installed one.  NULL (reported) if
 * none exists. */
char *blob_export_plugin_path (void);

/* Start nbdkit for the blob URL (no SAS: credentials come from the
 * environment or o->creds_file) and wait until it serves.  NULL
 * (reported, with nbdkit's own error on stderr) on failure. */
struct blob_export *blob_export_start (const char *url,
                                       const struct blob_export_opts *o);
/* "unix:/path/to/socket", for guestfs_add_drive_opts' server list. */
const char *blob_export_server (const struct blob_export *b);
/* Stop nbdkit, wait for it, read its counters into st (if not NULL),
 * free b.  0, or -1 (reported) if nbdkit failed or left no counters. */
int blob_export_stop (struct blob_export *b,
                      struct blob_export_stats *st);

#endif
