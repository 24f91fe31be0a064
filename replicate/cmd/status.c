/* azprep status: the state of replication jobs, from their journals. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "prep/azprep.h"
#include "replicate/engine/replicate.h"
#include "replicate/engine/state.h"

static const char usage[] =
  "Usage: azprep status [--state DIR | --state-container NAME] [--json]\n"
  "         [--all | NAME...]\n"
  "Show the replication jobs in the state directory or container (or the\n"
  "named ones): per disk its state (initial, delta, idle, failed),\n"
  "completed cycles, last recovery point and the lag since it, bytes\n"
  "sent, the last cycle's rate, the progress of an unfinished cycle; with\n"
  "a state container also the worker (HOST/PID) that holds or last held\n"
  "each job, and the sources that only the job's last host can read.\n"
  "Reads only; any host can run it.\n"
  "\n"
  "Options:\n"
  "  --state DIR    journal directory (default ~/.local/state/azprep)\n"
  STATE_CONTAINER_USAGE ("                 ")
  "  --all          every job (the default when no NAME is given)\n"
  "  --credentials FILE, --cacert FILE, --allow-http: as for replicate\n"
  "  --json         print JSON\n"
  "  --help         this text\n"
  "\n"
  "Exit: 0 all jobs fine, 1 error, 2 usage, 3 some disk failed.\n";

enum {
  OPT_STATE = OPT_FIRST_COMMAND_SPECIFIC, OPT_ALL,
  OPT_CREDENTIALS, OPT_CACERT, OPT_ALLOW_HTTP,
};

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
  if (ns && d->last_end)
    cJSON_AddNumberToObject (o, "lag", (double) (time (NULL) - d->last_end));
  else
    cJSON_AddNullToObject (o, "lag");
  cJSON_AddBoolToObject (o, "host_only", source_host_only (d->source));
  if (d->error)
    cJSON_AddStringToObject (o, "error", d->error);
  else
    cJSON_AddNullToObject (o, "error");
  return o;
}

/* The worker and host lines of a job whose state is in a container. */
static void
show_worker (cJSON *job, const struct journal *j, const char *worker,
             bool held, bool json)
{
  if (worker)
    cJSON_AddStringToObject (job, "worker", worker);
  else
    cJSON_AddNullToObject (job, "worker");
  cJSON_AddBoolToObject (job, "held", held);
  if (j->host)
    cJSON_AddStringToObject (job, "host", j->host);
  else
    cJSON_AddNullToObject (job, "host");
  if (json)
    return;
  if (worker)
    printf ("  worker %s (%s)\n", worker, held ? "holds the job now"
            : "last held it; the job is free");
  for (size_t i = 0; j->host && i < j->ndisks; i++)
    if (source_host_only (j->disks[i].source))
      printf ("  disk %zu: its source is on host %s only; another host "
              "reads the same path there, with digests, not the bitmap\n",
              i, j->host);
}

static int
show (struct state *st, const char *name, bool json, cJSON *arr,
      int *failed)
{
  struct journal j = { 0 };
  CLEANUP_FREE char *worker = NULL;
  bool exists, held = false;

  if (state_journal_load (st, name, &j, &exists) == -1) {
    journal_free (&j);
    return -1;
  }
  if (!exists) {
    azp_error ("%s: no replication job %s", state_where (st), name);
    journal_free (&j);
    return -1;
  }
  if (state_remote (st) &&
      state_holder (st, name, &worker, &held) == -1) {
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
  if (!json)
    printf ("%s\n", j.name);
  if (state_remote (st))
    show_worker (job, &j, worker, held, json);
  if (!json) {
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
      printf ("    last recovery point: %s (%zu kept)",
              ns ? d->snapshots[ns - 1] : "none", ns);
      if (ns && d->last_end)
        printf (", lag %lld s", (long long) (time (NULL) - d->last_end));
      printf ("\n");
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
    STATE_LONG_OPTIONS,
    { "all", no_argument, NULL, OPT_ALL },
    { "credentials", required_argument, NULL, OPT_CREDENTIALS },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "allow-http", no_argument, NULL, OPT_ALLOW_HTTP },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct state_opts so = { .readonly = true };
  struct state_args sa = { 0 };
  struct blob_opts bo = { 0 };
  CLEANUP_CREDS struct creds cr = { 0 };
  const char *credentials = NULL;
  struct state *st = NULL;
  CLEANUP_FREE_STRING_LIST char **names = NULL;
  cJSON *arr = cJSON_CreateArray ();
  bool all = false;
  int c, r, failed = 0, ret = EXIT_ERROR;

  while ((c = getopt_long (argc, argv, COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&o, c, usage))
      continue;
    r = state_args_option (&sa, "status", c, optarg);
    if (r > 0) {
      cJSON_Delete (arr);
      return r;
    }
    if (r == 0)
      continue;
    switch (c) {
    case OPT_STATE: so.dir = optarg; break;
    case OPT_ALL: all = true; break;
    case OPT_CREDENTIALS: credentials = optarg; break;
    case OPT_CACERT: bo.cacert = optarg; break;
    case OPT_ALLOW_HTTP: bo.allow_http = true; break;
    default:
      cJSON_Delete (arr);
      return usage_error ("status", "unknown option");
    }
  }
  if (all && optind < argc) {
    cJSON_Delete (arr);
    return usage_error ("status", "give --all or job names, not both");
  }
  r = state_args_check (&sa, "status", false);
  if (r != -1) {
    cJSON_Delete (arr);
    return r;
  }
  so.container = sa.container;
  if (!arr || (so.container && creds_load (&cr, credentials) == -1))
    goto out;
  st = state_open (&so, &cr, &bo);
  if (!st)
    goto out;
  if (optind < argc) {
    for (int i = optind; i < argc; i++)
      if (show (st, argv[i], o.json, arr, &failed) == -1)
        goto out;
  }
  else {
    names = state_list (st);
    if (!names)
      goto out;
    if (!names[0] && !o.json)
      printf ("no replication jobs in %s\n", state_where (st));
    for (size_t i = 0; names[i]; i++)
      if (show (st, names[i], o.json, arr, &failed) == -1)
        failed = 1;
  }
  if (o.json) {
    char *s = cJSON_Print (arr);
    if (s)
      puts (s);
    free (s);
  }
  ret = failed ? EXIT_NOTREADY : EXIT_OK;
 out:
  state_close (st);
  cJSON_Delete (arr);
  return ret;
}

static const struct command status_cmd = {
  "status", "show the state of replication jobs", status_run,
};
COMMAND (status_cmd);
