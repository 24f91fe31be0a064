/* The command-line parsing the commands share: see args.h. */
#include <string.h>

#include "prep/cmd/args.h"

int
args_parse (const char *cmd, const char *usage, int argc, char **argv,
            const struct option *longopts, struct common_opts *o,
            args_handler own, void *data)
{
  int c, r;

  /* "-" in optstring: operands and options interleave, in order. */
  while ((c = getopt_long (argc, argv, "-" COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (o, c, usage))
      continue;
    r = own (c, optarg, data);
    if (r == ARGS_UNKNOWN)
      return usage_error (cmd, "unknown option");
    if (r != ARGS_OK)
      return r;
  }
  return -1;
}

int
disk_args_option (struct disk_args *d, int c, const char *arg)
{
  switch (c) {
  case OPT_FORMAT:
    d->format = !strcmp (arg, "auto") ? NULL : arg;
    return ARGS_OK;
  case 1:
    if (disks_add (&d->disks, &d->ndisks, arg, d->format) == -1)
      return EXIT_ERROR;
    return ARGS_OK;
  default:
    return ARGS_UNKNOWN;
  }
}

int
disk_args_rest (struct disk_args *d, int argc, char **argv)
{
  for (int i = optind; i < argc; i++)
    if (disks_add (&d->disks, &d->ndisks, argv[i], d->format) == -1)
      return EXIT_ERROR;
  return -1;
}

int
fixup_selection_option (struct fixup_selection *s, int c, const char *arg)
{
  char ***list;

  switch (c) {
  case OPT_FIXUP_ONLY: list = &s->only; break;
  case OPT_FIXUP_SKIP: list = &s->skip; break;
  default: return ARGS_UNKNOWN;
  }
  return fixup_selection_parse (list, arg) == -1 ? EXIT_USAGE : ARGS_OK;
}

int
args_one (int c, char *arg, void *data)
{
  const struct args_one *one = data;

  if (c != one->opt)
    return ARGS_UNKNOWN;
  if (one->arg)
    *one->arg = arg;
  else
    *one->flag = true;
  return ARGS_OK;
}

int
args_generation (const char *cmd, const char *arg, int64_t *g)
{
  if (parse_int64 (arg, g) == -1 || (*g != 1 && *g != 2))
    return usage_error (cmd, "--generation must be 1 or 2");
  return -1;
}
