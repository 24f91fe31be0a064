/* azprep status: the state of replication jobs, from their journals. */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "prep/azprep.h"
#include "replicate/engine/replicate.h"

static const char usage[] =
  "Usage: azprep status [--state DIR] [--json] [NAME...]\n"
  "Show the replication jobs in the state directory (or the named ones):\n"
  "per disk its state (initial, delta, idle, failed), completed cycles,\n"
  "last recovery point, bytes sent, the last cycle's rate, and the\n"
  "progress of an unfinished cycle.  Reads only the local journals.\n"
  "\n"
  "Options:\n"
  "  --state DIR    journal directory (default ~/.local/state/azprep)\n"
  "  --json         print JSON\n"
  "  --help         this text\n"
  "\n"
  "Exit: 0 all jobs fine, 1 error, 2 usage, 3 some disk failed.\n";

enum { OPT_STATE = OPT_FIRST_COMMAND_SPECIFIC };

static cJSON *
disk_json (const struct jdisk *d, size_t i)
{
  cJSON *o = cJSON_CreateObject ();
  size_t ns = count_strings (d->snapshots);
  struct rangelist done = d->done;
  uint64_t donebytes = rangelist_bytes (&done);

  cJSON_AddNumberToObject (o, "disk", i);
  cJSON_AddStringToObject (o, "source", d->source);
  cJSON_AddStringToObject (o, "blob", d->blob);
  cJSON_AddStringToObject (o, "state", d->state);
  cJSON_AddNumberToObject (o, "cycles", d->cycles);
  cJSON_AddNumberToObject (o, "size", d->size);
  if (ns)
    cJSON_AddStringToObject (o, "last_recovery_point", d->snapshots[ns - 1]);
  else
    cJSON_AddNullToObject (o, "last_recovery_point");
  cJSON_AddNumberToObject (o, "recovery_points", ns);
  cJSON_AddNumberToObject (o, "bytes_sent", d->bytes_sent);
  cJSON_AddNumberToObject (o, "cycle_bytes", d->cycle_bytes);
  cJSON_AddNumberToObject (o, "rate", d->cycle_seconds > 0 && !d->open
                           ? d->cycle_bytes / d->cycle_seconds : 0);
  cJSON_AddNumberToObject (o, "cycle_progress", d->open && d->size
                           ? (double) donebytes / d->size : d->open ? 0 : 1);
  cJSON_AddNumberToObject (o, "last_end", d->last_end);
  if (d->error)
    cJSON_AddStringToObject (o, "error", d->error);
  else
    cJSON_AddNullToObject (o, "error");
  return o;
}

static int
show (const char *dir, const char *name, bool json, cJSON *arr, int *failed)
{
  CLEANUP_FREE char *path = replicate_journal_path (dir, name);
  struct journal j = { 0 };
  bool exists;

  if (!path || journal_load (&j, path, &exists) == -1) {
    journal_free (&j);
    return -1;
  }
  if (!exists) {
    azp_error ("%s: no replication job %s (journal %s not found)", dir, name,
               path);
    journal_free (&j);
    return -1;
  }
  cJSON *job = cJSON_CreateObject ();
  cJSON *disks = cJSON_AddArrayToObject (job, "disks");
  cJSON_AddStringToObject (job, "name", j.name);
  if (j.next_cycle)
    cJSON_AddNumberToObject (job, "next_cycle", j.next_cycle);
  else
    cJSON_AddNullToObject (job, "next_cycle");
  for (size_t i = 0; i < j.ndisks; i++) {
    cJSON_AddItemToArray (disks, disk_json (&j.disks[i], i));
    if (!strcmp (j.disks[i].state, "failed"))
      *failed = 1;
  }
  if (!json) {
    printf ("%s\n", j.name);
    if (j.next_cycle) {
      time_t t = j.next_cycle;
      struct tm tm;
      char when[32];
      gmtime_r (&t, &tm);
      strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      printf ("  waiting: next cycle at %s\n", when);
    }
    for (size_t i = 0; i < j.ndisks; i++) {
      const struct jdisk *d = &j.disks[i];
      size_t ns = count_strings (d->snapshots);
      char s1[32], s2[32], s3[32];
      printf ("  disk %zu  %s -> %s\n", i, d->source, d->blob);
      printf ("    state %s, %" PRId64 " cycle(s), %s sent in all",
              d->state, d->cycles, human_size (d->bytes_sent, s1));
      if (d->cycle_seconds > 0 && !d->open)
        printf (", last cycle %s at %s/s", human_size (d->cycle_bytes, s2),
                human_size ((uint64_t) (d->cycle_bytes / d->cycle_seconds),
                            s3));
      printf ("\n");
      if (d->open)
        printf ("    cycle %" PRId64 " in progress: %.0f%% scanned, %s sent\n",
                d->cycles + 1,
                d->size ? 100.0 * rangelist_bytes (&d->done) / d->size : 0.0,
                human_size (d->cycle_bytes, s2));
      printf ("    last recovery point: %s (%zu kept)\n",
              ns ? d->snapshots[ns - 1] : "none", ns);
      if (d->error)
        printf ("    error: %s\n", d->error);
    }
  }
  cJSON_AddItemToArray (arr, job);
  journal_free (&j);
  return 0;
}

static int
status_run (int argc, char **argv)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "state", required_argument, NULL, OPT_STATE },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  CLEANUP_FREE char *dir = NULL;
  const char *state = NULL;
  cJSON *arr = cJSON_CreateArray ();
  int c, failed = 0, ret = EXIT_ERROR;

  while ((c = getopt_long (argc, argv, COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&o, c, usage))
      continue;
    if (c == OPT_STATE)
      state = optarg;
    else {
      cJSON_Delete (arr);
      return usage_error ("status", "unknown option");
    }
  }
  dir = state ? xstrdup (state) : replicate_default_state_dir ();
  if (!dir || !arr)
    goto out;
  if (optind < argc) {
    for (int i = optind; i < argc; i++)
      if (show (dir, argv[i], o.json, arr, &failed) == -1)
        goto out;
  }
  else {
    struct dirent **ents = NULL;
    int n = scandir (dir, &ents, NULL, alphasort);
    if (n < 0) {
      if (o.json)
        puts ("[]");
      else
        printf ("no replication jobs (%s does not exist)\n", dir);
      cJSON_Delete (arr);
      return EXIT_OK;
    }
    for (int i = 0; i < n; i++) {
      size_t l = strlen (ents[i]->d_name);
      if (l > 5 && !strcmp (ents[i]->d_name + l - 5, ".json") &&
          ents[i]->d_name[0] != '.') {
        ents[i]->d_name[l - 5] = '\0';
        if (show (dir, ents[i]->d_name, o.json, arr, &failed) == -1)
          failed = 1;
      }
      free (ents[i]);
    }
    free (ents);
  }
  if (o.json) {
    char *s = cJSON_Print (arr);
    if (s)
      puts (s);
    free (s);
  }
  ret = failed ? EXIT_NOTREADY : EXIT_OK;
 out:
  cJSON_Delete (arr);
  return ret;
}

static const struct command status_cmd = {
  "status", "show the state of replication jobs", status_run,
};
COMMAND (status_cmd);
