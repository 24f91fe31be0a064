/* The replication journal: struct journal <-> JSON (cJSON). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "replicate/engine/journal.h"

#define JOURNAL_VERSION 1

static void
jdisk_free (struct jdisk *d)
{
  free (d->source);
  free (d->format);
  free (d->blob);
  free (d->lease);
  free (d->bitmap);
  free (d->manifest);
  free (d->state);
  free (d->error);
  free (d->change_id);
  free (d->cycle_change_id);
  rangelist_free (&d->done);
  free_string_list (d->snapshots);
}

void
journal_free (struct journal *j)
{
  for (size_t i = 0; i < j->ndisks; i++)
    jdisk_free (&j->disks[i]);
  free (j->disks);
  free (j->path);
  free (j->name);
  free (j->host);
  memset (j, 0, sizeof *j);
}

struct jdisk *
journal_add_disk (struct journal *j)
{
  struct jdisk *nd = realloc (j->disks, (j->ndisks + 1) * sizeof *nd);
  if (!nd) {
    azp_error ("out of memory");
    return NULL;
  }
  j->disks = nd;
  memset (&nd[j->ndisks], 0, sizeof *nd);
  nd[j->ndisks].snapshots = calloc (1, sizeof (char *));
  if (!nd[j->ndisks].snapshots) {
    azp_error ("out of memory");
    return NULL;
  }
  return &nd[j->ndisks++];
}

/* Numbers: cJSON keeps doubles, exact up to 2^53 (8 PiB), enough. */
static int
add_u64 (cJSON *o, const char *k, uint64_t v)
{
  return cJSON_AddNumberToObject (o, k, (double) v) ? 0 : -1;
}

static int
add_str (cJSON *o, const char *k, const char *v)
{
  return (v ? cJSON_AddStringToObject (o, k, v)
          : cJSON_AddNullToObject (o, k)) ? 0 : -1;
}

static cJSON *
disk_to_json (const struct jdisk *d)
{
  cJSON *o = cJSON_CreateObject (), *done, *snaps;
  char uuid[33];

  if (!o)
    return NULL;
  for (int i = 0; i < 16; i++)
    snprintf (uuid + 2 * i, 3, "%02x", d->uuid[i]);
  if (add_str (o, "source", d->source) || add_str (o, "format", d->format) ||
      add_str (o, "blob", d->blob) ||
      !cJSON_AddBoolToObject (o, "managed", d->managed) ||
      add_u64 (o, "size", d->size) || add_str (o, "lease", d->lease) ||
      add_str (o, "bitmap", d->bitmap) ||
      add_str (o, "manifest", d->manifest) || add_str (o, "uuid", uuid) ||
      add_str (o, "state", d->state) || add_u64 (o, "cycles", d->cycles) ||
      !cJSON_AddBoolToObject (o, "open", d->open) ||
      add_u64 (o, "bytes_sent", d->bytes_sent) ||
      add_u64 (o, "cycle_bytes", d->cycle_bytes) ||
      !cJSON_AddNumberToObject (o, "cycle_seconds", d->cycle_seconds) ||
      add_u64 (o, "last_end", d->last_end) ||
      add_str (o, "error", d->error) ||
      add_str (o, "change_id", d->change_id) ||
      add_str (o, "cycle_change_id", d->cycle_change_id))
    goto fail;
  done = cJSON_AddArrayToObject (o, "done");
  snaps = cJSON_AddArrayToObject (o, "snapshots");
  if (!done || !snaps)
    goto fail;
  for (size_t i = 0; i < d->done.n; i++) {
    cJSON *r = cJSON_CreateArray ();
    if (!r)
      goto fail;
    cJSON_AddItemToArray (done, r);
    if (!cJSON_AddItemToArray (r, cJSON_CreateNumber (d->done.r[i].start)) ||
        !cJSON_AddItemToArray (r, cJSON_CreateNumber (d->done.r[i].end)))
      goto fail;
  }
  for (size_t i = 0; d->snapshots && d->snapshots[i]; i++)
    if (!cJSON_AddItemToArray (snaps, cJSON_CreateString (d->snapshots[i])))
      goto fail;
  return o;
 fail:
  cJSON_Delete (o);
  return NULL;
}

int
journal_save (const struct journal *j)
{
  CLEANUP_CJSON cJSON *o = cJSON_CreateObject ();
  cJSON *disks;
  CLEANUP_FREE char *s = NULL;

  if (!o)
    goto oom;
  if (add_u64 (o, "version", JOURNAL_VERSION) || add_str (o, "name", j->name)
      || add_u64 (o, "created", j->created) ||
      add_u64 (o, "next_cycle", j->next_cycle) ||
      (j->host && add_str (o, "host", j->host)) ||
      !(disks = cJSON_AddArrayToObject (o, "disks")))
    goto oom;
  for (size_t i = 0; i < j->ndisks; i++) {
    cJSON *d = disk_to_json (&j->disks[i]);
    if (!d)
      goto oom;
    cJSON_AddItemToArray (disks, d);
  }
  s = cJSON_Print (o);
  if (!s)
    goto oom;
  if (write_file_atomic (j->path, s, strlen (s)) == -1)
    return -1;
  return j->sink ? j->sink (j->sink_opaque, s, strlen (s)) : 0;
 oom:
  azp_error ("%s: out of memory writing the journal", j->path);
  return -1;
}

/* Typed getters; *bad is set on a type mismatch. */
static char *
get_str (cJSON *o, const char *k, bool *bad)
{
  cJSON *v = cJSON_GetObjectItemCaseSensitive (o, k);
  char *s;
  if (!v || cJSON_IsNull (v))
    return NULL;
  if (!cJSON_IsString (v) || strlen (v->valuestring) > 4096) {
    *bad = true;
    return NULL;
  }
  s = strdup (v->valuestring);
  if (!s)
    *bad = true;
  return s;
}

static uint64_t
get_u64 (cJSON *o, const char *k, bool *bad)
{
  cJSON *v = cJSON_GetObjectItemCaseSensitive (o, k);
  if (!v)
    return 0;
  if (!cJSON_IsNumber (v) || v->valuedouble < 0 || v->valuedouble > 9.0e15) {
    *bad = true;
    return 0;
  }
  return (uint64_t) v->valuedouble;
}

static bool
get_bool (cJSON *o, const char *k, bool *bad)
{
  cJSON *v = cJSON_GetObjectItemCaseSensitive (o, k);
  if (!v)
    return false;
  if (!cJSON_IsBool (v))
    *bad = true;
  return cJSON_IsTrue (v);
}

static int
disk_from_json (struct jdisk *d, cJSON *o)
{
  bool bad = false;
  cJSON *done, *snaps, *e;
  CLEANUP_FREE char *uuid = NULL;
  size_t n = 0;

  if (!cJSON_IsObject (o))
    return -1;
  d->source = get_str (o, "source", &bad);
  d->format = get_str (o, "format", &bad);
  d->blob = get_str (o, "blob", &bad);
  d->managed = get_bool (o, "managed", &bad);
  d->size = get_u64 (o, "size", &bad);
  d->lease = get_str (o, "lease", &bad);
  d->bitmap = get_str (o, "bitmap", &bad);
  d->manifest = get_str (o, "manifest", &bad);
  uuid = get_str (o, "uuid", &bad);
  d->state = get_str (o, "state", &bad);
  d->cycles = get_u64 (o, "cycles", &bad);
  d->open = get_bool (o, "open", &bad);
  d->bytes_sent = get_u64 (o, "bytes_sent", &bad);
  d->cycle_bytes = get_u64 (o, "cycle_bytes", &bad);
  d->change_id = get_str (o, "change_id", &bad);
  d->cycle_change_id = get_str (o, "cycle_change_id", &bad);
  {
    cJSON *v = cJSON_GetObjectItemCaseSensitive (o, "cycle_seconds");
    d->cycle_seconds = cJSON_IsNumber (v) && v->valuedouble >= 0
      ? v->valuedouble : 0;
  }
  d->last_end = get_u64 (o, "last_end", &bad);
  d->error = get_str (o, "error", &bad);
  if (bad || !d->source || !d->blob || !d->state || !d->manifest ||
      !uuid || strlen (uuid) != 32 || d->size == 0 ||
      d->size % (1024 * 1024) != 0 || strchr (d->manifest, '/'))
    return -1;
  for (int i = 0; i < 16; i++) {
    unsigned v;
    if (sscanf (uuid + 2 * i, "%2x", &v) != 1)
      return -1;
    d->uuid[i] = v;
  }
  done = cJSON_GetObjectItemCaseSensitive (o, "done");
  cJSON_ArrayForEach (e, done) {
    cJSON *s = cJSON_GetArrayItem (e, 0), *en = cJSON_GetArrayItem (e, 1);
    if (!cJSON_IsNumber (s) || !cJSON_IsNumber (en) || s->valuedouble < 0 ||
        en->valuedouble < s->valuedouble ||
        en->valuedouble > (double) d->size ||
        rangelist_add (&d->done, s->valuedouble, en->valuedouble) == -1)
      return -1;
  }
  rangelist_normalize (&d->done);
  snaps = cJSON_GetObjectItemCaseSensitive (o, "snapshots");
  free_string_list (d->snapshots);
  d->snapshots = calloc (cJSON_GetArraySize (snaps) + 1, sizeof (char *));
  if (!d->snapshots)
    return -1;
  cJSON_ArrayForEach (e, snaps) {
    if (!cJSON_IsString (e) || strlen (e->valuestring) > 64 ||
        !(d->snapshots[n++] = strdup (e->valuestring)))
      return -1;
  }
  return 0;
}

int
journal_parse (struct journal *j, const char *path, const char *buf,
               size_t len)
{
  cJSON *o = NULL, *disks, *e;
  bool bad = false;

  o = cJSON_ParseWithLength (buf, len);
  if (!o || !cJSON_IsObject (o) ||
      get_u64 (o, "version", &bad) != JOURNAL_VERSION) {
    azp_error ("journal %s: not a version %d azprep replication journal "
               "(move it away to start over)", path, JOURNAL_VERSION);
    cJSON_Delete (o);
    return -1;
  }
  j->name = get_str (o, "name", &bad);
  j->host = get_str (o, "host", &bad);
  j->created = get_u64 (o, "created", &bad);
  j->next_cycle = get_u64 (o, "next_cycle", &bad);
  disks = cJSON_GetObjectItemCaseSensitive (o, "disks");
  if (!cJSON_IsArray (disks) || cJSON_GetArraySize (disks) > 64)
    bad = true;
  cJSON_ArrayForEach (e, disks) {
    struct jdisk *d = bad ? NULL : journal_add_disk (j);
    if (!d || disk_from_json (d, e) == -1) {
      bad = true;
      break;
    }
  }
  cJSON_Delete (o);
  if (bad || !j->name) {
    azp_error ("journal %s: malformed (move it away to start over)", path);
    return -1;
  }
  return 0;
}

int
journal_load (struct journal *j, const char *path, bool *exists)
{
  CLEANUP_CLOSE int fd = -1;
  CLEANUP_FREE char *buf = NULL;
  struct stat st;
  size_t len = 0;

  memset (j, 0, sizeof *j);
  *exists = false;
  j->path = xstrdup (path);
  if (!j->path)
    return -1;
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    if (errno == ENOENT)
      return 0;
    azp_error ("journal %s: %m", path);
    return -1;
  }
  if (fstat (fd, &st) == -1 || st.st_size > JOURNAL_MAX) {
    azp_error ("journal %s: too large or unreadable", path);
    return -1;
  }
  buf = malloc (st.st_size + 1);
  if (!buf)
    return -1;
  while (len < (size_t) st.st_size) {
    ssize_t r = read (fd, buf + len, st.st_size - len);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0) {
      azp_error ("journal %s: read: %m", path);
      return -1;
    }
    len += r;
  }
  buf[len] = '\0';
  *exists = true;
  return journal_parse (j, path, buf, len);
}
