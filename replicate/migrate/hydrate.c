/* Hydration of recovery-point copies through the bridge: see hydrate.h. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/rule.h"
#include "prep/guest/guest.h"
#include "replicate/migrate/hydrate.h"

char *
hydrate_copy_url (const char *replica, const char *suffix)
{
  size_t n = strlen (replica);

  if (strchr (replica, '?')) {
    azp_error ("replica blob URL with a query: cannot name its copy");
    return NULL;
  }
  if (n > 4 && !strcasecmp (replica + n - 4, ".vhd"))
    n -= 4;
  return xasprintf ("%.*s-%s.vhd", (int) n, replica, suffix);
}

/* Set the copy's metadata (all of it: Set Blob Metadata replaces). */
static int
mark (struct blob *b, const struct hydrate_disk *d, const char *state)
{
  CLEANUP_FREE char *s = xasprintf ("azprephydration=%s", state);
  CLEANUP_FREE char *r = xasprintf ("azprepreplica=%s", d->replica);
  CLEANUP_FREE char *p = xasprintf ("azpreppoint=%s",
                                    d->snapshot ? d->snapshot : "current");
  const char *meta[] = { s, r, p, NULL };

  if (!s || !r || !p)
    return -1;
  return blob_set_metadata (b, meta);
}

static struct blob *
open_copy (struct blob_client *c, const struct hydrate_disk *d)
{
  struct blob *b = blob_open_url (c, d->copy);

  if (b && blob_set_lease_id (b, d->lease_id) == -1) {
    blob_close (b);
    return NULL;
  }
  return b;
}

int
hydrate_copy_state (struct blob_client *c, const char *copy, char **state)
{
  struct blob *b = blob_open_url (c, copy);
  struct blob_props p = { 0 };
  int r = -1;

  *state = NULL;
  if (!b)
    return -1;
  if (blob_get_properties (b, NULL, &p) == 0) {
    const char *s = blob_props_meta (&p, "azprephydration");
    r = 0;
    if (p.exists && !(*state = xstrdup (s ? s : "")))
      r = -1;
  }
  blob_props_free (&p);
  blob_close (b);
  return r;
}

int
hydrate_break_lease (struct blob_client *c, const char *copy)
{
  struct blob *b = blob_open_url (c, copy);
  int r = b ? blob_lease_break_now (b) : -1;

  blob_close (b);
  return r;
}

int
hydrate_delete_blob (struct blob_client *c, const char *copy)
{
  struct blob *b = blob_open_url (c, copy);
  int r = b ? blob_delete_breaking (b) : -1;

  blob_close (b);
  return r;
}

int
hydrate_copy (struct blob_client *c, struct hydrate_disk *d)
{
  struct blob *src = NULL, *dst = NULL;
  struct blob_props p = { 0 };
  CLEANUP_FREE char *lease = NULL;
  int r = -1;

  if (!d->copy && !(d->copy = hydrate_copy_url (d->replica, "test")))
    return -1;
  d->lease_id[0] = '\0';
  if (hydrate_delete_blob (c, d->copy) == -1)
    return -1;
  src = blob_open_url (c, d->replica);
  dst = blob_open_url (c, d->copy);
  if (!src || !dst)
    goto out;
  azp_info ("copying %s%s%s to %s (server-side)", blob_name (src),
            d->snapshot ? " at " : "", d->snapshot ? d->snapshot : "",
            blob_name (dst));
  if (blob_copy_from (dst, src, d->snapshot) == -1)
    goto out;
  if (blob_get_properties (dst, NULL, &p) == -1)
    goto out;
  if (!p.exists || p.size % 512 || p.size < 1024) {
    azp_error ("%s: the copy is not a fixed VHD page blob (%llu bytes)",
               blob_name (dst), (unsigned long long) p.size);
    goto out;
  }
  d->blob_size = p.size;
  /* The service chooses the id: this run's only, so that a run this
   * one replaced (it broke that run's lease) gets 412 on its writes. */
  if (blob_lease_acquire (dst, NULL, -1, &lease) == -1)
    goto out;
  if (strlen (lease) >= sizeof d->lease_id) {
    azp_error ("%s: unexpected lease id from the service (%zu bytes)",
               blob_name (dst), strlen (lease));
    goto out;
  }
  memcpy (d->lease_id, lease, strlen (lease) + 1);
  r = mark (dst, d, "running");
 out:
  blob_props_free (&p);
  blob_close (src);
  blob_close (dst);
  return r;
}

/* Why a mark under this run's lease was refused, if the copy is no
 * longer this run's (another run took it over, its lease was broken, or
 * it was deleted).  True if another run holds it now. */
static bool
taken_over (const struct hydrate_disk *d)
{
  const char *code = blob_error_code ();

  if (!strcmp (code, "LeaseIdMismatchWithBlobOperation")) {
    azp_error ("%s: another run took the copy over (it broke this run's "
               "lease and holds its own: a second test-migrate or migrate "
               "of the job?); this run writes nothing more into it and "
               "leaves it to that run", d->copy);
    return true;
  }
  if (!strcmp (code, "LeaseNotPresentWithBlobOperation") ||
      !strcmp (code, "LeaseLost"))
    azp_error ("%s: this run's lease on the copy was broken (cleanup-test, "
               "another run starting over, or by hand); this run writes "
               "nothing more into it", d->copy);
  else if (blob_error_status () == 404)
    azp_error ("%s: the copy was deleted (cleanup-test, or another run "
               "starting over)", d->copy);
  return false;
}

/* Mark every copy, under this run's lease: a copy another run took over
 * refuses (412) and is left alone.  0, or -1 if one was not marked
 * (*taken set if another run holds one now). */
static int
mark_all (struct blob_client *c, struct hydrate_disk *disks, size_t n,
          const char *state, bool *taken)
{
  int r = 0;

  for (size_t i = 0; i < n; i++) {
    struct blob *b = open_copy (c, &disks[i]);
    if (!b || mark (b, &disks[i], state) == -1) {
      r = -1;
      if (b && taken_over (&disks[i]))
        *taken = true;
    }
    blob_close (b);
  }
  return r;
}

/* azprep check's readiness rules, on the prepared guest: they only
 * read; the fixups' own needs (free space) are settled by then.  The
 * size: --size, else the smallest of the table with 2 vCPUs and 4 GiB
 * for the generation and the data disks (a replica carries no CPU or
 * memory figures: the VM's descriptor is not replicated). */
static int
check_rules (struct guest *gs, const struct hydrate_opts *o,
             struct hydrate_result *r)
{
  struct size_table *sizes = sizes_load (NULL);
  struct check_ctx ctx = { .gs = gs, .sizes = sizes, .inspected = true,
                           .after_fixups = true };
  size_t n;
  const struct rule *const *all = rule_all (&n);
  int ret = 0;

  if (!sizes)
    return -1;
  if (o->size) {
    ctx.target = sizes_find (sizes, o->size);
    ctx.target_given = ctx.target != NULL;
    if (!ctx.target)
      azp_warning ("--size %s is not in the size table %s: not checked",
                   o->size, sizes->source ? sizes->source : "");
  }
  else
    ctx.target = sizes_suggest (sizes, 2, 4096, gs->generation ? gs->generation
                                : 1, (int) gs->ndisks - 1);
  r->size = o->size ? xstrdup (o->size)
    : ctx.target ? xstrdup (ctx.target->name) : NULL;
  r->size_suggested = !o->size && ctx.target;
  check_ctx_prepare (&ctx);
  r->rules = cJSON_CreateArray ();
  for (size_t i = 0; i < n; i++) {
    size_t before = gs->report->nfindings;
    const char *result = "pass";
    cJSON *o1;
    if (all[i]->check && all[i]->check (&ctx) == -1) {
      result = "error";
      ret = -1;
    }
    else
      for (size_t k = before; k < gs->report->nfindings; k++)
        if (!strcmp (gs->report->findings[k].id, all[i]->id))
          result = "fail";
    o1 = cJSON_CreateObject ();
    cJSON_AddStringToObject (o1, "id", all[i]->id);
    cJSON_AddStringToObject (o1, "result", result);
    cJSON_AddItemToArray (r->rules, o1);
  }
  check_ctx_release (&ctx);
  sizes_free (sizes);
  return ret;
}

/* Findings of a severity that no fixup repaired (fixable ones were
 * applied and verified by fixups_apply), as fix counts them. */
static size_t
count_unfixed (const struct report *rep, enum severity sev)
{
  size_t n = 0;
  for (size_t i = 0; i < rep->nfindings; i++)
    if (rep->findings[i].severity == sev && !rep->findings[i].fixup)
      n++;
  return n;
}

static void
fill_result (struct guest *gs, struct hydrate_result *r)
{
  r->windows = gs->type && !strcmp (gs->type, "windows");
  r->generation = gs->generation ? gs->generation : 1;
  r->distro = gs->distro ? xstrdup (gs->distro) : NULL;
  r->product = gs->product_name ? xstrdup (gs->product_name) : NULL;
  r->variant = gs->product_variant ? xstrdup (gs->product_variant) : NULL;
  r->inspection = guest_inspect_json (gs);
  r->changes = report_changes_json (gs->report);
  r->findings = report_findings_json (gs->report);
  r->blockers = count_unfixed (gs->report, SEV_BLOCKER);
  r->warnings = count_unfixed (gs->report, SEV_WARNING);
}

int
hydrate_guest (struct blob_client *c, struct hydrate_disk *disks, size_t n,
               const struct hydrate_opts *o, struct hydrate_result *r)
{
  struct blob_export *br[64] = { NULL };
  struct disk *gd = NULL;
  size_t ngd = 0;
  struct guest *gs = NULL;
  int ret = -1;

  memset (r, 0, sizeof *r);
  if (n == 0 || n > 64) {
    azp_error ("%zu disks: between 1 and 64", n);
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    struct blob_export_opts bo = {
      .creds_file = o->creds_file, .cacert = o->cacert,
      .lease_id = disks[i].lease_id, .readonly = false,
      .tokens = o->tokens, .allow_http = o->allow_http,
    };
    br[i] = blob_export_start (disks[i].copy, &bo);
    if (!br[i] || disks_add (&gd, &ngd, disks[i].copy, "raw") == -1)
      goto out;
    gd[i].nbd_server = xstrdup (blob_export_server (br[i]));
    gd[i].size = disks[i].blob_size - 512;
    if (!gd[i].nbd_server)
      goto out;
  }
  azp_info ("hydrating through the bridge: launching the appliance");
  gs = guest_open (gd, ngd, o->trace ? GUEST_TRACE : 0);
  if (!gs || guest_inspect (gs) == -1 || guest_mount (gs) == -1)
    goto out;
  if (fixups_apply (gs, o->sel) == -1)
    goto out;
  if (check_rules (gs, o, r) == -1)
    goto out;
  fill_result (gs, r);
  if (r->blockers > 0) {
    for (size_t i = 0; i < gs->report->nfindings; i++) {
      const struct finding *f = &gs->report->findings[i];
      if (f->severity == SEV_BLOCKER && !f->fixup)
        azp_error ("refused: %s%s%s", f->object ? f->object : "",
                   f->object ? ": " : "", f->message);
    }
    goto out;
  }
  if (guest_shutdown (gs) == -1)
    goto out;
  ret = 0;
 out:
  guest_close (gs);
  for (size_t i = 0; i < n; i++)
    if (br[i] && blob_export_stop (br[i], &disks[i].stats) == -1)
      ret = -1;
  disks_free (gd, ngd);
  if (mark_all (c, disks, n, ret == 0 ? "done"
                : r->blockers ? "refused" : "failed", &r->taken_over) == -1)
    ret = -1;
  return ret;
}

void
hydrate_result_free (struct hydrate_result *r)
{
  free (r->distro);
  free (r->product);
  free (r->variant);
  free (r->size);
  cJSON_Delete (r->rules);
  cJSON_Delete (r->inspection);
  cJSON_Delete (r->changes);
  cJSON_Delete (r->findings);
  memset (r, 0, sizeof *r);
}

cJSON *
hydrate_disk_json (const struct hydrate_disk *d)
{
  cJSON *j = cJSON_CreateObject (), *b;

  cJSON_AddStringToObject (j, "replica", d->replica);
  if (d->snapshot)
    cJSON_AddStringToObject (j, "recovery_point", d->snapshot);
  cJSON_AddStringToObject (j, "copy", d->copy ? d->copy : "");
  cJSON_AddNumberToObject (j, "blob_size", d->blob_size);
  b = cJSON_AddObjectToObject (j, "bridge");
  cJSON_AddNumberToObject (b, "bytes_read", d->stats.bytes_read);
  cJSON_AddNumberToObject (b, "reads", d->stats.reads);
  cJSON_AddNumberToObject (b, "bytes_written", d->stats.bytes_written);
  cJSON_AddNumberToObject (b, "writes", d->stats.writes);
  cJSON_AddNumberToObject (b, "client_writes", d->stats.client_writes);
  cJSON_AddNumberToObject (b, "bytes_cleared", d->stats.bytes_cleared);
  cJSON_AddNumberToObject (b, "clears", d->stats.clears);
  return j;
}
