/* windows-vmware-tools: VMware Tools off.  Its services and drivers are
 * disabled (Start = 4), found by name, by an ImagePath under
 * "\VMware\" or by a DisplayName/Description naming VMware.  A VMware
 * filter driver still listed in a device class's UpperFilters or
 * LowerFilters after it is disabled stops the boot with 0x7B, so it is
 * taken out of the list first.  pvscsi stays: it is harmless on Azure
 * and may be the source's boot controller.  Removing the MSI package
 * needs the running guest (a next step of windows-support). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

#define MAX_SERVICES WIN_ROWS_MAX

static const char *const known[] = {
  "VMTools", "VGAuthService", "vm3dservice", "vmvss", "VMUSBArbService",
  "vmci", "vsock", "vmhgfs", "vmmemctl", "vmmouse", "vmusbmouse",
  "vmrawdsk", "vm3dmp", "vm3dmp-debug", "vm3dmp-stats", "vm3dmp_loader",
  "vmxnet3ndis6", "vmkbd", "VMMemCtl", "vnetWFP", "vsepflt", "glxgi",
  NULL
};

struct vmw {
  char *names[MAX_SERVICES];
  size_t n;
};

static void
vmw_free (struct vmw *v)
{
  for (size_t i = 0; i < v->n; i++)
    free (v->names[i]);
  v->n = 0;
}

static bool
is_vmware (const struct vmw *v, const char *name)
{
  for (size_t i = 0; i < v->n; i++)
    if (!strcasecmp (v->names[i], name))
      return true;
  return false;
}

/* Does the service's value name VMware?  1 yes, 0 no, -1 error. */
static int
says_vmware (hive_h *h, hive_node_h node, const char *service,
             const char *value, bool path)
{
  CLEANUP_FREE char *object = xasprintf ("SYSTEM hive: Services\\%s\\%s",
                                         service, value);
  CLEANUP_FREE char *t = NULL;
  struct win_value v;

  if (!object || win_value_get (h, node, value, object, &v) == -1)
    return -1;
  if (v.type == hive_t_REG_SZ || v.type == hive_t_REG_EXPAND_SZ)
    t = win_value_text (&v);
  win_value_free (&v);
  if (!t)
    return 0;
  return path ? strcasestr (t, "\\VMware\\") != NULL
    : strncasecmp (t, "VMware", 6) == 0 || strcasestr (t, " VMware ");
}

/* The VMware services present under Services. */
static int
find_services (hive_h *h, hive_node_h services, struct vmw *v)
{
  CLEANUP_FREE hive_node_h *kids = hivex_node_children (h, services);

  if (!kids) {
    azp_error ("SYSTEM hive: Services: %m");
    return -1;
  }
  for (size_t i = 0; kids[i] && v->n < MAX_SERVICES; i++) {
    char *name = hivex_node_name (h, kids[i]);
    int hit = 0;
    if (!name) {
      azp_error ("SYSTEM hive: Services: %m");
      return -1;
    }
    for (size_t k = 0; known[k] && !hit; k++)
      hit = !strcasecmp (known[k], name);
    if (!strcasecmp (name, "pvscsi"))
      hit = 0;
    else if (!hit) {
      hit = says_vmware (h, kids[i], name, "ImagePath", true);
      if (hit == 0)
        hit = says_vmware (h, kids[i], name, "DisplayName", false);
      if (hit == 0)
        hit = says_vmware (h, kids[i], name, "Description", false);
    }
    if (hit == -1) {
      free (name);
      return -1;
    }
    if (hit)
      v->names[v->n++] = name;
    else
      free (name);
  }
  return 0;
}

/* One filter list value: drop the VMware names. */
static int
filter_value (struct guest *gs, hive_h *h, hive_node_h cls,
              const char *clsname, const char *value, const struct vmw *v,
              bool apply, bool *changed)
{
  CLEANUP_FREE char *path = xasprintf ("Control\\Class\\%s", clsname);
  CLEANUP_FREE char *object = NULL, *before = NULL, *after = NULL;
  CLEANUP_FREE char *copy = NULL;
  const char *keep[64];
  size_t nkeep = 0;
  bool drop = false;
  struct win_value cur;
  char *save = NULL, *tok;

  if (!path || !(object = win_object (gs, HIVE_SYSTEM, path, value)))
    return -1;
  if (win_value_get (h, cls, value, object, &cur) == -1)
    return -1;
  if (cur.present && cur.type == hive_t_REG_MULTI_SZ)
    before = win_value_text (&cur);
  win_value_free (&cur);
  if (!before)
    return 0;
  copy = xstrdup (before);
  for (tok = strtok_r (copy, ";", &save); tok && nkeep < 64;
       tok = strtok_r (NULL, ";", &save)) {
    if (is_vmware (v, tok))
      drop = true;
    else
      keep[nkeep++] = tok;
  }
  if (!drop)
    return 0;
  if (!apply)
    return report_finding (gs->report, SEV_WARNING, "windows-vmware-filter",
                           object, NULL, true, "VMware filter driver in "
                           "%s (0x7B at boot once it is disabled): %s",
                           value, before);
  if (nkeep == 0) {
    if (win_value_delete (h, cls, value, object) == -1)
      return -1;
  }
  else {
    size_t len;
    CLEANUP_FREE char *data = win_utf16 (keep, nkeep, true, &len);
    struct win_value w = { 0 };
    if (!data || win_value_set (h, cls, value, hive_t_REG_MULTI_SZ, data,
                                len, object) == -1)
      return -1;
    w.present = true; w.type = hive_t_REG_MULTI_SZ; w.data = data;
    w.len = len;
    after = win_value_text (&w);
  }
  *changed = true;
  return report_change (gs->report, "registry", object, before, after);
}

/* The VMware services present: under the control set's Services, in
 * the SYSTEM hive opened as h.  0 or -1 (reported). */
static int
services_of (struct guest *gs, hive_h *h, struct vmw *v)
{
  int64_t base = win_table_base (gs, h, HIVE_SYSTEM);
  int64_t services = base == -1 ? -1 : win_key_lookup (h, "SYSTEM", base,
                                                        "Services");

  if (services == 0)
    azp_error ("SYSTEM hive: no key %s\\Services",
               gs->windows_current_control_set);
  if (services <= 0)
    return -1;
  return find_services (h, services, v);
}

/* The table: Start = 4 for every VMware service found. */
static int
service_rows (struct guest *gs, struct win_rows *t)
{
  CLEANUP_HIVE_CLOSE hive_h *h = win_hive_open (gs, HIVE_SYSTEM, false);
  struct vmw v = { .n = 0 };

  t->n = 0;
  if (!h || services_of (gs, h, &v) == -1) {
    vmw_free (&v);
    return -1;
  }
  for (size_t i = 0; i < v.n; i++) {
    snprintf (t->path[i], sizeof t->path[i], "Services\\%s", v.names[i]);
    t->r[i] = (struct win_reg) {
      "windows-vmware-service", HIVE_SYSTEM, t->path[i], "Start", WIN_DWORD,
      4, .flags = WIN_IF_KEY, .why = "VMware Tools service or driver",
    };
  }
  t->n = v.n;
  vmw_free (&v);
  return 0;
}

static const struct win_table table = { "windows-vmware-tools",
                                        .build = service_rows };
WIN_TABLE (table);

static int
run (struct guest *gs, bool apply)
{
  CLEANUP_HIVE_CLOSE hive_h *h = win_hive_open (gs, HIVE_SYSTEM, apply);
  struct vmw v = { .n = 0 };
  struct win_rows t;
  CLEANUP_FREE hive_node_h *classes = NULL;
  int64_t base, cls;
  bool changed = false;
  int ret = -1;

  if (!h || services_of (gs, h, &v) == -1)
    goto out;
  base = win_table_base (gs, h, HIVE_SYSTEM);
  cls = base == -1 ? -1 : win_key_lookup (h, "SYSTEM", base,
                                          "Control\\Class");
  if (cls == -1)
    goto out;
  /* Filters first: a disabled driver must not stay in a list. */
  if (cls > 0) {
    classes = hivex_node_children (h, cls);
    if (!classes) {
      azp_error ("SYSTEM hive: Control\\Class: %m");
      goto out;
    }
    for (size_t i = 0; classes[i]; i++) {
      CLEANUP_FREE char *name = hivex_node_name (h, classes[i]);
      if (!name
          || filter_value (gs, h, classes[i], name, "UpperFilters", &v,
                           apply, &changed) == -1
          || filter_value (gs, h, classes[i], name, "LowerFilters", &v,
                           apply, &changed) == -1)
        goto out;
    }
  }
  {
    /* Closed before the table opens the hive again. */
    int r = 0;
    if (changed)
      r = win_hive_commit (gs, HIVE_SYSTEM, win_hive_take (&h));
    else
      hivex_close (win_hive_take (&h));
    if (r == -1)
      goto out;
  }

  /* Then Start = 4, declaratively. */
  if (service_rows (gs, &t) == -1)
    goto out;
  ret = apply ? win_table_apply (gs, t.r, t.n)
    : win_table_check (gs, t.r, t.n);
 out:
  vmw_free (&v);
  return ret;
}

static const struct fixup windows_vmware_tools = {
  .name = "windows-vmware-tools",
  .heading = "VMware Tools services and drivers off, filters removed",
  .order = 400,
  .guests = FIXUP_WINDOWS,
  .applies = win_not_refused,
  .run = run,
};
FIXUP (windows_vmware_tools);
