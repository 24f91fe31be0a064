/* Check one VM, read-only: probe the disks, open them read-only in one
 * appliance, inspect, run every applicable fixup's check() and every
 * readiness rule, and describe the result as one JSON object (schema in
 * prep/check.pod).  Anything that stops the check early becomes a
 * blocker finding when it is about the VM (unreadable disk, no OS,
 * several OSes, encrypted root), or verdict "error" when it is about
 * the check itself (the appliance would not start).
 */
#include <libgen.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/rule.h"
#include "prep/check/vm.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"

/* One entry of the result's "rules" array. */
static void
add_result (cJSON *rules, const char *id, const char *kind,
            const char *heading, const char *result, const char *message)
{
  cJSON *o = cJSON_CreateObject ();
  cJSON_AddStringToObject (o, "id", id);
  cJSON_AddStringToObject (o, "kind", kind);
  cJSON_AddStringToObject (o, "heading", heading);
  cJSON_AddStringToObject (o, "result", result);
  if (message)
    cJSON_AddStringToObject (o, "message", message);
  cJSON_AddItemToArray (rules, o);
}

/* Did the rule find something (information alone is not a failure)? */
static bool
has_finding (const struct report *r, const char *id, size_t from)
{
  for (size_t i = from; i < r->nfindings; i++)
    if (!strcmp (r->findings[i].id, id) &&
        (r->findings[i].severity != SEV_INFO || r->findings[i].fixup))
      return true;
  return false;
}

const char *
verdict_name (int exit_code)
{
  switch (exit_code) {
  case EXIT_OK: return "ready";
  case EXIT_WARNINGS: return "warnings";
  case EXIT_NOTREADY: return "not-ready";
  default: return "error";
  }
}

int
verdict_exit (const char *verdict)
{
  if (!verdict)
    return EXIT_ERROR;
  if (!strcmp (verdict, "ready")) return EXIT_OK;
  if (!strcmp (verdict, "warnings")) return EXIT_WARNINGS;
  if (!strcmp (verdict, "not-ready")) return EXIT_NOTREADY;
  return EXIT_ERROR;
}

/* Blockers: not ready as is (fixable or not); else a check that
 * failed: error; else warnings or findings azprep fix repairs: ready
 * with warnings. */
static int
verdict_of (const struct report *r, bool failed)
{
  bool warn = false;
  for (size_t i = 0; i < r->nfindings; i++) {
    const struct finding *f = &r->findings[i];
    if (f->severity == SEV_BLOCKER)
      return EXIT_NOTREADY;
    if (f->severity != SEV_INFO || f->fixup)
      warn = true;
  }
  if (failed)
    return EXIT_ERROR;
  return warn ? EXIT_WARNINGS : EXIT_OK;
}

/* Would the VM be ready (perhaps with warnings) after azprep fix: no
 * blocker that no fixup repairs, and a check that completed? */
static bool
ready_after_fix (const struct report *r, bool failed)
{
  if (failed)
    return false;
  for (size_t i = 0; i < r->nfindings; i++)
    if (r->findings[i].severity == SEV_BLOCKER && !r->findings[i].fixup)
      return false;
  return true;
}

static cJSON *
counts_json (const struct report *r)
{
  cJSON *c = cJSON_CreateObject ();
  cJSON_AddNumberToObject (c, "blocker", report_count (r, SEV_BLOCKER));
  cJSON_AddNumberToObject (c, "warning", report_count (r, SEV_WARNING));
  cJSON_AddNumberToObject (c, "info", report_count (r, SEV_INFO));
  cJSON_AddNumberToObject (c, "fixable", report_count_fixable (r));
  return c;
}


cJSON *
check_vm_error (const char *name, const char *message)
{
  cJSON *vm = cJSON_CreateObject ();
  json_add_str (vm, "name", name);
  cJSON_AddStringToObject (vm, "verdict", "error");
  cJSON_AddNumberToObject (vm, "exit", EXIT_ERROR);
  cJSON_AddBoolToObject (vm, "ready_after_fix", false);
  json_add_str (vm, "error", message);
  cJSON_AddArrayToObject (vm, "disks");
  cJSON_AddNullToObject (vm, "os");
  cJSON_AddNullToObject (vm, "azure");
  cJSON_AddNullToObject (vm, "descriptor");
  {
    struct report empty = { 0 };
    cJSON_AddItemToObject (vm, "counts", counts_json (&empty));
  }
  cJSON_AddArrayToObject (vm, "rules");
  cJSON_AddArrayToObject (vm, "findings");
  return vm;
}

/* Which fixup reported each finding (NULL: none). */
struct attribution {
  const char **fixup;
  size_t n;
};

/* Run one fixup's check alone, so that its findings (fixable or not)
 * can be attributed to it.  Returns 0, or -1 if the check failed. */
static int
run_fixup (struct guest *gs, const struct fixup *f, cJSON *rules,
           struct attribution *at)
{
  char *only[2] = { (char *) f->name, NULL };
  struct fixup_selection sel = { only, NULL };
  size_t before = gs->report->nfindings;
  double t0 = monotonic_seconds ();
  int r = fixups_check (gs, &sel);
  size_t now = gs->report->nfindings;
  const char **na;

  fixup_timing (gs, f, t0);

  add_result (rules, f->name, "fixup", f->heading,
              r == -1 ? "error" : now > before ? "fail" : "pass",
              r == -1 ? log_last_error () : NULL);
  na = realloc (at->fixup, (now + 1) * sizeof *na);
  if (!na) {
    azp_error ("out of memory");
    return -1;
  }
  at->fixup = na;
  for (size_t i = at->n; i < now; i++)
    na[i] = i >= before ? f->name : NULL;
  at->n = now;
  return r;
}

static cJSON *
disks_json (const struct disk *disks, size_t n)
{
  cJSON *a = cJSON_CreateArray ();
  for (size_t i = 0; i < n; i++) {
    cJSON *d = cJSON_CreateObject ();
    cJSON_AddStringToObject (d, "path", disks[i].path);
    json_add_str (d, "format", disks[i].format);
    cJSON_AddNumberToObject (d, "size", (double) disks[i].size);
    cJSON_AddItemToArray (a, d);
  }
  return a;
}

static cJSON *
os_json (const struct guest *gs)
{
  cJSON *o;
  if (!gs || !gs->root)
    return cJSON_CreateNull ();
  o = cJSON_CreateObject ();
  json_add_str (o, "root", gs->root);
  json_add_str (o, "type", gs->type);
  json_add_str (o, "distro", gs->distro);
  cJSON_AddNumberToObject (o, "major", gs->major);
  cJSON_AddNumberToObject (o, "minor", gs->minor);
  json_add_str (o, "product_name", gs->product_name);
  json_add_str (o, "arch", gs->arch);
  json_add_str (o, "hostname", gs->hostname);
  return o;
}

static cJSON *
azure_json (const struct check_ctx *ctx, int generation)
{
  cJSON *a = cJSON_CreateObject ();
  const struct azure_size *t = ctx->target;

  if (generation)
    cJSON_AddNumberToObject (a, "generation", generation);
  else
    cJSON_AddNullToObject (a, "generation");
  if (t) {
    cJSON *s = cJSON_AddObjectToObject (a, "size");
    cJSON_AddStringToObject (s, "name", t->name);
    cJSON_AddNumberToObject (s, "vcpus", t->vcpus);
    cJSON_AddNumberToObject (s, "memory_gib", t->memory_gib);
    cJSON_AddNumberToObject (s, "max_data_disks", t->max_data_disks);
    cJSON_AddStringToObject (s, "chosen", ctx->target_given ? "given"
                             : "suggested");
  }
  else
    cJSON_AddNullToObject (a, "size");
  cJSON_AddNumberToObject (a, "data_disks",
                           ctx->gs->ndisks ? ctx->gs->ndisks - 1 : 0);
  if (t)
    cJSON_AddNumberToObject (a, "max_data_disks", t->max_data_disks);
  else
    cJSON_AddNullToObject (a, "max_data_disks");
  return a;
}

/* Is the disk left half-written by an interrupted azprep fix?  Opening
 * it would roll the fix back, which is a write: check only says so. */
static bool
commit_interrupted (const char *path)
{
  CLEANUP_FREE char *undo = xasprintf ("%s.azprep-undo", path);
  return undo && access (undo, F_OK) == 0;
}

/* The rules read the mounted guest: a fixup's check that unmounts to
 * look elsewhere (the Windows BCD on the boot partition) may leave
 * nothing mounted, with root_mounted still saying the root is. */
static int
ensure_mounted (struct guest *gs)
{
  CLEANUP_FREE_STRING_LIST char **mps = NULL;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  mps = guestfs_mountpoints (gs->g);
  guestfs_pop_error_handler (gs->g);
  if (mps && mps[0])
    return 0;
  azp_debug ("the guest was left unmounted: mounting it again");
  gs->root_mounted = false;
  return guest_mount (gs);
}

/* One VM's check as it goes, stage by stage. */
struct vm_check {
  struct guest pre;             /* the disks, before the appliance */
  struct guest *gs;             /* &pre, then the opened guest */
  struct guest *opened;
  struct check_ctx ctx;
  struct size_table *sizes;
  struct attribution at;
  int stage;                    /* the highest stage reached */
  bool failed;
  const char *error_msg;
  char *error_copy;
  int generation;
};

/* The check itself failed (not the VM): say why in "error". */
static void
check_failed (struct vm_check *c)
{
  c->failed = true;
  c->error_msg = c->error_copy = first_line (log_last_error ());
}

/* Stage 0: every disk readable.  A disk that is not is a blocker. */
static void
probe_disks (struct report *rep, struct disk *disks, size_t ndisks,
             const struct vm_desc *desc)
{
  if (ndisks == 0 && desc)
    report_finding (rep, SEV_BLOCKER, "no-disks", desc->source,
                    "attach the VM's disks and export it again", false,
                    "the descriptor gives %s no disks",
                    desc->name ? desc->name : "the VM");
  for (size_t i = 0; i < ndisks; i++) {
    if (desc && desc->disk_error && i < desc->ndisks && desc->disk_error[i])
      report_finding (rep, SEV_BLOCKER, "disk-unreadable",
                      disks[i].path, "export the VM again", false,
                      "%s: %s", disks[i].path, desc->disk_error[i]);
    else if (!disks[i].nbd_server && !disks[i].hook &&
             disk_lock (&disks[i], false) == -1)
      /* A fix is writing it: its journal is live, not interrupted. */
      report_finding (rep, SEV_BLOCKER, "disk-unreadable",
                      disks[i].path, "wait for the fix to finish", false,
                      "%s", log_last_error ());
    else if (commit_interrupted (disks[i].path))
      report_finding (rep, SEV_BLOCKER, "disk-unreadable",
                      disks[i].path, "run 'azprep inspect' on it once to "
                      "roll the interrupted fix back", false,
                      "an interrupted 'azprep fix' left %s.azprep-undo",
                      disks[i].path);
    else if (disk_probe (&disks[i]) == -1)
      /* qemu-img info, and qemu-img check of a qcow2 (a truncated one
       * still has a good header). */
      report_finding (rep, SEV_BLOCKER, "disk-unreadable",
                      disks[i].path, "check the disk image on the source",
                      false, "%s", log_last_error ());
  }
}

/* Stage 1, the appliance, then stage 2, one OS inspected and mounted,
 * and every applicable fixup's check.  Stops at the first stage that
 * does not pass. */
static void
open_and_inspect (struct vm_check *c, struct disk *disks, size_t ndisks,
                  const struct check_opts *o, cJSON *rules)
{
  size_t nfixups;
  const struct fixup *const *all_fixups = fixup_all (&nfixups);
  struct guest *gs;
  double t0;

  c->opened = guest_open (disks, ndisks, GUEST_READONLY |
                          (o->trace ? GUEST_TRACE : 0));
  if (!c->opened) {
    check_failed (c);
    return;
  }
  gs = c->gs = c->opened;
  report_free (gs->report);
  gs->report = c->pre.report;
  c->pre.report = NULL;
  gs->inspect_findings = true;
  gs->requested_generation = o->generation;
  c->stage = RULE_NEEDS_GUEST;
  c->ctx.gs = gs;
  t0 = monotonic_seconds ();
  check_ctx_prepare (&c->ctx);         /* before inspection mounts */
  guest_timing (gs, "storage", t0);

  t0 = monotonic_seconds ();
  if (guest_inspect (gs) == -1) {
    if (report_count (gs->report, SEV_BLOCKER) == 0)
      check_failed (c);
    return;
  }
  guest_timing (gs, "inspection", t0);
  c->generation = gs->generation;
  t0 = monotonic_seconds ();
  if (guest_mount (gs) == -1) {
    check_failed (c);
    return;
  }
  c->stage = RULE_NEEDS_OS;
  c->ctx.inspected = true;
  check_ctx_prepare (&c->ctx);         /* the fstab */
  guest_timing (gs, "mount", t0);

  for (size_t i = 0; i < nfixups; i++) {
    if (fixup_applies (all_fixups[i], gs) &&
        run_fixup (gs, all_fixups[i], rules, &c->at) == -1)
      c->failed = true;
  }
  if (ensure_mounted (gs) == -1)
    c->failed = true;
}

/* Every readiness rule: those that need a stage not reached are
 * skipped. */
static void
run_rules (struct vm_check *c, const struct vm_desc *desc, size_t ndisks,
           cJSON *rules)
{
  size_t nrules;
  const struct rule *const *all_rules = rule_all (&nrules);
  struct check_ctx *ctx = &c->ctx;
  struct report *rep = c->gs->report;

  if (!c->generation && desc && desc->firmware != FIRMWARE_UNKNOWN)
    c->generation = desc->firmware == FIRMWARE_UEFI ? 2 : 1;
  if (!ctx->target && desc && desc->cpus > 0)
    ctx->target = sizes_suggest (c->sizes, desc->cpus, desc->memory_mib,
                                 c->generation ? c->generation : 1,
                                 ndisks > 0 ? (int) ndisks - 1 : 0);
  ctx->gs = c->gs;
  for (size_t i = 0; i < nrules; i++) {
    const struct rule *r = all_rules[i];
    size_t before = rep->nfindings;
    const char *result;
    int ret = 0;

    if (r->needs > c->stage) {
      add_result (rules, r->id, "rule", r->heading, "skipped",
                  "not reached: the check stopped earlier");
      continue;
    }
    if (r->check) {
      double t0 = monotonic_seconds ();
      CLEANUP_FREE char *phase = xasprintf ("rule %s", r->id);
      ret = r->check (ctx);
      if (phase && c->opened)
        guest_timing (c->opened, phase, t0);
    }
    if (ret == -1) {
      c->failed = true;
      result = "error";
    }
    else
      result = has_finding (rep, r->id, r->check ? before : 0)
        ? "fail" : "pass";
    add_result (rules, r->id, "rule", r->heading, result,
                ret == -1 ? log_last_error () : NULL);
  }
}

/* The findings, each naming the rule or the fixup that reported it. */
static cJSON *
findings_json (const struct report *rep, const struct attribution *at)
{
  cJSON *findings = rep ? report_findings_json (rep) : cJSON_CreateArray ();

  for (size_t i = 0; rep && i < rep->nfindings; i++) {
    cJSON *f = cJSON_GetArrayItem (findings, i);
    const char *rule = i < at->n && at->fixup[i]
      ? at->fixup[i] : rep->findings[i].id;
    cJSON_AddStringToObject (f, "rule", rule);
  }
  return findings;
}

/* The VM's result object; it takes RULES. */
static cJSON *
vm_json (struct vm_check *c, const char *name, const struct disk *disks,
         size_t ndisks, const struct vm_desc *desc, cJSON *rules)
{
  struct guest *gs = c->gs;
  struct report *rep = gs->report;
  int exit_code = rep ? verdict_of (rep, c->failed) : EXIT_ERROR;
  cJSON *vm = cJSON_CreateObject ();

  json_add_str (vm, "name", name);
  cJSON_AddStringToObject (vm, "verdict", verdict_name (exit_code));
  cJSON_AddNumberToObject (vm, "exit", exit_code);
  cJSON_AddBoolToObject (vm, "ready_after_fix",
                         rep && ready_after_fix (rep, c->failed));
  json_add_str (vm, "error", c->error_msg);
  cJSON_AddItemToObject (vm, "disks", disks_json (disks, ndisks));
  cJSON_AddItemToObject (vm, "os", os_json (c->ctx.inspected || gs->root
                                            ? gs : NULL));
  if (gs->g && gs->root && !c->generation)
    c->generation = gs->generation;
  if (gs->root || desc)
    cJSON_AddItemToObject (vm, "azure", azure_json (&c->ctx, c->generation));
  else
    cJSON_AddNullToObject (vm, "azure");
  if (gs->root)
    cJSON_AddStringToObject (vm, "firmware", gs->firmware == FIRMWARE_UEFI
                             ? "uefi" : "bios");
  else
    cJSON_AddNullToObject (vm, "firmware");
  cJSON_AddItemToObject (vm, "descriptor",
                         desc ? desc_json (desc) : cJSON_CreateNull ());
  if (rep)
    cJSON_AddItemToObject (vm, "counts", counts_json (rep));
  cJSON_AddItemToObject (vm, "rules", rules);
  cJSON_AddItemToObject (vm, "findings", findings_json (rep, &c->at));
  return vm;
}

cJSON *
check_vm (struct disk *disks, size_t ndisks, struct vm_desc *desc,
          const struct check_opts *o)
{
  struct vm_check c = {
    .pre = { .disks = disks, .ndisks = ndisks, .readonly = true },
    .stage = RULE_NEEDS_NOTHING,
  };
  const char *name = o->name;
  char *basename_buf = NULL;
  cJSON *vm, *rules = cJSON_CreateArray ();

  c.gs = &c.pre;
  c.ctx.gs = &c.pre;
  c.ctx.desc = desc;
  if (!name && desc && desc->name)
    name = desc->name;
  if (!name && ndisks > 0) {
    basename_buf = xstrdup (disks[0].path);
    name = basename_buf ? basename (basename_buf) : "?";
  }
  c.pre.report = report_new ();
  if (!c.pre.report || !rules) {
    azp_error ("out of memory");
    vm = check_vm_error (name, "out of memory");
    goto out;
  }

  c.sizes = sizes_load (o->sizes_file);
  if (!c.sizes)
    check_failed (&c);
  else {
    c.ctx.sizes = c.sizes;
    if (o->size) {
      c.ctx.target = sizes_find (c.sizes, o->size);
      c.ctx.target_given = c.ctx.target != NULL;
    }
    probe_disks (c.pre.report, disks, ndisks, desc);
    if (report_count (c.pre.report, SEV_BLOCKER) == 0) {
      c.stage = RULE_NEEDS_DISKS;
      open_and_inspect (&c, disks, ndisks, o, rules);
    }
    run_rules (&c, desc, ndisks, rules);
  }
  vm = vm_json (&c, name, disks, ndisks, desc, rules);
  rules = NULL;

 out:
  cJSON_Delete (rules);
  free (c.at.fixup);
  free (c.error_copy);
  check_ctx_release (&c.ctx);
  if (c.opened) {
    double t0 = monotonic_seconds ();
    guest_close (c.opened);    /* frees the report it holds */
    azp_debug ("time: close %.2f s", monotonic_seconds () - t0);
  }
  else
    report_free (c.pre.report);
  sizes_free (c.sizes);
  disks_free (disks, ndisks);
  desc_free (desc);
  free (basename_buf);
  return vm;
}

cJSON *
check_report (cJSON *vms)
{
  cJSON *j = cJSON_CreateObject ();
  cJSON *counts = cJSON_CreateObject ();
  int worst = EXIT_OK, n[5] = { 0 };
  bool after_fix = true;
  cJSON *vm;

  /* The fleet's verdict is its worst VM: could not check > not ready >
   * warnings > ready. */
  cJSON_ArrayForEach (vm, vms) {
    int e = verdict_exit (json_str (vm, "verdict"));
    static const int rank[5] = { 0, 3, 0, 2, 1 };
    if (e < 0 || e > 4)
      e = EXIT_ERROR;
    n[e]++;
    if (rank[e] > rank[worst])
      worst = e;
    if (!cJSON_IsTrue (cJSON_GetObjectItem (vm, "ready_after_fix")))
      after_fix = false;
  }
  cJSON_AddNumberToObject (j, "schema", 1);
  cJSON_AddStringToObject (j, "verdict", verdict_name (worst));
  cJSON_AddNumberToObject (j, "exit", worst);
  cJSON_AddBoolToObject (j, "ready_after_fix", after_fix);
  cJSON_AddNumberToObject (counts, "ready", n[EXIT_OK]);
  cJSON_AddNumberToObject (counts, "warnings", n[EXIT_WARNINGS]);
  cJSON_AddNumberToObject (counts, "not-ready", n[EXIT_NOTREADY]);
  cJSON_AddNumberToObject (counts, "error", n[EXIT_ERROR]);
  cJSON_AddItemToObject (j, "vms_by_verdict", counts);
  cJSON_AddItemToObject (j, "vms", vms);
  return j;
}
