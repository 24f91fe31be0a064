/* The "windows" section of azprep inspect: what the Windows fixups look
 * at, read-only.  Values that are absent (or unreadable) are null. */
#include <string.h>

#include "prep/common/common.h"
#include "windows/windows.h"

static void
add_dword (cJSON *o, const char *k, hive_h *h, const char *hive,
           int64_t base, const char *path, const char *value)
{
  uint32_t d;

  if (h && base > 0 && win_get_dword (h, hive, base, path, value, &d) == 0)
    cJSON_AddNumberToObject (o, k, d);
  else
    cJSON_AddNullToObject (o, k);
}

/* A string or null. */
#define add_str(o, k, v) \
  cJSON_AddItemToObject ((o), (k), (v) ? cJSON_CreateString (v) \
                                       : cJSON_CreateNull ())

static const char *const drivers[] = { "vmbus", "storvsc", "storflt",
                                       "intelide", "atapi", NULL };

static void
storage_drivers (struct guest *gs, cJSON *w, hive_h *h, int64_t cs)
{
  cJSON *a = cJSON_AddArrayToObject (w, "storage_drivers");

  for (size_t i = 0; drivers[i]; i++) {
    cJSON *d = cJSON_CreateObject ();
    CLEANUP_FREE char *key = xasprintf ("Services\\%s", drivers[i]);
    CLEANUP_FREE char *ovr = xasprintf ("Services\\%s\\StartOverride",
                                        drivers[i]);
    CLEANUP_FREE char *sys = xasprintf ("%s/System32/drivers/%s.sys",
                                        gs->windows_systemroot, drivers[i]);
    CLEANUP_FREE char *real = NULL;

    cJSON_AddStringToObject (d, "name", drivers[i]);
    add_dword (d, "start", h, "SYSTEM", cs, key, "Start");
    cJSON_AddBoolToObject (d, "start_override",
                           h && cs > 0 && ovr
                           && win_key_lookup (h, "SYSTEM", cs, ovr) > 0);
    guestfs_push_error_handler (gs->g, NULL, NULL);
    real = sys ? guestfs_case_sensitive_path (gs->g, sys) : NULL;
    cJSON_AddBoolToObject (d, "sys_present",
                           real && guestfs_is_file (gs->g, real) == 1);
    guestfs_pop_error_handler (gs->g);
    cJSON_AddItemToArray (a, d);
  }
}

static void
bcd (struct guest *gs, cJSON *w)
{
  cJSON *b = cJSON_AddObjectToObject (w, "bcd");
  struct windows_state *st = win_data (gs);
  CLEANUP_HIVE_CLOSE hive_h *h = NULL;
  int64_t def = 0;
  struct win_value v = { 0 };
  CLEANUP_FREE char *loader = NULL;

  if (win_bcd_locate (gs) != 0) {
    cJSON_AddNullToObject (b, "path");
    return;
  }
  add_str (b, "device", st->bcd_device ? st->bcd_device : gs->root);
  add_str (b, "path", st->bcd_path);
  h = win_hive_open (gs, HIVE_BCD, false);
  if (h)
    def = win_key_lookup (h, "BCD", hivex_root (h), "Objects\\" WIN_BOOTMGR
                          "\\Elements\\23000003");
  if (def > 0 && win_value_get (h, def, "Element", "BCD default", &v) == 0
      && v.present && v.type == hive_t_REG_SZ)
    loader = win_value_text (&v);
  win_value_free (&v);
  add_str (b, "default_loader", loader);
  if (h && loader) {
    CLEANUP_FREE char *k = xasprintf ("Objects\\%s\\Elements\\260000b0",
                                      loader);
    int64_t e = k ? win_key_lookup (h, "BCD", hivex_root (h), k) : -1;
    bool ems = false;
    if (e > 0 && win_value_get (h, e, "Element", "BCD ems", &v) == 0)
      ems = v.present && v.len >= 1 && v.data[0] == 1;
    win_value_free (&v);
    cJSON_AddBoolToObject (b, "ems", ems);
  }
}

int
inspect_windows_json (struct guest *gs, cJSON *o)
{
  cJSON *w = cJSON_AddObjectToObject (o, "windows"), *x;
  struct windows_state *st = win_state (gs);
  hive_h *sys = NULL, *soft = NULL;
  int64_t cs = -1;
  const char *hib;

  if (!w || !st)
    return -1;
  add_str (w, "systemroot", gs->windows_systemroot);
  add_str (w, "control_set", gs->windows_current_control_set);
  x = cJSON_AddObjectToObject (w, "hives");
  add_str (x, "system", gs->windows_system_hive);
  add_str (x, "software", gs->windows_software_hive);

  /* A bad hive is reported by fix; inspection shows what it can. */
  sys = win_hive_open (gs, HIVE_SYSTEM, false);
  if (sys)
    cs = win_table_base (gs, sys, HIVE_SYSTEM);
  soft = win_hive_open (gs, HIVE_SOFTWARE, false);
  cJSON_AddBoolToObject (x, "system_clean",
                         sys && !st->hives[HIVE_SYSTEM].dirty_header);
  cJSON_AddBoolToObject (x, "software_clean",
                         soft && !st->hives[HIVE_SOFTWARE].dirty_header);

  storage_drivers (gs, w, sys, cs);
  add_dword (w, "san_policy", sys, "SYSTEM", cs,
             "Services\\partmgr\\Parameters", "SanPolicy");

  x = cJSON_AddObjectToObject (w, "rdp");
  add_dword (x, "deny_connections", sys, "SYSTEM", cs,
             "Control\\Terminal Server", "fDenyTSConnections");
  add_dword (x, "policy_deny_connections", soft, "SOFTWARE",
             soft ? hivex_root (soft) : 0,
             "Policies\\Microsoft\\Windows NT\\Terminal Services",
             "fDenyTSConnections");
  add_dword (x, "port", sys, "SYSTEM", cs,
             "Control\\Terminal Server\\WinStations\\RDP-Tcp",
             "PortNumber");
  add_dword (x, "nla", sys, "SYSTEM", cs,
             "Control\\Terminal Server\\WinStations\\RDP-Tcp",
             "UserAuthentication");
  add_dword (x, "termservice_start", sys, "SYSTEM", cs,
             "Services\\TermService", "Start");

  x = cJSON_AddObjectToObject (w, "hibernation");
  hib = win_hiberfil_state (gs, NULL);
  cJSON_AddStringToObject (x, "hiberfil", hib);
  add_dword (x, "fast_startup", sys, "SYSTEM", cs,
             "Control\\Session Manager\\Power", "HiberbootEnabled");
  add_dword (x, "hibernate_enabled", sys, "SYSTEM", cs,
             "Control\\Power", "HibernateEnabled");
  if (sys)
    hivex_close (sys);
  if (soft)
    hivex_close (soft);

  bcd (gs, w);
  return 0;
}
