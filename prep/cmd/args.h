/* prep/cmd: one file per command (inspect, check, fix, boot-test), and
 * the command-line parsing they share with replicate's commands.
 *
 * args_parse runs getopt_long over the command line with the common
 * options and hands every other option, and each operand (c == 1: the
 * optstring starts with "-"), to the command's own handler.
 */
#ifndef AZPREP_ARGS_H
#define AZPREP_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"

/* What a command's handler returns: ARGS_OK (handled, go on),
 * ARGS_UNKNOWN (not one of its options), or an exit code. */
enum { ARGS_OK = -1, ARGS_UNKNOWN = -2 };
typedef int (*args_handler) (int c, char *arg, void *data);

/* Parse argv: the common options into *o, the rest through own.  An
 * option own does not know is the usage error "unknown option" of cmd.
 * Returns -1 when parsed (go on), else the exit code. */
int args_parse (const char *cmd, const char *usage, int argc, char **argv,
                const struct option *longopts, struct common_opts *o,
                args_handler own, void *data);

/* Disks and the --format that applies to the disks after it. */
#define DISK_LONG_OPTIONS                                       \
  { "format", required_argument, NULL, OPT_FORMAT }
struct disk_args {
  struct disk *disks;
  size_t ndisks;
  const char *format;
};
/* --format or a DISK operand: ARGS_OK, ARGS_UNKNOWN or EXIT_ERROR. */
int disk_args_option (struct disk_args *d, int c, const char *arg);
/* The disks after "--" (from optind): -1 or EXIT_ERROR. */
int disk_args_rest (struct disk_args *d, int argc, char **argv);

/* --only and --skip into a fixup selection. */
enum { OPT_FIXUP_ONLY = 0x3a0, OPT_FIXUP_SKIP };
#define FIXUP_SELECTION_LONG_OPTIONS                            \
  { "only", required_argument, NULL, OPT_FIXUP_ONLY },          \
  { "skip", required_argument, NULL, OPT_FIXUP_SKIP }
/* ARGS_OK, ARGS_UNKNOWN or EXIT_USAGE. */
int fixup_selection_option (struct fixup_selection *s, int c,
                            const char *arg);

/* A command whose only own option is opt, stored in *arg (an option
 * with an argument) or as true in *flag: args_one is its handler. */
struct args_one {
  int opt;
  const char **arg;
  bool *flag;
};
int args_one (int c, char *arg, void *data);

/* --generation 1|2 of cmd: -1 (*g set) or EXIT_USAGE. */
int args_generation (const char *cmd, const char *arg, int64_t *g);

#endif
