/* The shared part of test-migrate and migrate: see migrate.h. */
#include <getopt.h>
#include <inttypes.h>
#include <string.h>

#include "prep/cmd/args.h"
#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/vm.h"
#include "prep/guest/guest.h"
#include "replicate/migrate/hydrate.h"
#include "replicate/migrate/migrate.h"
#include "replicate/engine/replicate.h"

int
migrate_option (struct migrate *m, const char *cmd, int c, const char *arg)
{
  int r = state_args_option (&m->sa, cmd, c, arg);

  if (r >= 0)
    return r == 0 ? 1 : r;
  switch (c) {
  case OPT_MIG_STATE: m->state_dir = xstrdup (arg); return 1;
  case OPT_MIG_CREDENTIALS: m->creds_file = arg; return 1;
  case OPT_MIG_CACERT: m->cacert = arg; return 1;
  case OPT_MIG_ALLOW_HTTP: m->allow_http = true; return 1;
  case OPT_MIG_API_VERSION:
    return blob_set_api_version (arg) == -1 ? -1 : 1;
  default: return 0;
  }
}

/* A command on one job NAME (args_handler): the migrate options, the
 * NAME, then the command's own options. */
struct job_parse {
  const char *cmd;
  struct migrate *m;
  const char **name;
  args_handler own;
  void *data;
};

static int
job_option (int c, char *arg, void *data)
{
  struct job_parse *p = data;
  int r = migrate_option (p->m, p->cmd, c, arg);

  if (r == -1)
    return usage_error (p->cmd, "bad --api-version");
  if (r > 1)
    return r;
  if (r)
    return ARGS_OK;
  if (c == 1) {
    if (*p->name)
      return usage_error (p->cmd, "one job NAME only");
    *p->name = arg;
    return ARGS_OK;
  }
  return p->own ? p->own (c, arg, p->data) : ARGS_UNKNOWN;
}

int
migrate_parse_job (const char *cmd, const char *usage, int argc,
                   char **argv, const struct option *longopts,
                   struct common_opts *o, struct migrate *m,
                   const char **name, args_handler own, void *data)
{
  struct job_parse p = { cmd, m, name, own, data };
  int r = args_parse (cmd, usage, argc, argv, longopts, o, job_option, &p);

  if (r != -1)
    return r;
  if (!*name)
    return usage_error (cmd, "no job NAME given");
  /* Only migrate and complete lock the job (see migrate_open's
   * callers). */
  return state_args_check (&m->sa, cmd, !strcmp (cmd, "migrate") ||
                           !strcmp (cmd, "complete"));
}

enum { OPT_POINT = OPT_FIRST_COMMAND_SPECIFIC, OPT_DIR, OPT_SHUTDOWN,
       OPT_NO_SYNC };

/* test-migrate's and migrate's own options (args_handler). */
static int
migrate_args_option (int c, char *arg, void *data)
{
  struct migrate_args *a = data;
  bool test = !strcmp (a->cmd, "test-migrate");
  int r = vmdef_option (&a->vo, c, arg);

  if (r == -1)
    return EXIT_USAGE;
  if (r == 1)
    return ARGS_OK;
  if ((c == OPT_POINT && !test) ||
      ((c == OPT_SHUTDOWN || c == OPT_NO_SYNC) && test))
    return ARGS_UNKNOWN;
  switch (c) {
  case OPT_POINT: a->point = arg; break;
  case OPT_SHUTDOWN: a->shutdown = true; break;
  case OPT_NO_SYNC: a->no_sync = true; break;
  case OPT_DIR: a->dir = arg; break;
  default: return fixup_selection_option (&a->sel, c, arg);
  }
  return ARGS_OK;
}

int
migrate_parse_args (const char *cmd, const char *usage, int argc,
                    char **argv, struct migrate_args *a, struct migrate *m)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    MIGRATE_LONG_OPTIONS,
    VMDEF_LONG_OPTIONS,
    FIXUP_SELECTION_LONG_OPTIONS,
    { "output-dir", required_argument, NULL, OPT_DIR },
    { "point", required_argument, NULL, OPT_POINT },
    { "source-shutdown", no_argument, NULL, OPT_SHUTDOWN },
    { "no-final-sync", no_argument, NULL, OPT_NO_SYNC },
    { NULL, 0, NULL, 0 }
  };
  int r;

  a->cmd = cmd;
  a->dir = ".";
  r = migrate_parse_job (cmd, usage, argc, argv, longopts, &a->o, m,
                         &a->name, migrate_args_option, a);
  if (r != -1)
    return r;
  if (vmdef_require (&a->vo, cmd) != 0)
    return EXIT_USAGE;
  return -1;
}

void
migrate_args_free (struct migrate_args *a)
{
  free_string_list (a->sel.only);
  free_string_list (a->sel.skip);
}

int
migrate_end (struct migrate *m, struct migrate_args *a, cJSON *j, int ret)
{
  if (m->state && *state_fence (m->state))
    ret = EXIT_LEASE_LOST;      /* lose() said so */
  migrate_close (m);
  if (a)
    migrate_args_free (a);
  cJSON_Delete (j);
  return ret;
}

/* The job is not in its state (blob_error_code() tells a missing
 * container apart): say so. */
static void
report_absent (const struct migrate *m)
{
  const char *where = state_where (m->state), *c = m->sa.container;

  if (c && !strcmp (blob_error_code (), "ContainerNotFound"))
    azp_error ("no replication job '%s': the state container %s does not "
               "exist (is --state-container %s the one of azprep replicate, "
               "in this storage account?)", m->name, where, c);
  else if (c)
    azp_error ("no replication job '%s' in the state container %s (no "
               "jobs/%s/journal.json there; run azprep replicate --name %s "
               "--state-container %s first)", m->name, where, m->name,
               m->name, c);
  else
    azp_error ("%s: no replication job '%s' in %s (run azprep replicate "
               "--name %s first, give --state DIR, or --state-container "
               "NAME if its state is in a container)", m->j.path, m->name,
               where, m->name);
}

int
migrate_reload (struct migrate *m)
{
  bool exists;

  journal_free (&m->j);
  if (state_journal_load (m->state, m->name, &m->j, &exists) == -1)
    return -1;
  /* A missing container reads as a missing journal (404). */
  if (!exists) {
    report_absent (m);
    return -1;
  }
  if (m->j.ndisks == 0) {
    azp_error ("%s: the job has no disks", m->j.path);
    return -1;
  }
  for (size_t i = 0; i < m->j.ndisks; i++)
    if (m->j.disks[i].managed) {
      azp_error ("%s: disk %zu replicates to a managed disk's upload URL: "
                 "there is no recovery point to copy.  End the upload first "
                 "('az disk revoke-access'; a disk in upload state cannot be "
                 "snapshotted or attached, and after it no more deltas), "
                 "then snapshot the disk or attach it in Azure", m->j.path,
                 i);
      return -1;
    }
  return 0;
}

int
migrate_open (struct migrate *m, const char *name, const char *lock)
{
  CLEANUP_CREDS struct creds cr = { 0 };
  struct blob_opts bo = { .cacert = m->cacert, .allow_http = m->allow_http };
  struct state_opts so = { .container = m->sa.container,
                           .wait_lock = m->sa.wait_lock, .readonly = true };
  int r;

  m->name = name;
  if (!m->state_dir && !(m->state_dir = replicate_default_state_dir ()))
    return EXIT_ERROR;
  so.dir = m->state_dir;
  if (creds_load (&cr, m->creds_file) == -1)
    return EXIT_ERROR;
  m->state = state_open (&so, &cr, &bo);
  /* Absent: said so before any lock.  The lock creates nothing either:
   * a job removed since (a complete elsewhere) is refused as absent. */
  if (!m->state || migrate_reload (m) == -1)
    return EXIT_ERROR;
  if (lock) {
    r = state_lock (m->state, name, lock, true);
    if (r == -2)
      report_absent (m);
    if (r < 0)
      return r == -4 ? EXIT_BUSY : EXIT_ERROR;
    if (migrate_reload (m) == -1)   /* as it is under the lock */
      return EXIT_ERROR;
  }
  bo.fence = state_fence (m->state);
  m->client = blob_client_new (&cr, &bo);
  return m->client ? EXIT_OK : EXIT_ERROR;
}

void
migrate_close (struct migrate *m)
{
  blob_client_free (m->client);
  journal_free (&m->j);
  state_close (m->state);
  free (m->state_dir);
  memset (m, 0, sizeof *m);
}

int
migrate_pick_points (struct migrate *m, const char *point,
                     const char **points)
{
  const struct jdisk *d0 = &m->j.disks[0];
  size_t n0 = count_strings (d0->snapshots), back = 0;

  if (n0 == 0) {
    azp_error ("%s: no recovery point yet: the initial replication has not "
               "completed (run azprep replicate --name %s)", m->name, m->name);
    return -1;
  }
  if (point && strcmp (point, "latest")) {
    size_t k;
    for (k = 0; k < n0; k++)
      if (!strcmp (d0->snapshots[k], point))
        break;
    if (k == n0) {
      azp_error ("%s: no recovery point %s; the job has:", m->name, point);
      for (k = 0; k < n0; k++)
        fprintf (stderr, "  %s%s\n", d0->snapshots[k],
                 k == n0 - 1 ? " (latest)" : "");
      return -1;
    }
    back = n0 - 1 - k;
  }
  for (size_t i = 0; i < m->j.ndisks; i++) {
    const struct jdisk *d = &m->j.disks[i];
    size_t n = count_strings (d->snapshots);
    if (n <= back) {
      azp_error ("%s: disk %zu (%s) has no recovery point of that cycle",
                 m->name, i, d->blob);
      return -1;
    }
    points[i] = d->snapshots[n - 1 - back];
  }
  return 0;
}

char *
migrate_copy_url (struct migrate *m, size_t i, const char *suffix)
{
  return hydrate_copy_url (m->j.disks[i].blob, suffix);
}

int
migrate_write_json (const char *path, const cJSON *j)
{
  CLEANUP_FREE char *s = cJSON_Print (j);
  CLEANUP_FREE char *nl = s ? xasprintf ("%s\n", s) : NULL;

  if (!nl) {
    azp_error ("%s: out of memory", path);
    return -1;
  }
  return write_file_atomic (path, nl, strlen (nl));
}

void
migrate_print_json (const cJSON *j)
{
  char *s = cJSON_Print (j);
  if (s)
    puts (s);
  free (s);
}

static const char *
human (uint64_t n, char buf[32])
{
  const char *u[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
  double v = n;
  size_t i = 0;
  while (v >= 1024 && i < 4) {
    v /= 1024;
    i++;
  }
  if (i == 0)
    snprintf (buf, 32, "%" PRIu64 " bytes", n);
  else
    snprintf (buf, 32, "%.1f %s", v, u[i]);
  return buf;
}

/* The readiness of the hydrated copies: azprep check's rules and the
 * fixups' own checks run again after they applied, on the same guest;
 * verdicts as azprep check's. */
static int
verdict_exit_of (const struct hydrate_result *hr)
{
  return hr->blockers ? EXIT_NOTREADY : hr->warnings ? EXIT_WARNINGS
    : EXIT_OK;
}

static cJSON *
check_json (struct hydrate_result *hr)
{
  cJSON *c = cJSON_CreateObject ();

  cJSON_AddStringToObject (c, "verdict", verdict_name (verdict_exit_of (hr)));
  cJSON_AddNumberToObject (c, "blockers", hr->blockers);
  cJSON_AddNumberToObject (c, "warnings", hr->warnings);
  if (hr->size)
    cJSON_AddStringToObject (c, "size", hr->size);
  cJSON_AddBoolToObject (c, "size_suggested", hr->size_suggested);
  if (hr->rules) {
    cJSON_AddItemToObject (c, "rules", hr->rules);
    hr->rules = NULL;
  }
  return c;
}

static void
print_text (struct hydrate_disk *hd, size_t n,
            const struct hydrate_result *hr, const cJSON *rep,
            const char *report)
{
  const cJSON *changes = cJSON_GetObjectItem (rep, "changes");
  const cJSON *findings = cJSON_GetObjectItem (rep, "findings");
  uint64_t rd = 0, wr = 0, cl = 0, size = 0;
  char b1[32], b2[32], b3[32], b4[32];

  for (size_t i = 0; i < n; i++) {
    rd += hd[i].stats.bytes_read;
    wr += hd[i].stats.bytes_written;
    cl += hd[i].stats.bytes_cleared;
    size += hd[i].stats.size;
    printf ("disk %zu: %s%s%s -> %s\n", i, hd[i].replica,
            hd[i].snapshot ? " at " : "", hd[i].snapshot ? hd[i].snapshot : "",
            hd[i].copy);
  }
  printf ("guest: %s %s (Hyper-V generation %d)\n",
          hr->distro ? hr->distro : "?", hr->product ? hr->product : "",
          hr->generation);
  if (changes) {
    const cJSON *c;
    size_t k = 0;
    cJSON_ArrayForEach (c, changes) {
      const char *f = json_str (c, "fixup");
      printf ("changed: [%s] %s\n", f ? f : "-", json_text (c, "object"));
      k++;
    }
    if (k == 0)
      printf ("nothing to change: the guest was already prepared\n");
  }
  printf ("bridge: read %s, wrote %s, cleared %s of %s of disks\n",
          human (rd, b1), human (wr, b2), human (cl, b3), human (size, b4));
  printf ("check: %s (%zu blockers, %zu warnings: azprep check's rules and "
          "the fixups' checks on the hydrated guest)\n",
          verdict_name (verdict_exit_of (hr)), hr->blockers, hr->warnings);
  if (findings) {
    const cJSON *f;
    cJSON_ArrayForEach (f, findings) {
      const char *sev = json_str (f, "severity");
      const char *obj = json_str (f, "object");
      const char *msg = json_str (f, "message");
      if (!sev || !msg || !strcmp (sev, "info") || json_str (f, "fixup"))
        continue;
      printf ("  %s: %s%s%s\n", sev, obj ? obj : "", obj ? ": " : "", msg);
    }
  }
  printf ("report: %s\n", report);
}

int
migrate_hydrate (struct migrate *m, const char **points,
                 const struct migrate_run *r)
{
  size_t n = m->j.ndisks;
  struct hydrate_disk *hd = calloc (n, sizeof *hd);
  struct arm_disk *ad = calloc (n, sizeof *ad);
  struct hydrate_result hr = { 0 };
  struct hydrate_opts ho = {
    .creds_file = m->creds_file, .cacert = m->cacert, .trace = r->trace,
    .allow_http = m->allow_http, .sel = r->sel, .size = r->vo->size,
    .tokens = blob_client_tokens (m->client),
  };
  struct arm_vm vm = { 0 };
  CLEANUP_FREE char *report_path = NULL, *account = NULL;
  cJSON *rep = cJSON_CreateObject (), *a;
  const char *status = "error";
  int ret = EXIT_ERROR;

  if (!hd || !ad || !rep) {
    azp_error ("out of memory");
    goto out;
  }
  report_path = xasprintf ("%s/%s.report.json", r->outdir, r->vm_name);
  if (!report_path)
    goto out;
  cJSON_AddNumberToObject (rep, "schema", 1);
  cJSON_AddStringToObject (rep, "job", m->name);
  cJSON_AddStringToObject (rep, "vm", r->vm_name);
  cJSON_AddStringToObject (rep, "kind", !strcmp (r->suffix, "test")
                           ? "test-migration" : "migration");

  for (size_t i = 0; i < n; i++) {
    hd[i].replica = m->j.disks[i].blob;
    hd[i].snapshot = points[i];
    hd[i].copy = migrate_copy_url (m, i, r->suffix);
    if (!hd[i].copy || hydrate_copy (m->client, &hd[i]) == -1)
      goto out;
  }
  if (hydrate_guest (m->client, hd, n, &ho, &hr) == -1) {
    if (hr.blockers && !hr.taken_over)
      status = "refused", ret = EXIT_NOTREADY;
    goto out;
  }

  /* The VM definition. */
  for (size_t i = 0; i < n; i++) {
    ad[i].source_uri = hd[i].copy;
    ad[i].size = hd[i].blob_size;
  }
  account = vmdef_account_from_url (hd[0].copy);
  vm.name = r->vm_name;
  vm.windows = hr.windows;
  vm.generation = hr.generation;
  vm.storage_account = account;
  vm.disks = ad;
  vm.ndisks = n;
  if (r->vo->hybrid_benefit && !r->vo->license_type &&
      !(vm.license_type = vmdef_license_type (hr.windows, hr.distro,
                                              hr.variant)))
    goto out;
  vm.size = hr.size;
  if (hr.size_suggested && !r->json)
    azp_info ("no --size: %s, the smallest size with 2 vCPUs and 4 GiB for "
              "this guest (the replica does not carry the VM's CPU and "
              "memory; give --size)", vm.size);
  if (vmdef_fill (&vm, r->vo) == -1)
    goto out;
  status = verdict_name (verdict_exit_of (&hr));
  ret = EXIT_OK;

 out:
  a = cJSON_AddArrayToObject (rep, "disks");
  for (size_t i = 0; hd && i < n; i++)
    if (hd[i].copy)
      cJSON_AddItemToArray (a, hydrate_disk_json (&hd[i]));
  if (hr.inspection) {
    cJSON_AddItemToObject (rep, "guest", hr.inspection);
    cJSON_AddItemToObject (rep, "changes", hr.changes);
    cJSON_AddItemToObject (rep, "findings", hr.findings);
    hr.inspection = hr.changes = hr.findings = NULL;
    cJSON_AddItemToObject (rep, "check", check_json (&hr));
  }
  if (ret == EXIT_OK && !r->json)
    print_text (hd, n, &hr, rep, report_path);
  if (ret == EXIT_OK && vmdef_emit (&vm, r->vo, r->outdir, rep,
                                    !r->json) == -1) {
    ret = EXIT_ERROR;
    status = "error";
  }
  cJSON_AddStringToObject (rep, "status", status);
  /* A run whose copies another run took over leaves the report, as the
   * copies, to that run (the same output directory, maybe). */
  if (report_path && !hr.taken_over &&
      migrate_write_json (report_path, rep) == -1)
    ret = EXIT_ERROR;
  if (r->json)
    migrate_print_json (rep);
  else if (ret == EXIT_NOTREADY && report_path)
    azp_error ("%s: refused: the guest would not boot on Azure (the blockers "
               "are above); the replica is untouched (report: %s)",
               r->vm_name, report_path);
  else if (hr.taken_over)
    azp_error ("%s: failed: another run took the copies over (see above); "
               "the replica is untouched; this run's report is not written "
               "(%s is that run's)", r->vm_name,
               report_path ? report_path : "the report");
  else if (ret != EXIT_OK && report_path)
    azp_error ("%s: failed; the replica is untouched; run the same command "
               "again to start over from the recovery point (report: %s)",
               r->vm_name, report_path);
  cJSON_Delete (rep);
  for (size_t i = 0; hd && i < n; i++)
    free (hd[i].copy);
  free (hd);
  free (ad);
  hydrate_result_free (&hr);
  return ret;
}

int
migrate_from_point (struct migrate *m, const struct migrate_args *a,
                    const struct migrate_from *f)
{
  const char **points = calloc (m->j.ndisks, sizeof *points);
  struct migrate_run run = { f->suffix, f->vm_name, a->dir, &a->vo, &a->sel,
                             a->o.json, a->o.trace };
  int ret = EXIT_ERROR;

  if (!points || migrate_pick_points (m, f->point, points) == -1)
    goto out;
  if (!a->o.json)
    printf ("%s of %s from %s %s\n", f->what, a->name, f->point_desc,
            points[0]);
  ret = migrate_hydrate (m, points, &run);
 out:
  free (points);
  return ret;
}
