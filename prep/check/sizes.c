/* The Azure VM size table: prep/check/azure-sizes.json, installed as
 * $(PREFIX)/share/azprep/azure-sizes.json; --sizes FILE overrides it.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/sizes.h"

#ifndef AZPREP_DATADIR
#define AZPREP_DATADIR "/usr/local/share/azprep"
#endif

#define SIZES_MAX_FILE (1024 * 1024)

void
sizes_free (struct size_table *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++)
    free (t->sizes[i].name);
  free (t->sizes);
  free (t->source);
  free (t);
}

/* The default table: next to the executable in a source tree
 * (./azprep and prep/check/azure-sizes.json), else the installed one. */
static char *
default_path (void)
{
  char exe[PATH_MAX];
  ssize_t n = readlink ("/proc/self/exe", exe, sizeof exe - 1);

  if (n > 0) {
    char *slash;
    exe[n] = '\0';
    slash = strrchr (exe, '/');
    if (slash) {
      CLEANUP_FREE char *p = NULL;
      *slash = '\0';
      p = xasprintf ("%s/prep/check/azure-sizes.json", exe);
      if (p && access (p, R_OK) == 0)
        return xstrdup (p);
    }
  }
  return xstrdup (AZPREP_DATADIR "/azure-sizes.json");
}

static int
parse_size (struct azure_size *s, const cJSON *o, const char *path,
            size_t i)
{
  const cJSON *name = cJSON_GetObjectItem (o, "name");
  const cJSON *vcpus = cJSON_GetObjectItem (o, "vcpus");
  const cJSON *mem = cJSON_GetObjectItem (o, "memory_gib");
  const cJSON *dd = cJSON_GetObjectItem (o, "max_data_disks");
  const cJSON *gens = cJSON_GetObjectItem (o, "generations");
  const cJSON *g;

  if (!cJSON_IsString (name) || !cJSON_IsNumber (vcpus) ||
      !cJSON_IsNumber (mem) || !cJSON_IsNumber (dd) ||
      !cJSON_IsArray (gens) || vcpus->valuedouble < 1 ||
      mem->valuedouble <= 0 || dd->valuedouble < 0 ||
      vcpus->valuedouble > 10000 || dd->valuedouble > 1000) {
    azp_error ("%s: sizes[%zu]: needs name, vcpus, memory_gib, "
               "max_data_disks and generations", path, i);
    return -1;
  }
  s->name = xstrdup (name->valuestring);
  s->vcpus = vcpus->valueint;
  s->memory_gib = mem->valuedouble;
  s->max_data_disks = dd->valueint;
  cJSON_ArrayForEach (g, gens) {
    if (cJSON_IsNumber (g) && g->valueint == 1)
      s->gen1 = true;
    else if (cJSON_IsNumber (g) && g->valueint == 2)
      s->gen2 = true;
    else {
      azp_error ("%s: sizes[%zu] (%s): generations are 1 and 2", path, i,
                 s->name);
      return -1;
    }
  }
  return s->name ? 0 : -1;
}

struct size_table *
sizes_load (const char *path)
{
  CLEANUP_FREE char *def = path ? NULL : default_path ();
  CLEANUP_FREE char *text = NULL;
  CLEANUP_FCLOSE FILE *fp = NULL;
  struct size_table *t = NULL;
  const cJSON *a, *o;
  CLEANUP_CJSON cJSON *j = NULL;
  size_t len;

  if (!path)
    path = def;
  if (!path)
    return NULL;
  fp = fopen (path, "r");
  if (!fp) {
    azp_error ("%s: cannot read the Azure size table: %m (give one with "
               "--sizes FILE)", path);
    return NULL;
  }
  text = malloc (SIZES_MAX_FILE + 1);
  if (!text) {
    azp_error ("out of memory");
    return NULL;
  }
  len = fread (text, 1, SIZES_MAX_FILE + 1, fp);
  if (len > SIZES_MAX_FILE) {
    azp_error ("%s: larger than %d bytes", path, SIZES_MAX_FILE);
    return NULL;
  }
  text[len] = '\0';
  j = cJSON_Parse (text);
  a = cJSON_GetObjectItem (j, "sizes");
  if (!cJSON_IsArray (a)) {
    azp_error ("%s: not a size table: expected {\"sizes\": [...]}", path);
    goto fail;
  }
  t = calloc (1, sizeof *t);
  if (!t)
    goto oom;
  t->source = xstrdup (path);
  t->sizes = calloc (cJSON_GetArraySize (a) + 1, sizeof *t->sizes);
  if (!t->sizes)
    goto oom;
  cJSON_ArrayForEach (o, a) {
    if (parse_size (&t->sizes[t->n], o, path, t->n) == -1) {
      t->n++;
      goto fail;
    }
    t->n++;
  }
  return t;
 oom:
  azp_error ("out of memory");
 fail:
  sizes_free (t);
  return NULL;
}

const struct azure_size *
sizes_find (const struct size_table *t, const char *name)
{
  for (size_t i = 0; t && i < t->n; i++)
    if (!strcasecmp (t->sizes[i].name, name))
      return &t->sizes[i];
  return NULL;
}

const struct azure_size *
sizes_suggest (const struct size_table *t, int cpus, int64_t memory_mib,
               int generation, int data_disks)
{
  const struct azure_size *best = NULL;

  for (size_t i = 0; t && i < t->n; i++) {
    const struct azure_size *s = &t->sizes[i];
    if (s->vcpus < cpus || s->memory_gib * 1024 < memory_mib ||
        s->max_data_disks < data_disks ||
        (generation == 2 && !s->gen2) || (generation == 1 && !s->gen1))
      continue;
    if (!best || s->vcpus < best->vcpus ||
        (s->vcpus == best->vcpus && s->memory_gib < best->memory_gib))
      best = s;
  }
  return best;
}
