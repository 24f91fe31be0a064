/* VM descriptors, the parts OVF and .vmx share: reading a bounded
 * file, relative disk paths, freeing, JSON. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "prep/common/common.h"
#include "prep/check/desc/desc.h"

char *
desc_slurp (const char *path, size_t *len_r)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "r");
  struct stat st;
  char *buf;
  size_t len;

  if (!fp) {
    azp_error ("%s: %m", path);
    return NULL;
  }
  if (fstat (fileno (fp), &st) == -1 || !S_ISREG (st.st_mode)) {
    azp_error ("%s: not a regular file", path);
    return NULL;
  }
  if (st.st_size > DESC_MAX_SIZE) {
    azp_error ("%s: descriptor larger than %d bytes: refused", path,
               DESC_MAX_SIZE);
    return NULL;
  }
  buf = malloc (DESC_MAX_SIZE + 1);
  if (!buf) {
    azp_error ("out of memory");
    return NULL;
  }
  len = fread (buf, 1, DESC_MAX_SIZE + 1, fp);
  if (len > DESC_MAX_SIZE) {
    azp_error ("%s: descriptor larger than %d bytes: refused", path,
               DESC_MAX_SIZE);
    free (buf);
    return NULL;
  }
  buf[len] = '\0';
  if (len_r)
    *len_r = len;
  return buf;
}

bool
desc_safe_relative (const char *p)
{
  const char *s = p;

  if (!*p || *p == '/' || strlen (p) > 4096)
    return false;
  while (*s) {
    size_t n = strcspn (s, "/");
    if (n == 2 && !strncmp (s, "..", 2))
      return false;
    s += n;
    if (*s == '/')
      s++;
  }
  return true;
}

int
desc_add_disk (struct vm_desc *d, const char *dir, const char *file,
               int64_t capacity)
{
  char **nd;
  int64_t *nc;

  nd = realloc (d->disks, (d->ndisks + 2) * sizeof *nd);
  if (!nd)
    goto oom;
  d->disks = nd;
  nc = realloc (d->capacity, (d->ndisks + 1) * sizeof *nc);
  if (!nc)
    goto oom;
  d->capacity = nc;
  if (file[0] == '/')
    nd[d->ndisks] = xstrdup (file);
  else
    nd[d->ndisks] = xasprintf ("%s/%s", dir, file);
  if (!nd[d->ndisks])
    return -1;
  nc[d->ndisks] = capacity;
  d->ndisks++;
  nd[d->ndisks] = NULL;
  return 0;
 oom:
  azp_error ("out of memory");
  return -1;
}

struct vm_desc *
desc_new (const char *kind, const char *source)
{
  struct vm_desc *d = calloc (1, sizeof *d);
  if (!d) {
    azp_error ("out of memory");
    return NULL;
  }
  d->kind = xstrdup (kind);
  d->source = xstrdup (source);
  d->disks = calloc (1, sizeof *d->disks);
  return d;
}

char *
desc_dirname (const char *path)
{
  const char *slash = strrchr (path, '/');
  if (!slash)
    return xstrdup (".");
  if (slash == path)
    return xstrdup ("/");
  return strndup (path, slash - path);
}

void
desc_free (struct vm_desc *d)
{
  if (!d)
    return;
  ova_stop (d);
  free (d->kind); free (d->source); free (d->name);
  free_string_list (d->disks);
  free (d->capacity);
  free (d->guest_os);
  free (d);
}

cJSON *
desc_json (const struct vm_desc *d)
{
  cJSON *j = cJSON_CreateObject ();
  cJSON *disks = cJSON_AddArrayToObject (j, "disks");

  cJSON_AddStringToObject (j, "kind", d->kind);
  cJSON_AddStringToObject (j, "source", d->source);
  if (d->name)
    cJSON_AddStringToObject (j, "name", d->name);
  else
    cJSON_AddNullToObject (j, "name");
  for (size_t i = 0; i < d->ndisks; i++) {
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddStringToObject (o, "path", d->disks[i]);
    if (d->capacity[i] >= 0)
      cJSON_AddNumberToObject (o, "capacity", (double) d->capacity[i]);
    else
      cJSON_AddNullToObject (o, "capacity");
    cJSON_AddItemToArray (disks, o);
  }
  cJSON_AddStringToObject (j, "firmware",
                           d->firmware == FIRMWARE_UEFI ? "efi"
                           : d->firmware == FIRMWARE_BIOS ? "bios"
                           : "unknown");
  cJSON_AddNumberToObject (j, "cpus", d->cpus);
  cJSON_AddNumberToObject (j, "memory_mib", (double) d->memory_mib);
  cJSON_AddNumberToObject (j, "nics", d->nics);
  if (d->guest_os)
    cJSON_AddStringToObject (j, "guest_os", d->guest_os);
  else
    cJSON_AddNullToObject (j, "guest_os");
  cJSON_AddBoolToObject (j, "secure_boot", d->secure_boot);
  cJSON_AddBoolToObject (j, "vtpm", d->vtpm);
  return j;
}
