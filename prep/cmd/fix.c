/* azprep fix: run the fixups, verify, commit atomically. */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
#include "prep/cmd/args.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "prep/guest/os.h"

static const char usage[] =
  "Usage: azprep fix [OPTIONS] [--format FMT] DISK...\n"
  "Change a VM's guest offline so that it boots on Azure (Hyper-V).\n"
  "Every change goes to a temporary overlay first; the disks are written\n"
  "only after every fixup and its verification succeeded, so a failure\n"
  "or a kill at any moment leaves them as they were.\n"
  "\n"
  "Options:\n"
  "  --dry-run            print what would change, write nothing\n"
  "  --list               list the fixups and exit\n"
  "  --only NAME,...      run only these fixups\n"
  "  --skip NAME,...      do not run these fixups\n"
  "  --report FILE        write every change (before/after) as JSON\n"
  "  --output FILE        write the fixed guest to FILE (once per disk,\n"
  "                       in order) and leave the input untouched; the\n"
  "                       format follows the name (.qcow2, .vhd: fixed VHD\n"
  "                       rounded up to a whole MiB, .vhdx, .vmdk, else raw)\n"
  "  --output-format FMT  format of --output (raw, qcow2, vpc, vhdx, vmdk)\n"
  "  --keep-static-ip     keep static addresses (MAC bindings still go)\n"
  "  --no-backup          do not keep NAME.azprep-orig backups in the guest\n"
  "  --generation 1|2     the Azure generation the VM will be created as\n"
  "                       (a warning if the guest's firmware cannot boot it)\n"
  "  --format FMT         format of the disks that follow\n"
  "  --json               print the result as JSON\n"
  "  -v, -x, --help       debug, trace libguestfs, this text\n"
  "\n"
  "Exit: 0 fixed (or nothing to do), 1 error (nothing committed),\n"
  "      2 usage, 3 refused (guest cannot be made bootable).\n";

/* The OS types a fixup applies to, comma-separated: "linux,windows". */
static void
fixup_guests (const struct fixup *f, char *buf, size_t len)
{
  size_t nos, off = 0;
  const struct os_ops *const *os = os_all (&nos);

  buf[0] = '\0';
  for (size_t k = 0; k < nos && off < len; k++)
    if (f->guests & os[k]->fixups)
      off += snprintf (buf + off, len - off, "%s%s", off ? "," : "",
                       os[k]->type);
}

static void
list_fixups (bool json)
{
  size_t n;
  const struct fixup *const *all = fixup_all (&n);
  cJSON *a = json ? cJSON_CreateArray () : NULL;

  for (size_t i = 0; i < n; i++) {
    char guests[64];
    fixup_guests (all[i], guests, sizeof guests);
    if (json) {
      cJSON *o = cJSON_CreateObject ();
      cJSON_AddStringToObject (o, "name", all[i]->name);
      cJSON_AddStringToObject (o, "heading", all[i]->heading);
      cJSON_AddStringToObject (o, "guests", guests);
      cJSON_AddItemToArray (a, o);
    }
    else
      printf ("%-28s %-8s %s\n", all[i]->name, guests, all[i]->heading);
  }
  if (json) {
    char *s = cJSON_Print (a);
    puts (s);
    free (s);
    cJSON_Delete (a);
  }
}

static void
print_text (struct guest *gs, bool dry_run)
{
  const struct report *r = gs->report;

  if (dry_run) {
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++) {
      const struct finding *f = &r->findings[i];
      if (!f->fixup)
        continue;
      printf ("would change: [%s] %s%s%s\n", f->fixup,
              f->object ? f->object : "", f->object ? ": " : "", f->message);
      n++;
    }
    if (n == 0)
      printf ("nothing to change: the guest is already prepared\n");
  }
  else {
    for (size_t i = 0; i < r->nchanges; i++) {
      const struct change *c = &r->changes[i];
      printf ("changed: [%s] %s %s%s\n", c->fixup ? c->fixup : "-",
              c->kind, c->object, c->after ? "" : " (removed)");
    }
    if (r->nchanges == 0)
      printf ("nothing to change: the guest is already prepared\n");
  }
  for (size_t i = 0; i < r->nfindings; i++) {
    const struct finding *f = &r->findings[i];
    if (f->fixup || f->severity == SEV_INFO)
      continue;
    printf ("%s: %s%s%s%s%s\n", severity_name (f->severity),
            f->object ? f->object : "", f->object ? ": " : "", f->message,
            f->remedy ? " — " : "", f->remedy ? f->remedy : "");
  }
}

static cJSON *
result_json (struct guest *gs, bool dry_run, const char *status)
{
  cJSON *j = cJSON_CreateObject ();
  cJSON_AddNumberToObject (j, "schema", 1);
  cJSON_AddStringToObject (j, "status", status);
  cJSON_AddBoolToObject (j, "dry_run", dry_run);
  if (gs) {
    cJSON_AddStringToObject (j, "root", gs->root ? gs->root : "");
    cJSON_AddItemToObject (j, "changes", report_changes_json (gs->report));
    cJSON_AddItemToObject (j, "findings", report_findings_json (gs->report));
    cJSON_AddItemToObject (j, "timings",
                           cJSON_Duplicate (gs->timings, true));
  }
  return j;
}

static int
write_json_file (const char *path, cJSON *j)
{
  CLEANUP_FREE char *s = cJSON_Print (j);
  if (!s)
    return -1;
  return write_file_atomic (path, s, strlen (s));
}

/* The command line, as parsed. */
struct fix_args {
  struct common_opts o;
  struct fixup_selection sel;
  struct disk_args d;
  size_t noutputs;
  char *outputs[64];
  const char *report_path, *output_format;
  bool dry_run, list, keep_static, no_backup;
  int64_t generation;
};

enum { OPT_DRY_RUN = OPT_FIRST_COMMAND_SPECIFIC, OPT_LIST, OPT_REPORT,
       OPT_OUTPUT, OPT_OUTPUT_FORMAT, OPT_KEEP_STATIC_IP, OPT_NO_BACKUP,
       OPT_GENERATION };

/* One of fix's own options or a disk (args_handler). */
static int
fix_option (int c, char *arg, void *data)
{
  struct fix_args *a = data;
  int r;

  switch (c) {
  case OPT_DRY_RUN: a->dry_run = true; break;
  case OPT_LIST: a->list = true; break;
  case OPT_REPORT: a->report_path = arg; break;
  case OPT_OUTPUT:
    if (a->noutputs >= 63)
      return usage_error ("fix", "too many --output");
    a->outputs[a->noutputs++] = arg;
    break;
  case OPT_OUTPUT_FORMAT: a->output_format = arg; break;
  case OPT_KEEP_STATIC_IP: a->keep_static = true; break;
  case OPT_NO_BACKUP: a->no_backup = true; break;
  case OPT_GENERATION:
    return args_generation ("fix", arg, &a->generation);
  default:
    r = fixup_selection_option (&a->sel, c, arg);
    return r == ARGS_UNKNOWN ? disk_args_option (&a->d, c, arg) : r;
  }
  return ARGS_OK;
}

/* Returns -1 when parsed (go on), else the exit code. */
static int
parse_args (int argc, char **argv, struct fix_args *a)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    DISK_LONG_OPTIONS,
    FIXUP_SELECTION_LONG_OPTIONS,
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "list", no_argument, NULL, OPT_LIST },
    { "report", required_argument, NULL, OPT_REPORT },
    { "output", required_argument, NULL, OPT_OUTPUT },
    { "output-format", required_argument, NULL, OPT_OUTPUT_FORMAT },
    { "keep-static-ip", no_argument, NULL, OPT_KEEP_STATIC_IP },
    { "no-backup", no_argument, NULL, OPT_NO_BACKUP },
    { "generation", required_argument, NULL, OPT_GENERATION },
    { NULL, 0, NULL, 0 }
  };

  return args_parse ("fix", usage, argc, argv, longopts, &a->o, fix_option,
                     a);
}

/* A fixup may refuse the guest: a blocker no fixup repairs (a fixable
 * blocker is what fix is for).  Says why; true if refused. */
static bool
refused (const struct guest *gs)
{
  if (fixup_unfixable_blockers (gs->report) == 0)
    return false;
  for (size_t i = 0; i < gs->report->nfindings; i++) {
    const struct finding *f = &gs->report->findings[i];
    if (f->severity == SEV_BLOCKER && !f->fixup)
      azp_error ("refused: %s%s%s", f->object ? f->object : "",
                 f->object ? ": " : "", f->message);
  }
  azp_error ("nothing was changed");
  return true;
}

/* Inspect the opened guest, run the fixups (their checks only for
 * --dry-run), then commit or write the outputs.  Returns the exit
 * code; *STATUS is what happened when it is not an error. */
static int
fix_guest (const struct fix_args *a, struct guest *gs, const char **status)
{
  double t0;

  gs->dry_run = a->dry_run;
  gs->keep_static_ip = a->keep_static;
  gs->no_backup = a->no_backup;
  gs->requested_generation = a->generation;
  t0 = monotonic_seconds ();
  if (guest_inspect (gs) == -1 || guest_mount (gs) == -1)
    return gs->refused ? EXIT_NOTREADY : EXIT_ERROR;
  guest_timing (gs, "inspection", t0);

  if (a->dry_run) {
    if (fixups_check (gs, &a->sel) == -1)
      return EXIT_ERROR;
  }
  else if (fixups_apply (gs, &a->sel) == -1)
    return EXIT_ERROR;

  if (refused (gs)) {
    *status = "refused";
    return EXIT_NOTREADY;
  }

  if (!a->dry_run) {
    t0 = monotonic_seconds ();
    if (guest_shutdown (gs) == -1)
      return EXIT_ERROR;
    guest_timing (gs, "shutdown", t0);
    t0 = monotonic_seconds ();
    if (a->noutputs) {
      if (guest_write_output (gs, a->outputs, a->output_format) == -1)
        return EXIT_ERROR;
      guest_timing (gs, "output", t0);
    }
    else if (gs->report->nchanges > 0) {
      if (guest_commit (gs) == -1)
        return EXIT_ERROR;
      guest_timing (gs, "commit", t0);
    }
  }
  *status = a->dry_run ? "dry-run"
    : gs->report->nchanges ? "fixed" : "unchanged";
  return EXIT_OK;
}

/* The result: printed (text or JSON) and written to --report.  Returns
 * the exit code RET, or an error if the report could not be written. */
static int
write_result (const struct fix_args *a, struct guest *gs,
              const char *status, int ret)
{
  cJSON *j = result_json (gs, a->dry_run, status);

  if (ret == EXIT_OK && !a->o.json && gs)
    print_text (gs, a->dry_run);
  if (a->o.json) {
    char *s = cJSON_Print (j);
    puts (s);
    free (s);
  }
  if (a->report_path && write_json_file (a->report_path, j) == -1 &&
      ret == EXIT_OK)
    ret = EXIT_ERROR;
  cJSON_Delete (j);
  return ret;
}

static int
fix_run (int argc, char **argv)
{
  struct fix_args a = { 0 };
  struct guest *gs = NULL;
  const char *status = "error";
  int ret;

  ret = parse_args (argc, argv, &a);
  if (ret != -1)
    return ret;
  if (a.list) {
    list_fixups (a.o.json);
    ret = EXIT_OK;
    goto out;
  }
  if (a.d.ndisks == 0)
    return usage_error ("fix", "no disk given");
  if (a.noutputs && a.noutputs != a.d.ndisks)
    return usage_error ("fix", "give one --output per disk (%zu disks, "
                        "%zu outputs)", a.d.ndisks, a.noutputs);
  if (a.noutputs && a.dry_run)
    return usage_error ("fix", "--dry-run and --output do not go together");

  gs = guest_open (a.d.disks, a.d.ndisks,
                   (a.dry_run ? GUEST_READONLY : GUEST_OVERLAY) |
                   (a.o.trace ? GUEST_TRACE : 0));
  ret = gs ? fix_guest (&a, gs, &status) : EXIT_ERROR;
  ret = write_result (&a, gs, status, ret);

 out:
  guest_close (gs);
  disks_free (a.d.disks, a.d.ndisks);
  free_string_list (a.sel.only);
  free_string_list (a.sel.skip);
  return ret;
}

static const struct command fix_cmd = {
  "fix", "prepare a VM's guest to boot on Azure (atomic)", fix_run,
};
COMMAND (fix_cmd);
