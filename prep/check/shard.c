/* Fleets over several machines: the part of a fleet one machine checks
 * (a shard, or one VM by its index, as Slurm and Kubernetes array tasks
 * pick it), and the reports of the parts merged into the report one
 * machine checking the whole fleet writes.
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/vm.h"

#define SHARD_MAX_REPORT (256 * 1024 * 1024)

int
fleet_parse_shard (const char *s, int64_t *index, int64_t *count)
{
  CLEANUP_FREE char *i = xstrdup (s);
  char *slash = i ? strchr (i, '/') : NULL;

  if (!slash)
    return -1;
  *slash = '\0';
  if (parse_int64 (i, index) == -1 || parse_int64 (slash + 1, count) == -1 ||
      *count < 1 || *count > 100000 || *index < 0 || *index >= *count)
    return -1;
  return 0;
}

size_t
fleet_select (struct fleet_vm *vms, size_t n, int64_t index, int64_t count)
{
  size_t k = 0;

  /* Every count-th VM from index: shards of nearly the same size, the
   * VMs of one part of the list spread over all of them. */
  for (size_t i = 0; i < n; i++) {
    if ((int64_t) (i % count) == index) {
      struct fleet_vm t = vms[k];
      vms[k++] = vms[i];
      vms[i] = t;
    }
  }
  return k;
}

/* The VM objects of one report file (the JSON "azprep check --json"
 * prints), detached into out.  -1 (reported) if it is not one. */
static int
read_report (const char *path, cJSON *out)
{
  CLEANUP_FREE char *text = NULL;
  size_t len;
  cJSON *j, *vms, *vm;
  int ret = -1;

  text = fleet_read_text (path, SHARD_MAX_REPORT, &len);
  if (!text)
    return -1;
  j = cJSON_ParseWithLength (text, len);
  vms = cJSON_GetObjectItem (j, "vms");
  if (!cJSON_IsObject (j) || !cJSON_IsArray (vms) ||
      !cJSON_IsNumber (cJSON_GetObjectItem (j, "schema")) ||
      cJSON_GetObjectItem (j, "schema")->valuedouble != 1) {
    azp_error ("%s: not a report of 'azprep check --json' (schema 1)", path);
    goto out;
  }
  cJSON_ArrayForEach (vm, vms) {
    const char *name = json_str (vm, "name");
    const char *verdict = json_str (vm, "verdict");
    if (!cJSON_IsObject (vm) || !name || !*name || !verdict ||
        verdict_exit (verdict) < 0) {
      azp_error ("%s: a VM without a name or a known verdict", path);
      goto out;
    }
    for (cJSON *o = out->child; o; o = o->next)
      if (!strcmp (json_str (o, "name"), name)) {
        azp_error ("%s: VM %s is in two reports", path, name);
        goto out;
      }
  }
  while (cJSON_GetArraySize (vms) > 0)
    cJSON_AddItemToArray (out, cJSON_DetachItemFromArray (vms, 0));
  ret = 0;
 out:
  cJSON_Delete (j);
  return ret;
}

cJSON *
fleet_merge (char *const *files, size_t nfiles, const struct fleet_vm *fleet,
             size_t n)
{
  cJSON *all = cJSON_CreateArray (), *ordered;

  if (!all)
    return NULL;
  for (size_t i = 0; i < nfiles; i++)
    if (read_report (files[i], all) == -1) {
      cJSON_Delete (all);
      return NULL;
    }
  if (!fleet)
    return all;
  /* In the fleet's order, as one machine checking it reports them. */
  ordered = cJSON_CreateArray ();
  for (size_t i = 0; ordered && i < n; i++) {
    cJSON *vm = NULL;
    int k = 0;
    for (cJSON *o = all->child; o; o = o->next, k++)
      if (!strcmp (json_str (o, "name"), fleet[i].name)) {
        vm = cJSON_DetachItemFromArray (all, k);
        break;
      }
    cJSON_AddItemToArray (ordered, vm ? vm
                          : check_vm_error (fleet[i].name,
                                            "not checked: in no shard's "
                                            "report"));
  }
  if (ordered && cJSON_GetArraySize (all) > 0) {
    azp_error ("VM %s: in a report but not in the fleet",
               json_str (all->child, "name"));
    cJSON_Delete (ordered);
    ordered = NULL;
  }
  cJSON_Delete (all);
  return ordered;
}
