/* windows-boot-drivers: the Hyper-V storage drivers start at boot.  A
 * VMware-born guest has storvsc at Start=3, often with a StartOverride
 * that wins over Start; Azure then stops with 0x7B.  Gen1 also boots
 * from emulated IDE (intelide, atapi).  Services are never created:
 * a missing service key or .sys file is a blocker. */
#include <string.h>
#include <strings.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

static const char *const gen2_drivers[] = { "vmbus", "storvsc", "storflt",
                                            NULL };
static const char *const gen1_drivers[] = { "vmbus", "storvsc", "storflt",
                                            "intelide", "atapi", NULL };

static const char *const *
drivers (struct guest *gs)
{
  return gs->generation == 2 ? gen2_drivers : gen1_drivers;
}

static int
build (struct guest *gs, struct win_rows *t)
{
  const char *const *d = drivers (gs);

  t->n = 0;
  for (size_t i = 0; d[i]; i++) {
    struct win_reg *start = &t->r[t->n], *ovr = &t->r[t->n + 1];
    snprintf (t->path[t->n], sizeof t->path[0], "Services\\%s", d[i]);
    snprintf (t->path[t->n + 1], sizeof t->path[0],
              "Services\\%s\\StartOverride", d[i]);
    *start = (struct win_reg) {
      "windows-boot-driver-start", HIVE_SYSTEM, t->path[t->n], "Start",
      WIN_DWORD, 0, .flags = WIN_IF_KEY,
      .why = "Hyper-V storage driver does not start at boot",
    };
    *ovr = (struct win_reg) {
      "windows-boot-driver-override", HIVE_SYSTEM, t->path[t->n + 1], NULL,
      WIN_DELETE_KEY, .why = "StartOverride would override Start = 0",
    };
    t->n += 2;
  }
  return 0;
}

static const struct win_table table = { "windows-boot-drivers",
                                        .build = build };
WIN_TABLE (table);

/* One listing of System32\drivers serves every driver, in check()
 * and in the verification after apply(). */
static int
list_drivers (struct guest *gs, struct windows_state *st)
{
  CLEANUP_FREE char *dir = xasprintf ("%s/System32/drivers",
                                      gs->windows_systemroot);
  CLEANUP_FREE char *real = NULL;
  struct guestfs_dirent_list *l = NULL;
  size_t n = 0;

  st->drivers_listed = true;
  if (!dir)
    return -1;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  real = guestfs_case_sensitive_path (gs->g, dir);
  if (real)
    l = guestfs_readdir (gs->g, real);
  guestfs_pop_error_handler (gs->g);
  if (!l)
    return 0;                   /* no directory: every driver missing */
  st->drivers = calloc (l->len + 1, sizeof *st->drivers);
  if (!st->drivers) {
    azp_error ("out of memory");
    guestfs_free_dirent_list (l);
    return -1;
  }
  for (size_t i = 0; i < l->len; i++)
    if (l->val[i].ftyp == 'r'
        && !(st->drivers[n++] = xstrdup (l->val[i].name))) {
      guestfs_free_dirent_list (l);
      return -1;
    }
  guestfs_free_dirent_list (l);
  return 0;
}

int
win_driver_file (struct guest *gs, const char *name)
{
  struct windows_state *st = win_state (gs);

  if (!st || (!st->drivers_listed && list_drivers (gs, st) == -1))
    return -1;
  for (size_t i = 0; st->drivers && st->drivers[i]; i++)
    if (!strcasecmp (st->drivers[i], name))
      return 1;
  return 0;
}

/* Each driver needs its service key and its .sys. */
static int
check_present (struct guest *gs)
{
  const char *const *d = drivers (gs);
  CLEANUP_HIVE_CLOSE hive_h *h = win_hive_open (gs, HIVE_SYSTEM, false);
  int64_t base;
  int ret = 0;

  if (!h)
    return -1;
  base = win_table_base (gs, h, HIVE_SYSTEM);
  for (size_t i = 0; base != -1 && ret == 0 && d[i]; i++) {
    CLEANUP_FREE char *key = xasprintf ("Services\\%s", d[i]);
    CLEANUP_FREE char *sys = xasprintf ("%s/System32/drivers/%s.sys",
                                        gs->windows_systemroot, d[i]);
    int64_t node;
    int present;

    if (!key || !sys)
      ret = -1;
    node = ret ? -1 : win_key_lookup (h, "SYSTEM", base, key);
    if (node == -1) {
      ret = -1;
      break;
    }
    if (node == 0) {
      CLEANUP_FREE char *obj = win_object (gs, HIVE_SYSTEM, key, NULL);
      ret = report_finding (gs->report, SEV_BLOCKER,
                            "windows-boot-driver-missing", obj,
                            "install the Hyper-V integration components on "
                            "the source", false, "the %s service is not "
                            "registered: Windows cannot load it at boot",
                            d[i]);
    }
    present = ret ? -1 : win_driver_file (gs, strrchr (sys, '/') + 1);
    if (present == -1)
      ret = -1;
    else if (present == 0)
      ret = report_finding (gs->report, SEV_BLOCKER,
                            "windows-boot-driver-missing", sys,
                            "install the Hyper-V integration components on "
                            "the source", false, "%s.sys is missing: the "
                            "disk is unreachable on Azure (0x7B)", d[i]);
  }
  return base == -1 ? -1 : ret;
}

static int
drivers_check (struct guest *gs)
{
  struct win_rows t;

  build (gs, &t);
  if (check_present (gs) == -1)
    return -1;
  return win_table_check (gs, t.r, t.n);
}

static int
drivers_apply (struct guest *gs)
{
  struct win_rows t;

  build (gs, &t);
  return win_table_apply (gs, t.r, t.n);
}

static const struct fixup windows_boot_drivers = {
  .name = "windows-boot-drivers",
  .heading = "Hyper-V storage drivers start at boot (vmbus, storvsc, ...)",
  .order = 100,
  .guests = FIXUP_WINDOWS,
  .applies = win_not_refused,
  .check = drivers_check,
  .apply = drivers_apply,
};
FIXUP (windows_boot_drivers);
