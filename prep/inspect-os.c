/* Find the one operating system, its firmware, and mount it. */
#include <string.h>

#include "azprep.h"
#include "guest.h"

#define ESP_GUID "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

static char *
dup_inspect (guestfs_h *g, char *(*fn) (guestfs_h *, const char *),
             const char *root)
{
  char *s;
  guestfs_push_error_handler (g, NULL, NULL);
  s = fn (g, root);
  guestfs_pop_error_handler (g);
  if (s && (!strcmp (s, "unknown") || !*s)) {
    free (s);
    s = NULL;
  }
  return s;
}

static const char *
disk_list (struct guest *gs)
{
  static __thread char buf[1024];
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < gs->ndisks && off < sizeof buf; i++)
    off += snprintf (buf + off, sizeof buf - off, "%s%s", i ? ", " : "",
                     gs->disks[i].path);
  return buf;
}

/* Report a reason the guest cannot be prepared: an error, or for
 * check (gs->inspect_findings) a blocker finding with a stable id. */
static void
inspect_problem (struct guest *gs, const char *id, const char *object,
                 const char *remedy, const char *msg)
{
  if (gs->inspect_findings)
    report_finding (gs->report, SEV_BLOCKER, id, object, remedy, false,
                    "%s", msg);
  else
    error ("%s: %s%s%s", disk_list (gs), msg, remedy ? "; " : "",
           remedy ? remedy : "");
}

/* The first encrypted volume (LUKS, BitLocker) on the disks, or NULL.
 * guestfs_list_filesystems leaves encrypted volumes out: ask vfs_type
 * about every partition and whole device. */
static char *
find_encrypted (guestfs_h *g, char **type_r)
{
  CLEANUP_FREE_STRING_LIST char **parts = NULL, **devs = NULL;
  char *ret = NULL;

  guestfs_push_error_handler (g, NULL, NULL);
  parts = guestfs_list_partitions (g);
  devs = guestfs_list_devices (g);
  for (size_t k = 0; k < 2 && !ret; k++) {
    char **list = k == 0 ? parts : devs;
    for (size_t i = 0; list && list[i] && !ret; i++) {
      char *t = guestfs_vfs_type (g, list[i]);
      if (t && (!strcmp (t, "crypto_LUKS") || !strcmp (t, "BitLocker"))) {
        ret = strdup (list[i]);
        *type_r = t;
      }
      else
        free (t);
    }
  }
  guestfs_pop_error_handler (g);
  return ret;
}

/* Explain why there is no OS: an encrypted volume, or nothing at all. */
static void
explain_no_os (struct guest *gs)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **fses = guestfs_list_filesystems (g);
  CLEANUP_FREE char *msg = NULL, *type = NULL;
  CLEANUP_FREE char *enc = find_encrypted (g, &type);

  if (enc && !strcmp (type, "crypto_LUKS")) {
    msg = xasprintf ("no operating system found: %s is a LUKS-encrypted "
                     "volume; azprep cannot prepare an encrypted root", enc);
    inspect_problem (gs, "root-encrypted", enc,
                     "decrypt it on the source first", msg);
    return;
  }
  if (enc) {
    msg = xasprintf ("no operating system found: %s is a BitLocker "
                     "volume", enc);
    inspect_problem (gs, "root-encrypted", enc,
                     "suspend or remove BitLocker on the source first", msg);
    return;
  }
  msg = xasprintf ("no operating system found (%s)",
                   fses && fses[0] ? "filesystems, but no root filesystem"
                   : "no partitions or filesystems");
  inspect_problem (gs, "os-none", NULL,
                   "give all of the VM's disks, the OS disk first", msg);
}

static void
detect_firmware (struct guest *gs)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **parts = NULL;
  char **esps = NULL;
  size_t n = 0;

  gs->firmware = FIRMWARE_BIOS;
  guestfs_push_error_handler (g, NULL, NULL);
  parts = guestfs_list_partitions (g);
  for (size_t i = 0; parts && parts[i]; i++) {
    CLEANUP_FREE char *dev = guestfs_part_to_dev (g, parts[i]);
    CLEANUP_FREE char *type = NULL;
    CLEANUP_FREE char *guid = NULL;
    int num;
    if (!dev)
      continue;
    type = guestfs_part_get_parttype (g, dev);
    if (!type || strcmp (type, "gpt"))
      continue;
    num = guestfs_part_to_partnum (g, parts[i]);
    guid = guestfs_part_get_gpt_type (g, dev, num);
    if (guid && !strcasecmp (guid, ESP_GUID)) {
      char **ne = realloc (esps, (n + 2) * sizeof *ne);
      if (!ne)
        break;
      esps = ne;
      esps[n++] = strdup (parts[i]);
      esps[n] = NULL;
    }
  }
  guestfs_pop_error_handler (g);
  if (esps) {
    gs->firmware = FIRMWARE_UEFI;
    gs->esps = esps;
  }
  gs->generation = gs->firmware == FIRMWARE_UEFI ? 2 : 1;
}

int
guest_inspect (struct guest *gs)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **roots = NULL;
  size_t n;

  guestfs_push_error_handler (g, NULL, NULL);
  roots = guestfs_inspect_os (g);
  guestfs_pop_error_handler (g);
  if (!roots) {
    CLEANUP_FREE char *why = xstrdup (guestfs_last_error (g));
    if (!(windows_explain_inspect && why && strstr (why, "Hivex")
          && windows_explain_inspect (gs) == 1))
      error ("%s: inspection failed: %s", disk_list (gs), why ? why : "");
    return -1;
  }
  n = count_strings (roots);
  if (n == 0) {
    explain_no_os (gs);
    return -1;
  }
  if (n > 1) {
    char list[512] = "";
    size_t off = 0;
    for (size_t i = 0; i < n && off < sizeof list; i++)
      off += snprintf (list + off, sizeof list - off, "%s%s",
                       i ? ", " : "", roots[i]);
    CLEANUP_FREE char *msg =
      xasprintf ("%zu operating systems found (%s): azprep prepares a VM "
                 "with one operating system", n, list);
    inspect_problem (gs, "os-multiple", list,
                     "give only the disks of one VM", msg);
    return -1;
  }
  gs->root = strdup (roots[0]);
  gs->type = dup_inspect (g, guestfs_inspect_get_type, gs->root);
  gs->distro = dup_inspect (g, guestfs_inspect_get_distro, gs->root);
  gs->product_name = dup_inspect (g, guestfs_inspect_get_product_name,
                                  gs->root);
  gs->product_variant = dup_inspect (g, guestfs_inspect_get_product_variant,
                                     gs->root);
  gs->arch = dup_inspect (g, guestfs_inspect_get_arch, gs->root);
  gs->hostname = dup_inspect (g, guestfs_inspect_get_hostname, gs->root);
  gs->osinfo = dup_inspect (g, guestfs_inspect_get_osinfo, gs->root);
  gs->package_format = dup_inspect (g, guestfs_inspect_get_package_format,
                                    gs->root);
  gs->package_management =
    dup_inspect (g, guestfs_inspect_get_package_management, gs->root);
  gs->major = guestfs_inspect_get_major_version (g, gs->root);
  gs->minor = guestfs_inspect_get_minor_version (g, gs->root);
  if (gs->type && !strcmp (gs->type, "windows")) {
    gs->windows_systemroot =
      dup_inspect (g, guestfs_inspect_get_windows_systemroot, gs->root);
    gs->windows_current_control_set =
      dup_inspect (g, guestfs_inspect_get_windows_current_control_set,
                   gs->root);
    gs->windows_system_hive =
      dup_inspect (g, guestfs_inspect_get_windows_system_hive, gs->root);
    gs->windows_software_hive =
      dup_inspect (g, guestfs_inspect_get_windows_software_hive, gs->root);
  }
  detect_firmware (gs);
  debug ("inspected: root %s, %s %s %d.%d, %s, generation %d", gs->root,
         gs->type ? gs->type : "?", gs->distro ? gs->distro : "?",
         gs->major, gs->minor, gs->arch ? gs->arch : "?", gs->generation);
  return 0;
}

static int
compare_mp (const void *a, const void *b)
{
  const char *const *x = a, *const *y = b;
  size_t lx = strlen (x[0]), ly = strlen (y[0]);
  return lx < ly ? -1 : lx > ly ? 1 : strcmp (x[0], y[0]);
}

int
guest_mount (struct guest *gs)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **mps = NULL;
  size_t n;

  mps = guestfs_inspect_get_mountpoints (g, gs->root);
  if (!mps) {
    error ("%s: %s", gs->root, guestfs_last_error (g));
    return -1;
  }
  n = count_strings (mps) / 2;
  /* Pairs (mountpoint, device): sort by mountpoint length so / first. */
  qsort (mps, n, 2 * sizeof (char *), compare_mp);
  for (size_t i = 0; i < n; i++) {
    const char *mp = mps[2 * i], *dev = mps[2 * i + 1];
    int r;
    guestfs_push_error_handler (g, NULL, NULL);
    r = gs->readonly ? guestfs_mount_ro (g, dev, mp)
                     : guestfs_mount (g, dev, mp);
    /* A mountpoint missing from the guest (systemd creates it at boot)
     * can be made when writing: the change is in the overlay. */
    if (r == -1 && !gs->readonly && strcmp (mp, "/") &&
        guestfs_is_dir (g, mp) == 0 && guestfs_exists (g, mp) == 0 &&
        guestfs_mkdir_p (g, mp) == 0) {
      report_change (gs->report, "directory", mp, NULL, "mountpoint");
      r = guestfs_mount (g, dev, mp);
    }
    guestfs_pop_error_handler (g);
    if (r == -1) {
      if (!strcmp (mp, "/")) {
        error ("%s: cannot mount the root filesystem %s: %s",
               gs->disks[0].path, dev, guestfs_last_error (g));
        return -1;
      }
      /* A data filesystem that does not mount is reported, not fatal:
       * its fstab line is what fixups look at. */
      report_finding (gs->report, SEV_WARNING, "filesystem-not-mounted",
                      dev, "check the filesystem on the source", false,
                      "%s (%s) could not be mounted: %s", dev, mp,
                      guestfs_last_error (g));
    }
  }
  gs->mounted = true;
  return 0;
}
