/* azprep: get VMware virtual machines onto Azure and make sure they boot.
 * prep/ holds the azprep command (main.c), the command table below, and
 * the records every folder uses: fixups (prep/fixup.h) and findings
 * and changes (prep/report.h).  Its subfolders: common/ (helpers),
 * guest/ (the guest handle, disks, storage, commit), inspect/,
 * cmd/ (inspect, check, fix, boot-test), check/ (readiness rules,
 * VMware descriptors, report writers).  prep/ never names distros/,
 * windows/ or replicate/: they register records (FIXUP, COMMAND,
 * OS_OPS, DISK_HOOK).
 */
#ifndef AZPREP_H
#define AZPREP_H

#include "prep/common/common.h"

/* A subcommand.  Each lives in a file of its own and registers itself
 * with COMMAND(); main() finds them through the linker section.
 * run() gets argv[0] = the command name and returns an exit code.
 */
struct command {
  const char *name;
  const char *summary;            /* one line, for "azprep --help" */
  int (*run) (int argc, char **argv);
};

#define COMMAND(c) \
  static const struct command *const c##_command_ptr \
  __attribute__((section ("azprep_commands"), used)) = &(c)

#endif /* AZPREP_H */
