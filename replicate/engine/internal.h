/* replicate/engine: the pieces of replicate_job_run (run.c) that live
 * in their own files: job creation (job.c), the blobs (blobs.c) and
 * the signal thread (signals.c).  Not for other folders.
 */
#ifndef AZPREP_REPLICATE_ENGINE_INTERNAL_H
#define AZPREP_REPLICATE_ENGINE_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "replicate/engine/replicate.h"

/* Create a new job's journal from the command line: one disk per
 * source, its size and dirty bitmap probed, its blob URL under
 * container_url ("" for blob URL targets).  0 or -1.
 */
int job_create (struct job *job, const struct replicate_opts *o,
                const char *container_url);
/* A random (version 4) UUID into u and, if str is not NULL, as text
 * into str[37].  0 or -1 (reported). */
int random_uuid (unsigned char u[16], char *str);
/* Record this host in the journal of a job whose state is in a
 * container; when the last run was on another host, a source only that
 * host can read is said so, and its dirty bitmap is not trusted this
 * run (digests find the changes).  0 or -1.
 */
int job_note_host (struct job *job);
/* Check that the command line names the job's disks.  0 or -1. */
int job_check_disks (const struct job *job, const struct replicate_opts *o);

/* Open each disk's manifest, blob (created when fresh: a new job) and
 * source.  0, -1 error, -2 refused (a blob that is not the job's).
 */
int job_open_disks (struct job *job, const struct replicate_opts *o,
                    bool fresh);

/* The snapshot of disk i's blob that this job took for cycle (its
 * metadata says so) and that the journal does not list, the newest if
 * several: after a lost reply to Snapshot Blob.  1 found (*snap
 * malloc'd), 0 none, -1 error (reported).
 */
int points_find (struct job *job, size_t i, int64_t cycle, char **snap);
/* Delete the snapshots of disk i's blob that this job took and that
 * the journal does not list (lost replies, retried requests, a run that
 * failed after its snapshot); never another job's.  Failures are
 * warnings.
 */
void points_prune (struct job *job, size_t i);

/* SIGINT and SIGTERM, taken by one thread that sets the stop flag. */
struct stopper {
  sigset_t set, old;
  pthread_t thread;
  bool running;
};

/* Block the signals (before any other thread starts: they inherit the
 * mask) and start the thread.  Returns the stop flag (cleared), or
 * NULL (error reported).
 */
volatile sig_atomic_t *stopper_start (struct stopper *st);
/* Stop the thread, restore the signal mask. */
void stopper_end (struct stopper *st);
/* Sleep up to secs, waking early on a stop request. */
void stopper_wait (double secs);

#endif
