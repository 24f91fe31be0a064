/* windows-support: refuse what cannot be prepared safely offline, warn
 * about what may undo the preparation, and list the next steps that
 * only the running guest can take.  Runs first; when it refuses, every
 * other Windows fixup stands aside (win_not_refused), so that fix
 * exits 3 with nothing changed.
 */
#include <errno.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

#define ST_RDONLY_FLAG 1

/* Add one refusal (id, object, message) to the state. */
static int
refuse (struct windows_state *st, const char *id, const char *object,
        const char *msg)
{
  size_t n = count_strings (st->refusals);
  char **l = realloc (st->refusals, (n + 4) * sizeof *l);

  if (!l) {
    azp_error ("out of memory");
    return -1;
  }
  st->refusals = l;
  l[n] = xstrdup (id);
  l[n + 1] = xstrdup (object ? object : "");
  l[n + 2] = xstrdup (msg);
  l[n + 3] = NULL;
  return l[n] && l[n + 1] && l[n + 2] ? 0 : -1;
}

/* hiberfil.sys's header: a signature means Windows is hibernated (or
 * shut down with Fast Startup) and its state is in that file.  Returns
 * "hibernated", "clean" (zeroed header) or "absent"; sets *path. */
const char *
win_hiberfil_state (struct guest *gs, char **path_r)
{
  CLEANUP_FREE char *path = NULL, *buf = NULL;
  size_t len = 0;
  static const char *const sigs[] = { "hibr", "HIBR", "wake", "WAKE",
                                      "RSTR", "rstr", NULL };
  const char *state = "absent";

  guestfs_push_error_handler (gs->g, NULL, NULL);
  path = guestfs_case_sensitive_path (gs->g, "/hiberfil.sys");
  if (path)                     /* fails unless a regular file */
    buf = guestfs_pread (gs->g, path, 4, 0, &len);
  guestfs_pop_error_handler (gs->g);
  if (buf && len == 4) {
    state = "clean";
    for (size_t i = 0; sigs[i]; i++)
      if (!memcmp (buf, sigs[i], 4))
        state = "hibernated";
  }
  if (path_r) {
    *path_r = path;
    path = NULL;
  }
  return state;
}

static int
probe_hibernation (struct guest *gs, struct windows_state *st)
{
  CLEANUP_FREE char *path = NULL;

  if (strcmp (win_hiberfil_state (gs, &path), "hibernated"))
    return 0;
  return refuse (st, "windows-hibernated", path,
                 "Windows is hibernated or was shut down with Fast "
                 "Startup (hiberfil.sys holds a hibernation image); "
                 "boot it on the source, disable Fast Startup "
                 "(powercfg /h off) and shut down fully");
}

/* ntfs-3g falls back to read-only, silently, on an unclean NTFS: ask
 * the mount, then try to create and remove a file. */
static int
probe_writable (struct guest *gs, struct windows_state *st)
{
  static const char probe[] = "/azprep-write-probe.tmp";
  CLEANUP_FREE char *why = NULL;
  struct guestfs_statvfs *sv;
  bool ro = false;

  if (gs->readonly)
    return 0;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  sv = guestfs_statvfs (gs->g, "/");
  if (sv) {
    ro = sv->flag & ST_RDONLY_FLAG;
    guestfs_free_statvfs (sv);
  }
  if (!ro && guestfs_touch (gs->g, probe) == -1) {
    ro = true;
    why = xstrdup (guestfs_last_error (gs->g));
  }
  else if (!ro)
    guestfs_rm (gs->g, probe);
  guestfs_pop_error_handler (gs->g);
  if (!ro)
    return 0;
  {
    CLEANUP_FREE char *msg =
      xasprintf ("the NTFS system volume mounted read-only (unclean: "
                 "Fast Startup, hibernation or a crash%s%s); boot Windows "
                 "on the source and shut it down fully",
                 why ? ": " : "", why ? why : "");
    return msg ? refuse (st, "windows-ntfs-unclean", gs->root, msg) : -1;
  }
}

int
win_probe (struct guest *gs)
{
  struct windows_state *st = win_state (gs);

  if (!st)
    return -1;
  if (st->probed)
    return st->probe_failed ? -1 : 0;
  st->probed = true;
  st->probe_failed = true;

  if (!gs->arch || strcmp (gs->arch, "x86_64")) {
    CLEANUP_FREE char *msg =
      xasprintf ("%s Windows is not supported on Azure (64-bit Windows "
                 "Server 2008 R2 or later only)", gs->arch ? gs->arch
                 : "unknown-architecture");
    if (!msg || refuse (st, "windows-32bit", gs->root, msg) == -1)
      return -1;
  }
  if (gs->major < 6 || (gs->major == 6 && gs->minor < 1)) {
    CLEANUP_FREE char *msg =
      xasprintf ("Windows %d.%d (%s) is older than Windows Server 2008 R2 "
                 "(6.1), the oldest Azure supports", gs->major, gs->minor,
                 gs->product_name ? gs->product_name : "?");
    if (!msg || refuse (st, "windows-too-old", gs->root, msg) == -1)
      return -1;
  }
  /* The filesystem types blkid found once, for inspection. */
  if (guest_scan_storage (gs) == -1)
    return -1;
  for (size_t i = 0; i < gs->nbdevs; i++) {
    const struct guest_blockdev *b = &gs->bdevs[i];
    if (b->type && !strcmp (b->type, "BitLocker")
        && refuse (st, "windows-bitlocker", b->device,
                   "BitLocker-encrypted volume: it cannot be prepared "
                   "offline without its key, and Azure needs it "
                   "decrypted; run 'manage-bde -off' on the source") == -1)
      return -1;
  }
  if (probe_hibernation (gs, st) == -1 || probe_writable (gs, st) == -1)
    return -1;
  for (int w = HIVE_SYSTEM; w <= HIVE_SOFTWARE; w++) {
    hive_h *h = win_hive_open (gs, w, false);
    struct win_hive_copy *c = &st->hives[w];
    if (!h)
      return -1;
    hivex_close (h);
    if (c->dirty_header) {
      CLEANUP_FREE char *msg =
        xasprintf ("the %s hive was not saved cleanly (its header's "
                   "sequence numbers differ: recent changes are only in "
                   "its transaction logs); boot Windows on the source and "
                   "shut it down fully", win_hive_name (w));
      if (!msg || refuse (st, "windows-hive-dirty", c->guest_path, msg) == -1)
        return -1;
    }
  }
  st->probe_failed = false;
  return 0;
}

bool
win_not_refused (struct guest *gs)
{
  if (win_probe (gs) == -1)
    return false;
  return win_data (gs)->refusals == NULL;
}

/* Uninstall entries whose DisplayName contains one of pats: calls fn
 * with the name and the UninstallString (may be NULL). */
static int
each_uninstall (struct guest *gs, hive_h *h, const char *const *pats,
                int (*fn) (struct guest *, const char *, const char *))
{
  int64_t node = win_key_lookup (h, "SOFTWARE", hivex_root (h),
                                 "Microsoft\\Windows\\CurrentVersion\\"
                                 "Uninstall");
  CLEANUP_FREE hive_node_h *kids = NULL;

  if (node <= 0)
    return node;
  kids = hivex_node_children (h, node);
  if (!kids) {
    azp_error ("SOFTWARE hive: Uninstall: %m");
    return -1;
  }
  for (size_t i = 0; kids[i]; i++) {
    struct win_value dn, us;
    CLEANUP_FREE char *name = NULL, *cmd = NULL;
    if (win_value_get (h, kids[i], "DisplayName", "HKLM\\SOFTWARE\\...\\"
                       "Uninstall\\DisplayName", &dn) == -1)
      return -1;
    name = win_value_text (&dn);
    win_value_free (&dn);
    if (!name)
      continue;
    for (size_t p = 0; pats[p]; p++) {
      if (!strcasestr (name, pats[p]))
        continue;
      if (win_value_get (h, kids[i], "UninstallString", "HKLM\\SOFTWARE\\"
                         "...\\Uninstall\\UninstallString", &us) == -1)
        return -1;
      cmd = win_value_text (&us);
      win_value_free (&us);
      if (fn (gs, name, cmd) == -1)
        return -1;
      break;
    }
  }
  return 0;
}

static int
warn_av (struct guest *gs, const char *name, const char *cmd)
{
  return report_finding (gs->report, SEV_WARNING, "windows-antivirus", name,
                         "check it lets Hyper-V drivers load; uninstall or "
                         "update it after the first boot on Azure", false,
                         "antivirus installed (%s): it may block the new "
                         "storage drivers at boot (0x7B)", name);
}

static int
next_vmware (struct guest *gs, const char *name, const char *cmd)
{
  CLEANUP_FREE char *x = cmd ? xstrdup (cmd) : NULL;
  char *i = x ? strstr (x, "/I{") : NULL;

  if (!i && x)
    i = strstr (x, "/i{");
  if (i)
    i[1] = 'X';
  return report_finding (gs->report, SEV_INFO, "windows-next-vmware-tools",
                         name, x ? x : "uninstall it from Programs and "
                         "Features", false, "after the first boot on Azure, "
                         "uninstall %s (its services are disabled offline, "
                         "not removed)", name);
}

/* The generation asked for (--generation) against the firmware: a
 * BIOS guest (MBR, System Reserved, no ESP) has no UEFI boot manager
 * for a generation 2 VM, and a UEFI one nothing a generation 1 VM's
 * BIOS can start. */
static int
warn_generation (struct guest *gs)
{
  bool uefi = gs->firmware == FIRMWARE_UEFI;

  if (gs->requested_generation == 2 && !uefi)
    return report_finding (gs->report, SEV_WARNING, "windows-gen2-bios",
                           gs->root, "create the VM as generation 1, or "
                           "convert the disk to GPT/UEFI on the source "
                           "first (mbr2gpt /convert /allowFullOS)", false,
                           "generation 2 requested for a BIOS guest (no "
                           "EFI system partition): it will not boot");
  if (gs->requested_generation == 1 && uefi)
    return report_finding (gs->report, SEV_WARNING, "windows-gen1-uefi",
                           gs->root, "create the VM as generation 2",
                           false, "generation 1 requested for a UEFI guest "
                           "(GPT, EFI system partition): it will not boot");
  return 0;
}

static int
support_check (struct guest *gs)
{
  static const char *const av[] = {
    "Symantec", "McAfee", "Trend Micro", "Sophos", "ESET", "Kaspersky",
    "CrowdStrike", "Carbon Black", "Bitdefender", "Cylance", "SentinelOne",
    "Trellix", "Antivirus", "Anti-Virus", "Endpoint Protection", NULL
  };
  static const char *const vmware[] = { "VMware Tools", NULL };
  struct windows_state *st;
  CLEANUP_HIVE_CLOSE hive_h *h = NULL;
  int64_t gp;
  int r = 0;

  if (win_probe (gs) == -1)
    return -1;
  st = win_data (gs);
  for (size_t i = 0; st->refusals && st->refusals[i]; i += 3)
    if (report_finding (gs->report, SEV_BLOCKER, st->refusals[i],
                        st->refusals[i + 1], NULL, false, "%s",
                        st->refusals[i + 2]) == -1)
      return -1;
  if (st->refusals)
    return 0;
  if (warn_generation (gs) == -1)
    return -1;

  h = win_hive_open (gs, HIVE_SOFTWARE, false);
  if (!h)
    return -1;
  gp = win_key_lookup (h, "SOFTWARE", hivex_root (h),
                       "Microsoft\\Windows\\CurrentVersion\\Group Policy\\"
                       "History");
  if (gp > 0) {
    CLEANUP_FREE hive_node_h *kids = hivex_node_children (h, gp);
    if (kids && kids[0])
      r = report_finding (gs->report, SEV_WARNING, "windows-group-policy",
                          "HKLM\\SOFTWARE\\Microsoft\\Windows\\"
                          "CurrentVersion\\Group Policy\\History", "check "
                          "the domain's policies for Remote Desktop, the "
                          "firewall and services", false, "Group Policy "
                          "is applied to this guest: at the next refresh it "
                          "may revert the Remote Desktop, firewall and "
                          "service settings made here");
  }
  if (gp == -1 || r == -1 || each_uninstall (gs, h, av, warn_av) == -1
      || each_uninstall (gs, h, vmware, next_vmware) == -1)
    return -1;

  if (report_finding (gs->report, SEV_INFO, "windows-next-azure-agent",
                      NULL, "install it from "
                      "https://go.microsoft.com/fwlink/?LinkID=394789", false,
                      "install the Azure VM agent after the first boot "
                      "(it cannot be installed offline)") == -1
      || report_finding (gs->report, SEV_INFO, "windows-next-chkdsk",
                         gs->root, "run 'chkdsk C: /f' on the source or "
                         "after the first boot", false,
                         "the file system was not checked: chkdsk cannot "
                         "run offline") == -1)
    return -1;
  return 0;
}

static const struct fixup windows_support = {
  .name = "windows-support",
  .heading = "refuse unsafe or unsupported Windows, warn, list next steps",
  .order = 1,
  .guests = FIXUP_WINDOWS,
  .check = support_check,
};
FIXUP (windows_support);
