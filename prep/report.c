/* Findings and changes (see report.h). */
#include <stdarg.h>
#include <string.h>

#include "prep/common/json.h"
#include "prep/common/common.h"
#include "prep/report.h"

struct report *
report_new (void)
{
  struct report *r = calloc (1, sizeof *r);
  if (!r)
    azp_error ("out of memory");
  return r;
}

void
report_free (struct report *r)
{
  if (!r)
    return;
  for (size_t i = 0; i < r->nfindings; i++) {
    struct finding *f = &r->findings[i];
    free (f->id); free (f->fixup); free (f->object);
    free (f->message); free (f->remedy);
  }
  for (size_t i = 0; i < r->nchanges; i++) {
    struct change *c = &r->changes[i];
    free (c->fixup); free (c->kind); free (c->object);
    free (c->before); free (c->after);
  }
  free (r->findings);
  free (r->changes);
  free (r);
}

static char *
dup_or_null (const char *s)
{
  return s ? strdup (s) : NULL;
}

int
report_finding (struct report *r, enum severity sev, const char *id,
                const char *object, const char *remedy, bool fixable,
                const char *fmt, ...)
{
  struct finding *nf, *f;
  va_list ap;
  char *msg;
  int ret;

  va_start (ap, fmt);
  ret = vasprintf (&msg, fmt, ap);
  va_end (ap);
  if (ret < 0)
    goto oom;
  nf = realloc (r->findings, (r->nfindings + 1) * sizeof *nf);
  if (!nf) {
    free (msg);
    goto oom;
  }
  r->findings = nf;
  f = &r->findings[r->nfindings++];
  f->id = strdup (id);
  f->severity = sev;
  f->fixup = fixable && r->current_fixup ? strdup (r->current_fixup) : NULL;
  f->object = dup_or_null (object);
  f->message = msg;
  f->remedy = dup_or_null (remedy);
  azp_debug ("finding %s [%s] %s: %s", id, severity_name (sev),
             object ? object : "-", msg);
  return 0;
 oom:
  azp_error ("out of memory");
  return -1;
}

int
report_change (struct report *r, const char *kind, const char *object,
               const char *before, const char *after)
{
  struct change *nc, *c;

  nc = realloc (r->changes, (r->nchanges + 1) * sizeof *nc);
  if (!nc) {
    azp_error ("out of memory");
    return -1;
  }
  r->changes = nc;
  c = &r->changes[r->nchanges++];
  c->fixup = dup_or_null (r->current_fixup);
  c->kind = strdup (kind);
  c->object = strdup (object);
  c->before = dup_or_null (before);
  c->after = dup_or_null (after);
  azp_debug ("change %s %s", kind, object);
  return 0;
}

size_t
report_count (const struct report *r, enum severity sev)
{
  size_t n = 0;
  for (size_t i = 0; i < r->nfindings; i++)
    if (r->findings[i].severity == sev)
      n++;
  return n;
}

size_t
report_count_fixable (const struct report *r)
{
  size_t n = 0;
  for (size_t i = 0; i < r->nfindings; i++)
    if (r->findings[i].fixup)
      n++;
  return n;
}

const char *
severity_name (enum severity s)
{
  switch (s) {
  case SEV_BLOCKER: return "blocker";
  case SEV_WARNING: return "warning";
  case SEV_INFO: return "info";
  }
  return "?";
}


cJSON *
report_findings_json (const struct report *r)
{
  cJSON *a = cJSON_CreateArray ();
  for (size_t i = 0; a && i < r->nfindings; i++) {
    const struct finding *f = &r->findings[i];
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddStringToObject (o, "id", f->id);
    cJSON_AddStringToObject (o, "severity", severity_name (f->severity));
    json_add_str (o, "object", f->object);
    cJSON_AddStringToObject (o, "message", f->message);
    json_add_str (o, "remedy", f->remedy);
    cJSON_AddBoolToObject (o, "fixable", f->fixup != NULL);
    json_add_str (o, "fixup", f->fixup);
    cJSON_AddItemToArray (a, o);
  }
  return a;
}

cJSON *
report_changes_json (const struct report *r)
{
  cJSON *a = cJSON_CreateArray ();
  for (size_t i = 0; a && i < r->nchanges; i++) {
    const struct change *c = &r->changes[i];
    cJSON *o = cJSON_CreateObject ();
    json_add_str (o, "fixup", c->fixup);
    cJSON_AddStringToObject (o, "kind", c->kind);
    cJSON_AddStringToObject (o, "object", c->object);
    json_add_str (o, "before", c->before);
    json_add_str (o, "after", c->after);
    cJSON_AddItemToArray (a, o);
  }
  return a;
}
