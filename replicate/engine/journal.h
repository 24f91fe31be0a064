/* azprep replicate: the journal, a JSON state file per replication job
 * (one VM, one or more disks), written atomically (write, fsync,
 * rename, fsync of the directory).  It never holds secrets: blob URLs
 * are stored without their SAS.
 */
#ifndef AZPREP_REPLICATE_JOURNAL_H
#define AZPREP_REPLICATE_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "replicate/azure/ranges.h"

struct jdisk {
  char *source;          /* image path or NBD URI */
  char *format;          /* or NULL */
  char *blob;            /* blob URL without secrets */
  bool managed;          /* managed-disk SAS target: Put Page only */
  uint64_t size;         /* V: virtual size, a multiple of 1 MiB */
  char *lease;           /* lease id held on the blob, or NULL */
  char *bitmap;          /* dirty bitmap present since the initial copy */
  char *manifest;        /* manifest file name (in the state directory) */
  unsigned char uuid[16];/* VHD footer unique id */
  char *state;           /* initial, delta, idle, failed */
  int64_t cycles;        /* completed cycles */
  bool open;             /* a cycle is in progress */
  struct rangelist done; /* ranges finished in the open cycle */
  char **snapshots;      /* recovery points, oldest first */
  uint64_t bytes_sent;   /* all cycles */
  uint64_t cycle_bytes;  /* the open or last cycle */
  double cycle_seconds;  /* duration of the last completed cycle */
  int64_t last_end;      /* Unix time the last cycle completed */
  char *error;           /* the last failure, or NULL */
  /* Changed Block Tracking (vsphere:// sources): the disk's changeId
   * at the snapshot of the last recovery point (the next delta is asked
   * since it), and at the open cycle's snapshot (it becomes change_id
   * when the cycle's recovery point is taken).  NULL: none. */
  char *change_id;
  char *cycle_change_id;
};

struct journal {
  char *path;            /* the file */
  char *name;            /* job name */
  int64_t created;
  int64_t next_cycle;    /* Unix time the next cycle is due while a
                          * running job waits for it, else 0 */
  size_t ndisks;
  struct jdisk *disks;
  char *host;            /* the host of the last run (a state container:
                          * host-only sources), or NULL */
  /* Called after each save with the JSON written (the copy in a state
   * container), or NULL.  0 or -1. */
  int (*sink) (void *opaque, const char *json, size_t len);
  void *sink_opaque;
};

/* Load path.  A missing file is not an error: returns 0 with *exists
 * false and an empty journal.  Any malformed content is an error (the
 * file is named).  0 or -1.
 */
int journal_load (struct journal *j, const char *path, bool *exists);
int journal_save (const struct journal *j);
/* Parse a journal's JSON (buf, len bytes, NUL-terminated) into j (its
 * path already set or NULL); path names it in messages.  0 or -1.
 */
int journal_parse (struct journal *j, const char *path, const char *buf,
                   size_t len);
#define JOURNAL_MAX (16 * 1024 * 1024)
void journal_free (struct journal *j);
/* Add a disk (zeroed); returns it or NULL. */
struct jdisk *journal_add_disk (struct journal *j);

#endif
