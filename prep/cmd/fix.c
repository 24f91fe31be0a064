/* azprep fix: run the fixups, verify, commit atomically. */
#include <getopt.h>
#include <string.h>

#include "prep/azprep.h"
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

static int
fix_run (int argc, char **argv)
{
  enum { OPT_DRY_RUN = OPT_FIRST_COMMAND_SPECIFIC, OPT_LIST, OPT_ONLY,
         OPT_SKIP, OPT_REPORT, OPT_OUTPUT, OPT_OUTPUT_FORMAT,
         OPT_KEEP_STATIC_IP, OPT_NO_BACKUP, OPT_GENERATION };
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "format", required_argument, NULL, OPT_FORMAT },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "list", no_argument, NULL, OPT_LIST },
    { "only", required_argument, NULL, OPT_ONLY },
    { "skip", required_argument, NULL, OPT_SKIP },
    { "report", required_argument, NULL, OPT_REPORT },
    { "output", required_argument, NULL, OPT_OUTPUT },
    { "output-format", required_argument, NULL, OPT_OUTPUT_FORMAT },
    { "keep-static-ip", no_argument, NULL, OPT_KEEP_STATIC_IP },
    { "no-backup", no_argument, NULL, OPT_NO_BACKUP },
    { "generation", required_argument, NULL, OPT_GENERATION },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts o = { 0 };
  struct fixup_selection sel = { NULL, NULL };
  struct disk *disks = NULL;
  size_t ndisks = 0, noutputs = 0;
  char *outputs[64] = { NULL };
  const char *format = NULL, *report_path = NULL, *output_format = NULL;
  bool dry_run = false, list = false, keep_static = false, no_backup = false;
  struct guest *gs = NULL;
  const char *status = "error";
  int64_t generation = 0;
  int c, ret = EXIT_ERROR;

  while ((c = getopt_long (argc, argv, "-" COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&o, c, usage))
      continue;
    switch (c) {
    case OPT_FORMAT:
      format = !strcmp (optarg, "auto") ? NULL : optarg;
      break;
    case OPT_DRY_RUN: dry_run = true; break;
    case OPT_LIST: list = true; break;
    case OPT_ONLY:
      if (fixup_selection_parse (&sel.only, optarg) == -1)
        return EXIT_USAGE;
      break;
    case OPT_SKIP:
      if (fixup_selection_parse (&sel.skip, optarg) == -1)
        return EXIT_USAGE;
      break;
    case OPT_REPORT: report_path = optarg; break;
    case OPT_OUTPUT:
      if (noutputs >= 63)
        return usage_error ("fix", "too many --output");
      outputs[noutputs++] = optarg;
      break;
    case OPT_OUTPUT_FORMAT: output_format = optarg; break;
    case OPT_KEEP_STATIC_IP: keep_static = true; break;
    case OPT_NO_BACKUP: no_backup = true; break;
    case OPT_GENERATION:
      if (parse_int64 (optarg, &generation) == -1
          || (generation != 1 && generation != 2))
        return usage_error ("fix", "--generation must be 1 or 2");
      break;
    case 1:
      if (disks_add (&disks, &ndisks, optarg, format) == -1)
        return EXIT_ERROR;
      break;
    default:
      return usage_error ("fix", "unknown option");
    }
  }
  if (list) {
    list_fixups (o.json);
    ret = EXIT_OK;
    goto out;
  }
  if (ndisks == 0)
    return usage_error ("fix", "no disk given");
  if (noutputs && noutputs != ndisks)
    return usage_error ("fix", "give one --output per disk (%zu disks, "
                        "%zu outputs)", ndisks, noutputs);
  if (noutputs && dry_run)
    return usage_error ("fix", "--dry-run and --output do not go together");

  gs = guest_open (disks, ndisks,
                   (dry_run ? GUEST_READONLY : GUEST_OVERLAY) |
                   (o.trace ? GUEST_TRACE : 0));
  if (!gs)
    goto out;
  gs->dry_run = dry_run;
  gs->keep_static_ip = keep_static;
  gs->no_backup = no_backup;
  gs->requested_generation = generation;
  if (guest_inspect (gs) == -1 || guest_mount (gs) == -1) {
    if (gs->refused)
      ret = EXIT_NOTREADY;
    goto out;
  }

  if (dry_run) {
    if (fixups_check (gs, &sel) == -1)
      goto out;
  }
  else if (fixups_apply (gs, &sel) == -1)
    goto out;

  /* A fixup may refuse the guest: a blocker no fixup repairs (a
   * fixable blocker is what fix is for). */
  if (fixup_unfixable_blockers (gs->report) > 0) {
    for (size_t i = 0; i < gs->report->nfindings; i++) {
      const struct finding *f = &gs->report->findings[i];
      if (f->severity == SEV_BLOCKER && !f->fixup)
        azp_error ("refused: %s%s%s", f->object ? f->object : "",
                   f->object ? ": " : "", f->message);
    }
    azp_error ("nothing was changed");
    status = "refused";
    ret = EXIT_NOTREADY;
    goto out;
  }

  if (!dry_run) {
    if (guest_shutdown (gs) == -1)
      goto out;
    if (noutputs) {
      if (guest_write_output (gs, outputs, output_format) == -1)
        goto out;
    }
    else if (gs->report->nchanges > 0 && guest_commit (gs) == -1)
      goto out;
  }
  status = dry_run ? "dry-run" : gs->report->nchanges ? "fixed" : "unchanged";
  ret = EXIT_OK;

 out:
  if (!list && (gs || ndisks)) {
    cJSON *j = result_json (gs, dry_run, status);
    if (ret == EXIT_OK && !o.json && gs)
      print_text (gs, dry_run);
    if (o.json) {
      char *s = cJSON_Print (j);
      puts (s);
      free (s);
    }
    if (report_path && write_json_file (report_path, j) == -1 &&
        ret == EXIT_OK)
      ret = EXIT_ERROR;
    cJSON_Delete (j);
  }
  guest_close (gs);
  disks_free (disks, ndisks);
  free_string_list (sel.only);
  free_string_list (sel.skip);
  return ret;
}

static const struct command fix_cmd = {
  "fix", "prepare a VM's guest to boot on Azure (atomic)", fix_run,
};
COMMAND (fix_cmd);
