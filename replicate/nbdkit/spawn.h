/* nbdkit as a child of azprep, serving on a unix socket in a private
 * directory: the one spawn-and-wait for both exports, the blob export
 * (replicate/migrate/blob-export.c: the azblob plugin) and the
 * datastore export (replicate/vsphere/datastore-export.c: nbdkit's
 * curl plugin).  nbdkit runs in the foreground with
 * --exit-with-parent: if azprep dies, so does it.
 */
#ifndef AZPREP_NBDKIT_SPAWN_H
#define AZPREP_NBDKIT_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct nbdkit_child {
  pid_t pid;          /* > 0 while it runs */
  char *dir;          /* $TMPDIR/PREFIX-XXXXXX, private */
  char *sock;         /* DIR/sock */
  char *pidfile;      /* DIR/pid: nbdkit writes it once it serves */
  char *log;          /* DIR/nbdkit.log, its stderr; NULL: azprep's */
  char **args;        /* strings made by nbdkit_child_arg */
  size_t nargs;
};

/* Make the private directory (PREFIX-XXXXXX in $TMPDIR or /tmp) and
 * the paths in it; with_log sends nbdkit's stderr to DIR/nbdkit.log.
 * 0, or -1 (reported; k is then ready for nbdkit_child_free). */
int nbdkit_child_init (struct nbdkit_child *k, const char *prefix,
                       bool with_log);

/* DIR/NAME, or NULL (reported). */
char *nbdkit_child_path (const struct nbdkit_child *k, const char *name);

/* An argument for nbdkit ("url=..."), kept until nbdkit_child_free.
 * NULL (reported) if out of memory. */
const char *nbdkit_child_arg (struct nbdkit_child *k, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));

enum nbdkit_start {
  NBDKIT_SERVING,     /* the pid file exists: it accepts connections */
  NBDKIT_FAILED,      /* could not start (reported) */
  NBDKIT_EXITED,      /* it ended first: *status is its wait status */
  NBDKIT_TIMEOUT,     /* still not serving after timeout seconds */
};

/* Run "nbdkit -f --exit-with-parent -U SOCK -P PIDFILE ARGS..." (args
 * NULL-terminated: options, the plugin, its parameters) and wait for
 * its pid file.  If exec fails the child exits 127.  The caller words
 * NBDKIT_EXITED and NBDKIT_TIMEOUT for its user. */
enum nbdkit_start nbdkit_child_start (struct nbdkit_child *k,
                                      const char *const *args,
                                      int timeout, int *status);
/* The same in two halves, to do other work while nbdkit starts: spawn
 * forks it (0, or -1 reported); wait waits for its pid file
 * (NBDKIT_FAILED if it was not spawned). */
int nbdkit_child_spawn (struct nbdkit_child *k, const char *const *args);
enum nbdkit_start nbdkit_child_wait (struct nbdkit_child *k, int timeout,
                                     int *status);

/* The first line of nbdkit's log ("" if none), or NULL. */
char *nbdkit_child_log_line (const struct nbdkit_child *k);

/* SIGQUIT (nbdkit quits on it as on SIGTERM, which children of a
 * replication block), then wait.  Its wait status; 0 if it was not
 * running. */
int nbdkit_child_stop (struct nbdkit_child *k);

/* Stop it, remove every file in DIR and DIR, free the paths. */
void nbdkit_child_free (struct nbdkit_child *k);

#endif /* AZPREP_NBDKIT_SPAWN_H */
