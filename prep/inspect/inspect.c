/* Find the one operating system, its firmware, and mount it.
 *
 * azprep inspects by itself rather than with guestfs_inspect_os: one
 * blkid per block device (prep/guest/storage.c), then each filesystem that
 * could hold an OS is mounted and its top directory listed, and only
 * the root found is read further (os-release, the registry).  That is
 * a handful of appliance round trips where libguestfs's inspection
 * mounts and probes everything (about 12 s under TCG for the Debian
 * guest).  Guests it does not cover (btrfs subvolumes, MD RAID, LDM)
 * go to guestfs_inspect_os as before. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "prep/guest/os.h"

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
    azp_error ("%s: %s%s%s", disk_list (gs), msg, remedy ? "; " : "",
               remedy ? remedy : "");
}

/* The first encrypted volume (LUKS, BitLocker) on the disks, or NULL. */
static const struct guest_blockdev *
find_encrypted (struct guest *gs)
{
  for (size_t i = 0; i < gs->nbdevs; i++) {
    const char *t = gs->bdevs[i].type;
    if (t && (!strcmp (t, "crypto_LUKS") || !strcmp (t, "BitLocker")))
      return &gs->bdevs[i];
  }
  return NULL;
}

/* Explain why there is no OS: an encrypted volume, or nothing at all. */
static void
explain_no_os (struct guest *gs)
{
  const struct guest_blockdev *enc = find_encrypted (gs);
  CLEANUP_FREE char *msg = NULL;
  bool any = false;

  if (enc && !strcmp (enc->type, "crypto_LUKS")) {
    msg = xasprintf ("no operating system found: %s is a LUKS-encrypted "
                     "volume; azprep cannot prepare an encrypted root",
                     enc->device);
    gs->refused = true;
    inspect_problem (gs, "root-encrypted", enc->device,
                     "decrypt it on the source first", msg);
    return;
  }
  if (enc) {
    msg = xasprintf ("no operating system found: %s is a BitLocker "
                     "volume", enc->device);
    gs->refused = true;
    inspect_problem (gs, "root-encrypted", enc->device,
                     "suspend or remove BitLocker on the source first", msg);
    return;
  }
  for (size_t i = 0; i < gs->nbdevs; i++)
    any = any || gs->bdevs[i].type != NULL;
  msg = xasprintf ("no operating system found (%s)",
                   any ? "filesystems, but no root filesystem"
                   : "no partitions or filesystems");
  inspect_problem (gs, "os-none", NULL,
                   "give all of the VM's disks, the OS disk first", msg);
}

static void
detect_firmware (struct guest *gs)
{
  char **esps = NULL;
  size_t n = 0;

  gs->firmware = FIRMWARE_BIOS;
  for (size_t i = 0; i < gs->nbdevs; i++) {
    const struct guest_blockdev *b = &gs->bdevs[i];
    char **ne;
    if (!b->gpt_type || strcasecmp (b->gpt_type, ESP_GUID))
      continue;
    ne = realloc (esps, (n + 2) * sizeof *ne);
    if (!ne)
      break;
    esps = ne;
    esps[n++] = xstrdup (b->device);
    esps[n] = NULL;
  }
  if (esps) {
    gs->firmware = FIRMWARE_UEFI;
    gs->esps = esps;
  }
  gs->generation = gs->firmware == FIRMWARE_UEFI ? 2 : 1;
}

static int
compare_mp (const void *a, const void *b)
{
  const char *const *x = a, *const *y = b;
  size_t lx = strlen (x[0]), ly = strlen (y[0]);
  return lx < ly ? -1 : lx > ly ? 1 : strcmp (x[0], y[0]);
}

/* Sort the (mountpoint, device) pairs so that parents come first. */
static void
sort_mountpoints (char **mps)
{
  qsort (mps, count_strings (mps) / 2, 2 * sizeof (char *), compare_mp);
}

static void
too_many_roots (struct guest *gs, char *const *roots)
{
  size_t n = count_strings (roots);
  char list[512] = "";
  size_t off = 0;
  CLEANUP_FREE char *msg = NULL;

  for (size_t i = 0; i < n && off < sizeof list; i++)
    off += snprintf (list + off, sizeof list - off, "%s%s",
                     i ? ", " : "", roots[i]);
  msg = xasprintf ("%zu operating systems found (%s): azprep prepares a VM "
                   "with one operating system", n, list);
  inspect_problem (gs, "os-multiple", list,
                   "give only the disks of one VM", msg);
}

/* Can an OS family name why libguestfs's inspection failed?  (A damaged
 * Windows hive.)  True if one reported it. */
static bool
explained (struct guest *gs, const char *why)
{
  size_t n;
  const struct os_ops *const *all = os_all (&n);

  for (size_t i = 0; why && i < n; i++)
    if (all[i]->explain && all[i]->explain (gs, why) == 1)
      return true;
  return false;
}

/* libguestfs's own inspection, for what ours does not cover. */
static int
inspect_with_libguestfs (struct guest *gs)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **roots = NULL;
  size_t n;

  azp_debug ("inspecting with guestfs_inspect_os");
  guestfs_push_error_handler (g, NULL, NULL);
  roots = guestfs_inspect_os (g);
  guestfs_pop_error_handler (g);
  if (!roots) {
    CLEANUP_FREE char *why = xstrdup (guestfs_last_error (g));
    if (!explained (gs, why))
      azp_error ("%s: inspection failed: %s", disk_list (gs), why ? why : "");
    return -1;
  }
  n = count_strings (roots);
  if (n == 0) {
    explain_no_os (gs);
    return -1;
  }
  if (n > 1) {
    too_many_roots (gs, roots);
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
  /* NULL for a root that is not Windows. */
  gs->windows_systemroot =
    dup_inspect (g, guestfs_inspect_get_windows_systemroot, gs->root);
  gs->windows_current_control_set =
    dup_inspect (g, guestfs_inspect_get_windows_current_control_set,
                 gs->root);
  gs->windows_system_hive =
    dup_inspect (g, guestfs_inspect_get_windows_system_hive, gs->root);
  gs->windows_software_hive =
    dup_inspect (g, guestfs_inspect_get_windows_software_hive, gs->root);
  gs->mountpoints = guestfs_inspect_get_mountpoints (g, gs->root);
  if (!gs->mountpoints) {
    azp_error ("%s: %s", gs->root, guestfs_last_error (g));
    return -1;
  }
  sort_mountpoints (gs->mountpoints);
  return 0;
}

/* Filesystem types that can hold a Linux or Windows root. */
static bool
root_capable (const char *type)
{
  static const char *const types[] = {
    "ext2", "ext3", "ext4", "xfs", "ntfs", "jfs", "reiserfs", "f2fs",
    "btrfs", NULL
  };
  for (size_t i = 0; type && types[i]; i++)
    if (!strcmp (type, types[i]))
      return true;
  return false;
}

/* What libguestfs's inspection is still needed for. */
static bool
needs_libguestfs (struct guest *gs)
{
  static const char *const types[] = {
    "btrfs", "linux_raid_member", "isw_raid_member", "ddf_raid_member",
    "zfs_member", NULL
  };
  for (size_t i = 0; i < gs->nbdevs; i++)
    for (size_t k = 0; gs->bdevs[i].type && types[k]; k++)
      if (!strcmp (gs->bdevs[i].type, types[k]))
        return true;
  /* LDM (Windows dynamic disks) partitions. */
  for (size_t i = 0; i < gs->nbdevs; i++)
    if (gs->bdevs[i].mbr_id == 0x42 || (gs->bdevs[i].gpt_type &&
        !strcasecmp (gs->bdevs[i].gpt_type,
                     "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3")))
      return true;
  return false;
}

/* With a filesystem mounted at /: the family whose root it is, or
 * NULL.  *hint_r gets what that family's inspect() needs. */
static const struct os_ops *
probe_mounted (guestfs_h *g, char **hint_r)
{
  CLEANUP_FREE_STRING_LIST char **top = guest_ls (g, "/");
  size_t n;
  const struct os_ops *const *all = os_all (&n);

  *hint_r = NULL;
  for (size_t i = 0; top && i < n; i++)
    if (all[i]->probe (g, top, hint_r) == 1)
      return all[i];
  return NULL;
}

/* Is dev one of the found root's own filesystems (its fstab)? */
static bool
claimed (struct guest *gs, const char *dev)
{
  for (size_t i = 0; gs->mountpoints && gs->mountpoints[i]; i += 2)
    if (!strcmp (gs->mountpoints[i + 1], dev))
      return true;
  return false;
}

/* Is dev what is mounted at / now? */
static bool
mounted_is (struct guest *gs, const char *dev)
{
  CLEANUP_FREE_STRING_LIST char **m = guestfs_mounts (gs->g);
  return m && m[0] && !strcmp (m[0], dev) && !m[1];
}

int
guest_inspect (struct guest *gs)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **roots = NULL;
  size_t n = 0;
  int r = 0;

  if (guest_scan_storage (gs) == -1)
    return -1;
  detect_firmware (gs);
  if (needs_libguestfs (gs)) {
    if (inspect_with_libguestfs (gs) == -1)
      return -1;
    goto done;
  }

  /* Probe each filesystem that could be a root.  The first root found
   * is read at once; the filesystems its fstab mounts are its own and
   * need no probe, and when nothing else is left to probe, it stays
   * mounted (read-only runs use it as is). */
  roots = calloc (gs->nbdevs + 1, sizeof (char *));
  if (!roots)
    return -1;
  for (size_t i = 0; i < gs->nbdevs; i++) {
    const struct guest_blockdev *b = &gs->bdevs[i];
    const struct os_ops *os;
    char *hint = NULL;
    if (!root_capable (b->type) || claimed (gs, b->device))
      continue;
    guestfs_push_error_handler (g, NULL, NULL);
    guestfs_umount_all (g);
    r = guestfs_mount_ro (g, b->device, "/");
    guestfs_pop_error_handler (g);
    if (r == -1) {
      azp_debug ("%s: does not mount: %s", b->device, guestfs_last_error (g));
      continue;
    }
    os = probe_mounted (g, &hint);
    if (!os)
      continue;
    roots[n++] = xstrdup (b->device);
    if (n > 1) {
      free (hint);
      continue;
    }
    gs->os = os;
    gs->root = xstrdup (b->device);
    if (!gs->root) {
      free (hint);
      return -1;
    }
    r = os->inspect (gs, hint);
    if (r == -1)
      break;
    gs->root_mounted = true;
  }
  guestfs_push_error_handler (g, NULL, NULL);
  if (r == -1 || n != 1 || !gs->readonly || !gs->root_mounted ||
      !mounted_is (gs, gs->root)) {
    guestfs_umount_all (g);
    gs->root_mounted = false;
  }
  guestfs_pop_error_handler (g);
  if (n > 1) {
    too_many_roots (gs, roots);
    return -1;
  }
  if (n == 1 && r == -1)
    return -1;
  if (n == 0) {
    explain_no_os (gs);
    return -1;
  }
  sort_mountpoints (gs->mountpoints);

 done:
  if (!gs->os)
    gs->os = os_find (gs->type);
  azp_debug ("inspected: root %s, %s %s %d.%d, %s, generation %d", gs->root,
             gs->type ? gs->type : "?", gs->distro ? gs->distro : "?",
             gs->major, gs->minor, gs->arch ? gs->arch : "?", gs->generation);
  return 0;
}

int
guest_mount (struct guest *gs)
{
  guestfs_h *g = gs->g;
  char **mps = gs->mountpoints;
  size_t n = count_strings (mps) / 2;

  /* Inspection may have left the root mounted (read-only runs); only
   * the first guest_mount after it can use that. */
  if (gs->root_mounted && !mounted_is (gs, gs->root))
    gs->root_mounted = false;

  for (size_t i = 0; i < n; i++) {
    const char *mp = mps[2 * i], *dev = mps[2 * i + 1];
    int r;
    if (gs->root_mounted && !strcmp (mp, "/") && !strcmp (dev, gs->root))
      continue;
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
        azp_error ("%s: cannot mount the root filesystem %s: %s",
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
  gs->root_mounted = false;
  return 0;
}
