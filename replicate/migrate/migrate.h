/* replicate/migrate: test-migrate, migrate and hydration of the
 * replicated disks, with the VM definition and its ARM template.
 *
 * Test migration and migration of a replicated VM (the replication job
 * of azprep replicate, found by its name in the state directory or
 * the state container, replicate/engine/state.h):
 * pick a recovery point, copy it, hydrate the copies through the
 * bridge, check, write the VM definition and the report.  Shared by
 * test-migrate, cleanup-test, migrate and complete.
 */
#ifndef AZPREP_MIGRATE_H
#define AZPREP_MIGRATE_H

#include <stdbool.h>

#include "prep/cmd/args.h"
#include "prep/common/common.h"
#include "prep/fixup.h"
#include "replicate/azure/auth.h"
#include "replicate/azure/blob.h"
#include "replicate/engine/journal.h"
#include "replicate/engine/state.h"
#include "replicate/migrate/vmdef.h"

enum {
  OPT_MIG_STATE = 0x380, OPT_MIG_CREDENTIALS, OPT_MIG_CACERT,
  OPT_MIG_ALLOW_HTTP, OPT_MIG_API_VERSION,
};

#define MIGRATE_LONG_OPTIONS                                            \
  { "state", required_argument, NULL, OPT_MIG_STATE },                  \
  { "credentials", required_argument, NULL, OPT_MIG_CREDENTIALS },      \
  { "cacert", required_argument, NULL, OPT_MIG_CACERT },                \
  { "allow-http", no_argument, NULL, OPT_MIG_ALLOW_HTTP },              \
  { "api-version", required_argument, NULL, OPT_MIG_API_VERSION },     \
  STATE_LONG_OPTIONS

#define MIGRATE_USAGE                                                   \
  "Replication job:\n"                                                  \
  "  --state DIR          the state directory of azprep replicate\n"   \
  "                       (default $XDG_STATE_HOME/azprep or\n"        \
  "                       ~/.local/state/azprep)\n"                    \
  STATE_CONTAINER_USAGE ("                       ")                     \
  "  --credentials FILE   storage credentials (else AZURE_STORAGE_*)\n" \
  "  --cacert FILE        CA certificates for HTTPS\n"                 \
  "  --allow-http         plain HTTP to a host that is not loopback\n" \
  "  --api-version V      storage REST version (as for replicate)\n"

/* The options test-migrate and migrate share, after their own. */
#define MIGRATE_RUN_USAGE                                               \
  "  --output-dir DIR     where the report and template go (default .)\n" \
  "  --only NAME,...      run only these fixups\n"                     \
  "  --skip NAME,...      do not run these fixups\n"                   \
  MIGRATE_USAGE                                                         \
  VMDEF_USAGE                                                           \
  "  --json               print the report as JSON\n"                  \
  "  -v, -x, --help       debug, trace libguestfs, this text\n"

/* The commands that lock the job (migrate, complete) also take
 * --wait-lock: their usage has it. */
#define MIGRATE_WAIT_USAGE STATE_WAIT_USAGE ("                       ")

struct migrate {
  const char *name;             /* the job = the VM */
  char *state_dir;
  const char *creds_file, *cacert;
  bool allow_http;
  struct state_args sa;         /* --state-container, --wait-lock */
  struct state *state;          /* where the job's journal is */
  struct journal j;
  struct blob_client *client;   /* fenced by the job's lease, if held */
};

/* Handle one of MIGRATE_LONG_OPTIONS (the state options with
 * state_args_option): 1 if it was one, 0 if not, -1 on a bad
 * --api-version (not reported), or a usage error's exit code
 * (reported). */
int migrate_option (struct migrate *m, const char *cmd, int c,
                    const char *arg);

/* The command line of test-migrate and migrate (cmd "test-migrate" or
 * "migrate": --point is test-migrate's, --source-shutdown and
 * --no-final-sync are migrate's). */
struct migrate_args {
  const char *cmd;
  struct common_opts o;
  struct vmdef_opts vo;
  struct fixup_selection sel;
  const char *name, *dir, *point;
  bool shutdown, no_sync;
};
/* Parse the command line of a command on one job NAME into *o, m's
 * options and *name (longopts has COMMON_ and MIGRATE_LONG_OPTIONS);
 * own, if not NULL, handles the command's other options.  Returns -1
 * when parsed (go on), else the exit code (a usage error). */
int migrate_parse_job (const char *cmd, const char *usage, int argc,
                       char **argv, const struct option *longopts,
                       struct common_opts *o, struct migrate *m,
                       const char **name, args_handler own, void *data);

/* Parse into a and m's options.  Returns -1 when parsed (go on), else
 * the exit code (a usage error). */
int migrate_parse_args (const char *cmd, const char *usage, int argc,
                        char **argv, struct migrate_args *a,
                        struct migrate *m);
void migrate_args_free (struct migrate_args *a);
/* The end of a command on a job: close m (releasing the job's lock),
 * free a and j (either may be NULL); returns ret, or EXIT_LEASE_LOST if
 * the job's lease was lost meanwhile. */
int migrate_end (struct migrate *m, struct migrate_args *a, cJSON *j,
                 int ret);

/* Open the job's state (read-only: no directory, cache or container is
 * created), load its journal (it must exist: from the container with
 * --state-container, never from a local cache), the credentials, the
 * blob client.  lock: NULL, or what the caller does ("complete"): take
 * the job's lock (state_lock) for the rest of the run and load the
 * journal again under it; with a container the blob client is then
 * fenced by its lease.  Returns an exit code: EXIT_OK, EXIT_ERROR or
 * EXIT_BUSY (another worker holds the job; reported, naming it). */
int migrate_open (struct migrate *m, const char *name, const char *lock);
/* Load the job's journal (again: after migrate's final cycle) from its
 * state; it must exist, with disks that have recovery points to copy.
 * 0 or -1 (reported, naming the job and where its state is). */
int migrate_reload (struct migrate *m);
void migrate_close (struct migrate *m);

/* The recovery point of each disk: "latest" (or NULL), or a snapshot
 * of the first disk (the other disks' points of the same cycle, counted
 * from the newest).  points[i] point into the journal.  0 or -1. */
int migrate_pick_points (struct migrate *m, const char *point,
                         const char **points);

/* Copy each disk's point to <disk>-SUFFIX.vhd, hydrate, check, write
 * the VM definition vm_name and the report into outdir, print or add to
 * json.  Returns an exit code. */
struct migrate_run {
  const char *suffix;           /* "test" or "migrated" */
  const char *vm_name;
  const char *outdir;
  const struct vmdef_opts *vo;
  const struct fixup_selection *sel;
  bool json, trace;
};
int migrate_hydrate (struct migrate *m, const char **points,
                     const struct migrate_run *r);

/* Pick the recovery points of f->point (migrate_pick_points), say
 * "WHAT of NAME from POINT_DESC <point>" unless --json, then hydrate
 * the copies f->suffix as the VM definition f->vm_name with a's
 * options.  Returns an exit code. */
struct migrate_from {
  const char *point;            /* for migrate_pick_points */
  const char *suffix, *vm_name;
  const char *what, *point_desc;
};
int migrate_from_point (struct migrate *m, const struct migrate_args *a,
                        const struct migrate_from *f);

/* The copy URL of disk i for a suffix (malloc'd). */
char *migrate_copy_url (struct migrate *m, size_t i, const char *suffix);

/* The command line of migrate's final cycle: azprep (self) replicate
 * --cycles 1 on the job, with m's options (--state-container too) and
 * --json, every disk of the journal; container is the blob container
 * of the replica.  A
 * malloc'd NULL-terminated array of pointers into the arguments (free
 * the array only), or NULL (reported). */
const char **migrate_final_argv (const struct migrate *m, const char *self,
                                 const char *container, bool json);

/* Write j to path atomically (pretty), or print it. */
int migrate_write_json (const char *path, const cJSON *j);
void migrate_print_json (const cJSON *j);

#endif
