/* azprep: the command dispatcher.  Commands register themselves with
 * COMMAND() (azprep.h); this file only finds and runs them.
 */
#include <locale.h>
#include <string.h>

#include "prep/azprep.h"

extern const struct command *const __start_azprep_commands[];
extern const struct command *const __stop_azprep_commands[];

static int
compare_commands (const void *a, const void *b)
{
  const struct command *const *x = a, *const *y = b;
  return strcmp ((*x)->name, (*y)->name);
}

static void
usage (FILE *fp)
{
  size_t n = __stop_azprep_commands - __start_azprep_commands;
  const struct command *cmds[n ? n : 1];

  memcpy (cmds, __start_azprep_commands, n * sizeof cmds[0]);
  qsort (cmds, n, sizeof cmds[0], compare_commands);
  fprintf (fp,
           "azprep: get VMware virtual machines onto Azure and make sure "
           "they boot\n\n"
           "Usage: azprep COMMAND [OPTIONS] [DISK...]\n"
           "       azprep COMMAND --help\n"
           "       azprep --version\n\n"
           "Commands:\n");
  for (size_t i = 0; i < n; i++)
    fprintf (fp, "  %-15s %s\n", cmds[i]->name, cmds[i]->summary);
  fprintf (fp,
           "\nOptions every command takes: -v (debug), -x (trace "
           "libguestfs calls), --json, --help.\n"
           "Exit codes: 0 success/ready, 1 error, 2 usage error, "
           "3 not ready/refused, 4 ready with warnings (check).\n"
           "See azprep(1) for the whole manual.\n");
}

int
main (int argc, char *argv[])
{
  /* Before anything can start a child. */
  secrets_take_env ();
  setlocale (LC_ALL, "");

  if (argc < 2) {
    usage (stderr);
    return EXIT_USAGE;
  }
  if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h") ||
      !strcmp (argv[1], "help")) {
    usage (stdout);
    return EXIT_OK;
  }
  if (!strcmp (argv[1], "--version") || !strcmp (argv[1], "-V")) {
    printf ("azprep %s\n", PACKAGE_VERSION);
    return EXIT_OK;
  }
  for (const struct command *const *c = __start_azprep_commands;
       c < __stop_azprep_commands; c++) {
    if (!strcmp ((*c)->name, argv[1]))
      return (*c)->run (argc - 1, argv + 1);
  }
  fprintf (stderr, "azprep: unknown command '%s'\n"
           "Try 'azprep --help' for the list of commands.\n", argv[1]);
  return EXIT_USAGE;
}
