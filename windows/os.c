/* Inspection of a Windows root mounted at /, from the registry copies
 * the fixups use anyway (each hive crosses the appliance once): product
 * and version from SOFTWARE, control set and hostname from SYSTEM, the
 * architecture from cmd.exe's PE header. */
#include <string.h>
#include <strings.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/os.h"
#include "windows/windows.h"

/* A string value at path\name, or NULL when absent. */
static char *
get_text (hive_h *h, const char *hive, hive_node_h root, const char *path,
          const char *name)
{
  CLEANUP_FREE char *object = xasprintf ("%s hive: %s\\%s", hive, path,
                                         name);
  struct win_value v = { 0 };
  int64_t key = win_key_lookup (h, hive, root, path);
  char *s = NULL;

  if (key <= 0 || !object)
    return NULL;
  if (win_value_get (h, key, name, object, &v) == 0 && v.present &&
      (v.type == hive_t_REG_SZ || v.type == hive_t_REG_EXPAND_SZ))
    s = win_value_text (&v);
  win_value_free (&v);
  if (s && !*s) {
    free (s);
    s = NULL;
  }
  return s;
}

static int
read_software (struct guest *gs)
{
  static const char cv[] = "Microsoft\\Windows NT\\CurrentVersion";
  CLEANUP_HIVE_CLOSE hive_h *h = win_hive_open (gs, HIVE_SOFTWARE, false);
  hive_node_h root;
  uint32_t major, minor;
  CLEANUP_FREE char *ver = NULL;

  if (!h)
    return -1;
  root = hivex_root (h);
  gs->product_name = get_text (h, "SOFTWARE", root, cv, "ProductName");
  gs->product_variant = get_text (h, "SOFTWARE", root, cv,
                                  "InstallationType");
  /* Windows 10 and later keep CurrentVersion at "6.3" for old programs;
   * the real version is in CurrentMajor/MinorVersionNumber. */
  if (win_get_dword (h, "SOFTWARE", root, cv, "CurrentMajorVersionNumber",
                     &major) == 0 &&
      win_get_dword (h, "SOFTWARE", root, cv, "CurrentMinorVersionNumber",
                     &minor) == 0) {
    gs->major = (int) major;
    gs->minor = (int) minor;
  }
  else if ((ver = get_text (h, "SOFTWARE", root, cv, "CurrentVersion"))) {
    if (sscanf (ver, "%d.%d", &gs->major, &gs->minor) != 2)
      gs->major = gs->minor = 0;
  }
  return 0;
}

static int
read_system (struct guest *gs)
{
  CLEANUP_HIVE_CLOSE hive_h *h = win_hive_open (gs, HIVE_SYSTEM, false);
  hive_node_h root;
  uint32_t cur;
  int r;

  if (!h)
    return -1;
  root = hivex_root (h);
  r = win_get_dword (h, "SYSTEM", root, "Select", "Current", &cur);
  if (r == 0 && cur > 0 && cur < 1000) {
    gs->windows_current_control_set = xasprintf ("ControlSet%03u", cur);
    CLEANUP_FREE char *p =
      xasprintf ("%s\\Services\\Tcpip\\Parameters",
                 gs->windows_current_control_set);
    if (p)
      gs->hostname = get_text (h, "SYSTEM", root, p, "Hostname");
  }
  if (r != 0) {
    azp_error ("%s: SYSTEM hive %s: no Select\\Current value: cannot tell the "
               "current control set", gs->root, gs->windows_system_hive);
    return -1;
  }
  return 0;
}

/* The PE machine of System32\cmd.exe. */
static void
read_arch (struct guest *gs)
{
  CLEANUP_FREE char *want = xasprintf ("%s/system32/cmd.exe",
                                       gs->windows_systemroot);
  CLEANUP_FREE char *path = NULL, *hdr = NULL;
  size_t len = 0;
  uint32_t pe;
  unsigned m;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  path = want ? guestfs_case_sensitive_path (gs->g, want) : NULL;
  hdr = path ? guestfs_pread (gs->g, path, 4096, 0, &len) : NULL;
  guestfs_pop_error_handler (gs->g);
  if (!hdr || len < 64 || memcmp (hdr, "MZ", 2))
    return;
  pe = (uint32_t) (unsigned char) hdr[0x3c] |
    (uint32_t) (unsigned char) hdr[0x3d] << 8 |
    (uint32_t) (unsigned char) hdr[0x3e] << 16 |
    (uint32_t) (unsigned char) hdr[0x3f] << 24;
  if (pe > len - 6 || memcmp (hdr + pe, "PE\0\0", 4))
    return;
  m = (unsigned char) hdr[pe + 4] | (unsigned char) hdr[pe + 5] << 8;
  gs->arch = xstrdup (m == 0x8664 ? "x86_64" : m == 0x14c ? "i386"
                      : m == 0xaa64 ? "aarch64" : "unknown");
}

/* libosinfo's short id, as libguestfs makes it. */
static void
make_osinfo (struct guest *gs)
{
  const char *p = gs->product_name ? gs->product_name : "";
  bool server = gs->product_variant &&
    strcasestr (gs->product_variant, "Server");
  static const char *const servers[][2] = {
    { "2025", "win2k25" }, { "2022", "win2k22" }, { "2019", "win2k19" },
    { "2016", "win2k16" },
  };

  if (gs->major == 10 && server) {
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++)
      if (strstr (p, servers[i][0])) {
        gs->osinfo = xstrdup (servers[i][1]);
        return;
      }
  }
  else if (gs->major == 10)
    gs->osinfo = xstrdup (strstr (p, "Windows 11") ? "win11" : "win10");
  else if (gs->major == 6 && gs->minor == 1)
    gs->osinfo = xstrdup (server ? "win2k8r2" : "win7");
  else if (gs->major == 6 && gs->minor == 2)
    gs->osinfo = xstrdup (server ? "win2k12" : "win8");
  else if (gs->major == 6 && gs->minor == 3)
    gs->osinfo = xstrdup (server ? "win2k12r2" : "win8.1");
  else if (gs->major == 6 && gs->minor == 0)
    gs->osinfo = xstrdup (server ? "win2k8" : "winvista");
}

/* A Windows root has \Windows\System32 (or \WinNT); *hint_r gets the
 * system directory as the guest spells it. */
static int
windows_probe (guestfs_h *g, char *const *top, char **hint_r)
{
  for (size_t i = 0; top[i]; i++) {
    CLEANUP_FREE char *want = NULL, *real = NULL;
    if (strcasecmp (top[i], "windows") && strcasecmp (top[i], "winnt"))
      continue;
    /* A missing SYSTEM hive is still Windows: the error names it. */
    want = xasprintf ("/%s/system32", top[i]);
    real = want ? guestfs_case_sensitive_path (g, want) : NULL;
    if (real && guestfs_is_dir (g, real) == 1) {
      *hint_r = xasprintf ("/%s", top[i]);
      return 1;
    }
  }
  return 0;
}

/* The paths libguestfs would set: the hives in real case. */
static int
windows_paths (struct guest *gs, char *sysroot)
{
  static const char *const names[] = { "system", "software" };
  char **dest[] = { &gs->windows_system_hive, &gs->windows_software_hive };

  gs->windows_systemroot = sysroot;
  for (size_t i = 0; i < 2; i++) {
    CLEANUP_FREE char *want =
      xasprintf ("%s/system32/config/%s", sysroot, names[i]);
    guestfs_push_error_handler (gs->g, NULL, NULL);
    *dest[i] = want ? guestfs_case_sensitive_path (gs->g, want) : NULL;
    if (*dest[i] && guestfs_is_file (gs->g, *dest[i]) != 1) {
      free (*dest[i]);
      *dest[i] = NULL;
    }
    guestfs_pop_error_handler (gs->g);
  }
  gs->type = xstrdup ("windows");
  gs->distro = xstrdup ("windows");
  gs->mountpoints = calloc (3, sizeof (char *));
  if (!gs->type || !gs->distro || !gs->mountpoints)
    return -1;
  gs->mountpoints[0] = xstrdup ("/");
  gs->mountpoints[1] = xstrdup (gs->root);
  return 0;
}

/* With the root mounted at /: product, version, variant, arch,
 * hostname, control set, osinfo from the registry. */
static int
windows_inspect_os (struct guest *gs, char *sysroot)
{
  if (windows_paths (gs, sysroot) == -1 ||
      read_system (gs) == -1 || read_software (gs) == -1)
    return -1;
  read_arch (gs);
  make_osinfo (gs);
  return 0;
}

static const struct os_ops windows_os = {
  .type = "windows",
  .fixups = FIXUP_WINDOWS,
  .probe = windows_probe,
  .inspect = windows_inspect_os,
  .explain = windows_explain_inspect,
  .json = inspect_windows_json,
  .flush = windows_flush,
  .free = windows_free,
};
OS_OPS (windows_os);
