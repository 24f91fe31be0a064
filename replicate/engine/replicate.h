/* replicate/engine: the replication job (journal, manifests, sources,
 * blobs) and the cycles that copy a VM's disks to page blobs.
 *
 * Shared by the replicate, status and verify commands (not a public
 * interface).  The engine knows local images and NBD URIs; any other
 * kind of source (vsphere:// disks) registers a source hook.
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
struct replicate_source;

/* One disk of the job while a command runs. */
struct rdisk {
  struct jdisk *jd;
  struct source *src;
  struct blob *blob;
  struct manifest *man;
  /* Set by a source hook that knows what changed (vSphere CBT): only
   * these areas of the source are read and compared with the manifest
   * this cycle; the rest is as the blob holds it.  Freed at the end of
   * the cycle. */
  struct rangelist changed;
  bool have_changed;
};

struct state;

struct job {
  struct journal j;
  char *state_dir;
  struct state *state;          /* where the journal and manifests live
                                 * (NULL: state_dir, as verify uses) */
  uint64_t state_requests, state_bytes;   /* the state container's
                                 * counters at the last cycle's end */
  struct blob_client *client;
  struct rdisk *disks;          /* j.ndisks of them */
  int parallel;
  bool json, tty;
  bool use_bitmap;              /* delta cycles may use dirty bitmaps */
  bool enable_cbt;              /* vsphere: turn changed block tracking
                                 * on when it is off */
  volatile sig_atomic_t *stop;  /* non-zero: stop the cycle (a signal) */
  const struct replicate_source *hook;  /* the hook that opened sources */
  void *hook_cycle;             /* the hook's state for this cycle (a
                                 * vSphere snapshot), or NULL */
};

/* What azprep replicate is asked to do: its command line. */
struct replicate_opts {
  const char *container;        /* --container, or NULL */
  char **to;                    /* --to URLs (nto) */
  size_t nto;
  const char *name;             /* the job name (checked by the caller) */
  const char *state, *cacert, *credentials, *bitmap;   /* or NULL */
  char **disks, **formats;      /* ndisks; a format may be NULL */
  size_t ndisks;
  int64_t parallel, cycles, interval, keep;   /* interval -1: the rule */
  bool continuous, allow_http, json;
  bool enable_cbt;              /* --enable-cbt */
  const char *state_container;  /* --state-container, or NULL */
  int64_t wait_lock;            /* --wait-lock SECS */
};

/* Run the job: open or create it, run its cycles, stop on SIGINT or
 * SIGTERM.  Returns 0 done (or stopped between cycles), 1 stopped
 * during a cycle, -1 error, -2 refused (a blob azprep did not create,
 * a managed disk of the wrong size), -3 the job's lease in the state
 * container was lost (nothing more was written), -4 another worker
 * holds the job.  Errors are reported.
 */
int replicate_job_run (const struct replicate_opts *o);

/* Can only the host that runs the job read this source (a local path,
 * an NBD Unix socket)? */
bool source_host_only (const char *source);

/* Is url a blob URL (a SAS with sr=b, or a .vhd path) rather than a
 * container URL?
 */
bool replicate_url_is_blob (const char *url);

/* Close the job: end the source hook's cycle, close sources, blobs and
 * manifests, free the journal.
 */
void job_close (struct job *job);
/* End the source hook's cycle (close the sources, remove a vSphere
 * snapshot), if one is open.  0 or -1 (error reported).
 */
int job_end_cycle (struct job *job);

/* A kind of source the engine does not open itself, registered with
 * REPLICATE_SOURCE() by the folder that knows it (replicate/vsphere).
 */
struct replicate_source {
  const char *name;
  bool (*match) (const char *source);
  /* The disk's size in bytes, for a new job.  0 or -1. */
  int (*size) (const char *source, int64_t *size);
  /* Open d->src for the current cycle (job->hook_cycle may hold the
   * cycle's state).  0 or -1.
   */
  int (*open) (struct job *job, struct rdisk *d);
  /* Close the job's sources and end the cycle begun by open(); a
   * no-op when none is open.  0 or -1.
   */
  int (*end_cycle) (struct job *job);
};

#define REPLICATE_SOURCE(s) \
  static const struct replicate_source *const s##_source_ptr \
  __attribute__((section ("azprep_sources"), used)) = &(s)

/* The registered hook whose match() takes source, or NULL. */
const struct replicate_source *replicate_source_find (const char *source);

/* Default state directory ($XDG_STATE_HOME/azprep or
 * ~/.local/state/azprep), malloc'd.
 */
char *replicate_default_state_dir (void);
/* The state directory, if it exists, must be the user's and writable
 * by no one else.  0 or -1 (reported). */
int replicate_check_state_dir (const char *dir);
/* Journal path for job name in dir. */
char *replicate_journal_path (const char *dir, const char *name);
/* Lock file path for job name in dir (see replicate_lock_job). */
char *replicate_lock_path (const char *dir, const char *name);
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
