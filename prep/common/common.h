/* prep/common: the helpers every folder may use: logging, cleanups,
 * strings, host commands, the options and exit codes every command
 * shares.  Nothing in prep/common names anything outside it.
 */
#ifndef AZPREP_COMMON_H
#define AZPREP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* Exit codes: the same for every command (documented in azprep(1)). */
enum {
  EXIT_OK = 0,        /* success; check: ready */
  EXIT_ERROR = 1,     /* runtime error; check: could not check */
  EXIT_USAGE = 2,     /* bad command line */
  EXIT_NOTREADY = 3,  /* refused, or check: not ready (blockers) */
  EXIT_WARNINGS = 4,  /* check only: ready with warnings */
  EXIT_LEASE_LOST = 5,  /* replicate: the job's lease in the state
                         * container was lost; nothing more written */
  EXIT_BUSY = 6,      /* replicate: another worker holds the job */
};

/* Logging (prep/common/log.c).  azp_error() and azp_warning() always
 * print, prefixed with "azprep: "; azp_debug() only with -v.  Messages
 * go to stderr so that stdout carries only the command's output (text
 * or JSON).  The azp_ prefix keeps clear of glibc's error(3).
 */
void log_set_verbose (int level);
int log_verbose (void);
void azp_error (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
void azp_warning (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
void azp_info (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
void azp_debug (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* The text of this thread's last azp_error() (without the prefix), ""
 * if none: for check, which turns errors into findings.  Kept per
 * thread: the blob writer's threads report errors concurrently. */
const char *log_last_error (void);

/* Options every command accepts (prep/common/options.c). */
struct common_opts {
  bool json;
  bool trace;        /* -x: trace libguestfs calls */
  int verbose;       /* -v, repeatable */
};

enum {
  OPT_HELP = 0x100, OPT_JSON, OPT_VERSION, OPT_FORMAT,
  OPT_VSPHERE_INSECURE, OPT_VSPHERE_ALLOW_HTTP,
  OPT_FIRST_COMMAND_SPECIFIC = 0x200,
};

#define COMMON_LONG_OPTIONS                                       \
  { "help",    no_argument,       NULL, OPT_HELP },               \
  { "json",    no_argument,       NULL, OPT_JSON },               \
  { "verbose", no_argument,       NULL, 'v' },                    \
  { "trace",   no_argument,       NULL, 'x' },                    \
  { "version", no_argument,       NULL, OPT_VERSION },            \
  { "vsphere-insecure", no_argument, NULL, OPT_VSPHERE_INSECURE }, \
  { "vsphere-allow-http", no_argument, NULL, OPT_VSPHERE_ALLOW_HTTP }
#define COMMON_SHORT_OPTIONS "vx"

/* Handle one of the common options.  Returns 1 if c was one of them,
 * 0 if not.  --help prints usage to stdout and exits EXIT_OK; --version
 * prints the version and exits EXIT_OK.
 */
int common_option (struct common_opts *o, int c, const char *usage);

/* Security lowered for this run, by command-line flags only
 * (--vsphere-insecure: vCenter's TLS certificate not verified;
 * --vsphere-allow-http: plain HTTP to vCenter where a vsphere:// URI
 * says http=1).  A URI, fleet file or journal never lowers it. */
struct lowered {
  bool vsphere_insecure, vsphere_allow_http;
};
const struct lowered *opt_lowered (void);
void opt_lower (const struct lowered *l);
/* Print "try --help" for a usage error and return EXIT_USAGE. */
int usage_error (const char *cmd, const char *fmt, ...)
  __attribute__((format (printf, 2, 3)));

/* Cleanups, as libguestfs's common/utils/cleanups.h. */
void cleanup_free (void *ptr);
void cleanup_free_string_list (void *ptr);
void cleanup_fclose (void *ptr);
void cleanup_close (void *ptr);
#define CLEANUP_FREE __attribute__((cleanup (cleanup_free)))
#define CLEANUP_FREE_STRING_LIST \
  __attribute__((cleanup (cleanup_free_string_list)))
#define CLEANUP_FCLOSE __attribute__((cleanup (cleanup_fclose)))
#define CLEANUP_CLOSE __attribute__((cleanup (cleanup_close)))

/* Secrets (prep/common/secrets.c).  main takes the secret variables
 * (AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY,
 * AZURE_STORAGE_SAS_TOKEN, VSPHERE_PASSWORD, AZURE_CLIENT_SECRET) out
 * of the environment first thing: no child (qemu, qemu-img, qemu-nbd,
 * nbdkit) inherits them, and /proc/PID/environ no longer shows them.
 * Read them with secret_env (getenv in a process that did not take
 * them). */
void secrets_take_env (void);
const char *secret_env (const char *name);
/* No core dump, no same-user ptrace, while a secret is in memory. */
void secrets_no_core (void);
/* For a child that is azprep itself (it takes them again at once):
 * environ plus the secrets taken; free with secrets_child_env_free
 * (wipes), before environ changes. */
char **secrets_child_env (void);
void secrets_child_env_free (char **env);

/* Small string helpers (prep/common/util.c).  All return NULL/-1 after
 * reporting with azp_error() on allocation failure.
 */
char *xasprintf (const char *fmt, ...) __attribute__((format (printf, 1, 2)));
/* s as one word for a POSIX shell: as is if it has only safe
 * characters, else in single quotes ('\'' for a quote). */
char *shell_quote (const char *s);
/* Print text from a guest to a terminal: control characters (escape
 * sequences) shown as \xNN (C1 as \uNNNN); newlines and tabs kept if
 * multiline. */
void fputs_clean (const char *s, FILE *fp, bool multiline);
char *xstrdup (const char *s);
/* CLOCK_MONOTONIC in nanoseconds (for durations). */
uint64_t monotonic_ns (void);
void free_string_list (char **list);
size_t count_strings (char *const *list);
/* Run a host command (argv, no shell); capture stdout into *out
 * (NUL-terminated, may be NULL).  Returns exit status, or -1.
 */
int run_command (char **out, const char *const *argv);
/* The same, also capturing stderr into *err (at most 64 KiB). */
int run_command_full (char **out, char **err, const char *const *argv);
/* First line of s, trimmed, in a static-free copy (for messages). */
char *first_line (const char *s);
/* Seconds on the monotonic clock (for durations). */
double monotonic_seconds (void);
/* Files (prep/common/file.c).  Write all of buf to path atomically:
 * write a new temporary file beside it (mode 0600), fsync, rename,
 * fsync the directory.  The file ends with mode 0600. */
int write_file_atomic (const char *path, const void *buf, size_t len);
/* A new file PATHTAG.XXXXXX (random suffix, O_EXCL, O_NOFOLLOW,
 * O_CLOEXEC, mode 0600): its fd, its name in *tmp (free it); -1 on
 * error (reported). */
int create_temp_beside (const char *path, const char *tag, char **tmp);
/* A new directory PATHTAG.XXXXXX (random suffix, mode 0700), for a
 * tool that creates its output by name: nobody else can plant a file
 * or a symlink in it.  Its name, or NULL (reported). */
char *create_tempdir_beside (const char *path, const char *tag);
/* fsync the directory holding path, so that a rename or a new file in
 * it survives a crash: 0, or -1 (errno set; not reported, as callers
 * treat it as best effort). */
int fsync_dir_of (const char *path);
/* Create path and its missing parents, as mkdir -p -m mode: the last
 * component gets mode exactly, the parents 0777 less the umask; what
 * exists as a directory (or a link to one) is kept.  0, or -1 (reported,
 * naming the component). */
int make_dirs (const char *path, mode_t mode);
/* Parse a decimal integer strictly; 0 ok, -1 bad. */
int parse_int64 (const char *s, int64_t *r);

/* The records a linker section holds (FIXUP, RULE, OS_OPS: pointers
 * from start to stop, both NULL when nothing registered), copied and
 * sorted with cmp.  Sets *n; NULL (n = 0) when out of memory. */
void *records_sorted (const void *start, const void *stop,
                      int (*cmp) (const void *, const void *), size_t *n);

#endif /* AZPREP_COMMON_H */
