/* Options every command shares. */
#include <getopt.h>
#include <stdarg.h>

#include "prep/common/common.h"

static struct lowered lowered;

const struct lowered *
opt_lowered (void)
{
  return &lowered;
}

void
opt_lower (const struct lowered *l)
{
  lowered = *l;
}

int
common_option (struct common_opts *o, int c, const char *usage)
{
  switch (c) {
  case OPT_VSPHERE_INSECURE:
    lowered.vsphere_insecure = true;
    return 1;
  case OPT_VSPHERE_ALLOW_HTTP:
    lowered.vsphere_allow_http = true;
    return 1;
  case OPT_HELP:
    fputs (usage, stdout);
    exit (EXIT_OK);
  case OPT_VERSION:
    printf ("azprep %s\n", PACKAGE_VERSION);
    exit (EXIT_OK);
  case OPT_JSON:
    o->json = true;
    return 1;
  case 'v':
    o->verbose++;
    log_set_verbose (o->verbose);
    return 1;
  case 'x':
    o->trace = true;
    return 1;
  default:
    return 0;
  }
}

int
usage_error (const char *cmd, const char *fmt, ...)
{
  va_list ap;

  fputs ("azprep: ", stderr);
  if (cmd)
    fprintf (stderr, "%s: ", cmd);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fprintf (stderr, "\nTry 'azprep %s%s--help' for more information.\n",
           cmd ? cmd : "", cmd ? " " : "");
  return EXIT_USAGE;
}
