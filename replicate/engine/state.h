/* replicate/engine: where a job's state lives (its journal, its disks'
 * manifests, its lock).  Two backends behind one ops table:
 *
 *  - a local directory (--state DIR, the default): the journal and
 *    manifests are files there, the lock is a flock on DIR/NAME.lock;
 *  - a container in the storage account (--state-container NAME): the
 *    journal is the block blob jobs/NAME/journal.json, each manifest the
 *    page blob jobs/NAME/diskI.manifest (only changed pages are
 *    uploaded), and the lock is a short blob lease on the journal blob
 *    renewed by a thread, with a fresh lease id per worker; the local
 *    directory is then only a cache (DIR/remote/CONTAINER), rebuilt from
 *    the container by every run.  The same lease id fences the replica
 *    blobs (blobs.c), so a worker that lost the job writes nothing.
 */
#ifndef AZPREP_REPLICATE_STATE_H
#define AZPREP_REPLICATE_STATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "replicate/azure/blob.h"
#include "replicate/engine/journal.h"
#include "replicate/engine/manifest.h"

#define STATE_LEASE_DEFAULT 60          /* seconds */
#define STATE_LEASE_ENV "AZPREP_STATE_LEASE_SECONDS"
/* Internal: migrate's final cycle, a child azprep replicate, runs under
 * its parent's lease ("LEASE-ID WORKER"); the child takes the variable
 * out of its environment at once and never releases that lease. */
#define STATE_JOIN_ENV "AZPREP_STATE_JOIN"

/* The state options of every command on a job (replicate, status,
 * verify, test-migrate, cleanup-test, migrate, complete): one table, one
 * text, one parser. */
enum { OPT_STATE_CONTAINER = 0x3c0, OPT_WAIT_LOCK, OPT_LEASE_SECONDS };
#define STATE_LONG_OPTIONS                                              \
  { "state-container", required_argument, NULL, OPT_STATE_CONTAINER },  \
  { "wait-lock", required_argument, NULL, OPT_WAIT_LOCK },              \
  { "lease-seconds", required_argument, NULL, OPT_LEASE_SECONDS } /* tests */
/* Their help text; ind: the spaces that align the command's option
 * descriptions.  --wait-lock is only for the commands that lock. */
#define STATE_CONTAINER_USAGE(ind)                                      \
  "  --state-container NAME  keep the job's state (journal, manifests,\n" \
  ind "lock) in this container of the credentials' storage\n"           \
  ind "account instead, so that any host can run or resume\n"           \
  ind "the job (a fleet); --state is then only a cache\n"
#define STATE_WAIT_USAGE(ind)                                           \
  "  --wait-lock SECS  with --state-container: wait up to SECS for\n"   \
  ind "another worker to let go of the job (default 0:\n"               \
  ind "refuse)\n"
#define STATE_USAGE(ind) STATE_CONTAINER_USAGE (ind) STATE_WAIT_USAGE (ind)
struct state_args {
  const char *container;    /* --state-container, or NULL */
  int64_t wait_lock;        /* --wait-lock SECS */
};
/* One of STATE_LONG_OPTIONS for command cmd: 0 taken, -1 not one, or
 * the exit code of a usage error (reported). */
int state_args_option (struct state_args *a, const char *cmd, int c,
                       const char *arg);
/* The state options together (locks: cmd locks the job, so that
 * --wait-lock is one of its options): -1 (go on) or a usage error's
 * exit code. */
int state_args_check (const struct state_args *a, const char *cmd,
                      bool locks);
/* Is n a valid job (or state container) name? */
bool replicate_valid_name (const char *n);

struct state;

struct state_opts {
  const char *dir;          /* local directory (a cache with a container);
                             * NULL: the default */
  const char *container;    /* --state-container, or NULL: local */
  int lease_seconds;        /* 15 to 60 (0: $AZPREP_STATE_LEASE_SECONDS,
                             * else 60) */
  int64_t wait_lock;        /* seconds to wait for a busy job (0: none) */
  volatile sig_atomic_t *stop;  /* set on a lost lease too (may be NULL) */
  bool readonly;            /* create nothing: no directory, cache or
                             * container (status, verify, and the
                             * migration commands, which may still
                             * lock a job that exists) */
};

/* Open the backend (a container is created if the credentials allow).
 * NULL on error (reported).
 */
struct state *state_open (const struct state_opts *o, const struct creds *cr,
                          const struct blob_opts *bo);
/* Stop renewing, release the lock (unless lost), free. */
void state_close (struct state *s);

/* Lock job name for what ("replicate", "complete"): 0, -1 error, -4
 * busy (another worker holds it: reported, naming it; with wait_lock,
 * only after waiting that long).  present: the job must exist (migrate,
 * complete): -2, not reported, if its journal is not there (in a
 * container: nothing is created; a local directory: its lock file may
 * be).
 */
int state_lock (struct state *s, const char *name, const char *what,
                bool present);
/* Remove the locked job's state (j: its journal): its manifests, its
 * journal (a container: their blobs and the local cache), its lock (a
 * lease: gone with the journal blob).  Nothing is written under the
 * lock after it.  0 or -1.
 */
int state_remove (struct state *s, const struct journal *j);
/* The value of STATE_JOIN_ENV, "LEASE-ID WORKER" (malloc'd), for a child
 * azprep replicate that runs a cycle under this worker's lock in a
 * container (it must be held), or NULL (reported). */
char *state_join_env (const struct state *s);
/* Load job name's journal into j (j->path is the local file or cache,
 * and j->sink set for a container).  A missing journal: 0 with *exists
 * false.  0 or -1.
 */
int state_journal_load (struct state *s, const char *name, struct journal *j,
                        bool *exists);
/* Open manifest i of the job in j (with a container: fetched from it and
 * pushed back as it changes; needs the lock).  NULL on error.
 */
struct manifest *state_manifest_open (struct state *s,
                                      const struct journal *j, size_t i);
/* The names of the jobs (sorted, NULL-terminated, malloc'd), or NULL
 * on error (reported).
 */
char **state_list (struct state *s);
/* Who works on job name: *worker the worker that last held it ("HOST/
 * PID", malloc'd, or NULL if not known), *held whether it holds it now
 * (a container's lease; a local directory: NULL, false).  0 or -1.
 */
int state_holder (struct state *s, const char *name, char **worker,
                  bool *held);

/* Where the state lives, for messages: the directory or the container
 * URL. */
const char *state_where (const struct state *s);
/* Is the state in a container? */
bool state_remote (const struct state *s);
/* This worker's lease id (a container: a fresh one, also used on the
 * replica blobs), or NULL (local: the journal's id is used). */
const char *state_lease_id (const struct state *s);
/* Non-zero once the lease is lost or about to expire: pass it as the
 * replica client's fence.  Never set for a local directory. */
const volatile int *state_fence (const struct state *s);
/* The state's own requests and bytes sent so far. */
void state_counters (const struct state *s, uint64_t *requests,
                     uint64_t *bytes);
/* This worker, "HOST/PID" (malloc'd). */
char *state_worker_id (void);

/* The backends (state.c dispatches to them). */
struct state_ops {
  const char *kind;
  int (*lock) (struct state *s, const char *name, const char *what,
               bool present);
  int (*journal_load) (struct state *s, const char *name, struct journal *j,
                       bool *exists);
  struct manifest *(*manifest_open) (struct state *s,
                                     const struct journal *j, size_t i);
  char **(*list) (struct state *s);
  int (*holder) (struct state *s, const char *name, char **worker,
                 bool *held);
  int (*remove) (struct state *s, const struct journal *j);
  void (*close) (struct state *s);
};

struct state {
  const struct state_ops *ops;
  char *dir;                /* local directory or cache */
  char *where;
  void *backend;            /* the container backend's data */
  int lost;                 /* the fence (never set locally) */
};

extern const struct state_ops state_local_ops, state_blob_ops;
/* The container backend's set-up (state-blob.c).  0 or -1. */
int state_blob_init (struct state *s, const struct state_opts *o,
                     const struct creds *cr, const struct blob_opts *bo);

#endif
