/* azprep replicate: the replication job shared by the replicate,
 * status and verify commands (not a public interface).
 */
#ifndef AZPREP_REPLICATE_REPLICATE_H
#define AZPREP_REPLICATE_REPLICATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "replicate/azure/blob.h"
#include "replicate/engine/journal.h"
#include "replicate/engine/manifest.h"
#include "replicate/engine/source.h"

#define CHUNK (4 * 1024 * 1024)     /* Put Page limit and scan unit */

struct progress;

/* One disk of the job while a command runs. */
struct rdisk {
  struct jdisk *jd;
  struct source *src;
  struct blob *blob;
  struct manifest *man;
};

struct job {
  struct journal j;
  char *state_dir;
  struct blob_client *client;
  struct rdisk *disks;          /* j.ndisks of them */
  int parallel;
  bool json, tty;
  bool use_bitmap;              /* delta cycles may use dirty bitmaps */
  volatile sig_atomic_t *stop;  /* non-zero: stop the cycle (a signal) */
  struct vsphere_cycle *vsphere;  /* vsphere:// disks: this cycle's
                                   * snapshot (replicate/vsphere/vsphere.h) */
};

/* Default state directory ($XDG_STATE_HOME/azprep or
 * ~/.local/state/azprep), malloc'd.
 */
char *replicate_default_state_dir (void);
/* Journal path for job name in dir. */
char *replicate_journal_path (const char *dir, const char *name);
/* Take the job's lock, DIR/NAME.lock (flock, exclusive, no wait) and
 * keep it until the process exits, even by a signal: one replicate
 * (migrate's final cycle is one) or complete per job at a time.  what
 * says what the caller does, for the error.  Returns 0, or -1 (error
 * reported, naming the pid that holds it).
 */
int replicate_lock_job (const char *dir, const char *name, const char *what);

/* Azure Migrate's interval rule: the wait before the next delta cycle
 * (seconds) after a cycle of the given duration; 0 after the initial
 * copy, else half the duration, clamped to 1 h .. 12 h.
 */
double replicate_next_wait (double cycle_seconds, bool was_initial);

/* Open the disk's source (from jd->source/format/bitmap). */
int rdisk_open_source (struct job *job, struct rdisk *d);
int rdisk_open_manifest (struct job *job, struct rdisk *d);

/* Send what differs between the source and the blob (per the
 * manifest) for one disk; resumes from jd->done.  Saves the journal as
 * it goes.  0 done, -1 error, 1 stopped early (*job->stop): the writes
 * in flight have finished and the journal records them.
 */
int cycle_copy_disk (struct job *job, size_t i, bool initial);

/* Progress: a bar on a terminal (stderr), JSON lines (stdout). */
struct progress *progress_new (struct job *job, size_t disk, uint64_t total);
void progress_update (struct progress *p, uint64_t scanned, uint64_t sent,
                      bool force);
void progress_free (struct progress *p);

/* Format "2.5 GiB" into buf. */
const char *human_size (uint64_t n, char buf[32]);

#endif
