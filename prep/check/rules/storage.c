/* Rules about filesystems: encrypted volumes azprep cannot read,
 * hibernation images, dirty filesystems, free space for the fixups,
 * swap on the OS disk, network filesystems in fstab. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/fstab.h"
#include "prep/check/rule.h"

#define MiB (1024LL * 1024)

static const struct rule encrypted_volume;
static const struct rule hibernation;
static const struct rule filesystem_dirty;
static const struct rule free_space;
static const struct rule swap_on_os_disk;
static const struct rule fstab_netfs;

static int
check_encrypted (const struct check_ctx *ctx)
{
  char **fses = ctx->fses;

  for (size_t i = 0; fses && fses[i]; i += 2) {
    bool luks = !strcmp (fses[i + 1], "crypto_LUKS");
    if (!luks && strcmp (fses[i + 1], "BitLocker"))
      continue;
    if (rule_finding (ctx, &encrypted_volume, SEV_WARNING, fses[i],
                      luks ? "make sure its key is available at boot on "
                      "Azure (a passphrase on the serial console, or a key "
                      "file on an unencrypted volume)"
                      : "suspend BitLocker before migrating",
                      "%s volume: azprep cannot check or prepare what it "
                      "holds", luks ? "LUKS-encrypted" : "BitLocker") == -1)
      return -1;
  }
  return 0;
}
static const struct rule encrypted_volume = {
  "encrypted-volume", "no encrypted data volumes (LUKS, BitLocker)",
  SEV_WARNING, RULE_NEEDS_GUEST, check_encrypted,
};
RULE (encrypted_volume);

/* A Linux swap area holding a hibernation image: the signature at the
 * end of the first page is S1SUSPEND (or similar) not SWAPSPACE2. */
static bool
swap_hibernated (guestfs_h *g, const char *dev)
{
  size_t len = 0;
  CLEANUP_FREE char *sig = NULL;

  guestfs_push_error_handler (g, NULL, NULL);
  sig = guestfs_pread_device (g, dev, 10, 4096 - 10, &len);
  guestfs_pop_error_handler (g);
  return sig && len == 10 && memcmp (sig, "SWAPSPACE2", 10) &&
    (!memcmp (sig, "S1SUSPEND", 9) || !memcmp (sig, "S2SUSPEND", 9) ||
     !memcmp (sig, "ULSUSPEND", 9) || !memcmp (sig, "LINHIB0001", 10));
}

static int
check_hibernation (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  char **fses = ctx->fses;

  /* blkid calls a swap area with a hibernation image "swsuspend". */
  for (size_t i = 0; fses && fses[i]; i += 2)
    if (!strcmp (fses[i + 1], "swsuspend") ||
        (!strcmp (fses[i + 1], "swap") && swap_hibernated (gs->g, fses[i])))
      return rule_finding (ctx, &hibernation, SEV_BLOCKER, fses[i],
                           "resume the VM on VMware and shut it down "
                           "fully",
                           "the swap area holds a hibernation image: the "
                           "guest was hibernated, not shut down");
  if (gs->type && !strcmp (gs->type, "windows") && gs->mounted &&
      guest_exists (gs, "/hiberfil.sys")) {
    size_t len = 0;
    CLEANUP_FREE char *hdr = NULL;
    guestfs_push_error_handler (gs->g, NULL, NULL);
    hdr = guestfs_pread (gs->g, "/hiberfil.sys", 4, 0, &len);
    guestfs_pop_error_handler (gs->g);
    if (hdr && len == 4 && !strncasecmp (hdr, "hibr", 4))
      return rule_finding (ctx, &hibernation, SEV_BLOCKER, "/hiberfil.sys",
                           "resume Windows and shut it down fully (no "
                           "hibernation, no Fast Startup)",
                           "Windows is hibernated (or Fast Startup left a "
                           "hibernation image)");
  }
  return 0;
}
static const struct rule hibernation = {
  "hibernation", "the guest was shut down, not hibernated", SEV_BLOCKER,
  RULE_NEEDS_GUEST, check_hibernation,
};
RULE (hibernation);

/* Add a triple device, severity, why to the list *l of *n strings. */
static void
add_dirty (char ***l, size_t *n, const char *dev, const char *sev,
           char *why)
{
  char **nl = why ? realloc (*l, (*n + 4) * sizeof *nl) : NULL;
  if (!nl) {
    free (why);
    return;
  }
  *l = nl;
  nl[(*n)++] = xstrdup (dev);
  nl[(*n)++] = xstrdup (sev);
  nl[(*n)++] = why;
  nl[*n] = NULL;
}

/* ext2/3/4: the superblock's state, as tune2fs -l says it. */
static void
probe_ext (struct guest *gs, const char *dev, const char *type, char ***l,
           size_t *n)
{
  struct guest_ext_state st;

  if (guest_ext_state (gs, dev, &st) == 0 && strcmp (st.state, "clean"))
    add_dirty (l, n, dev, st.errors ? "blocker" : "warning",
               xasprintf ("%s filesystem state is \"%s\"", type, st.state));
}

/* XFS keeps no clean flag: xfs_repair -n (which writes nothing) exits 1
 * when the log holds changes not yet replayed, or on inconsistencies;
 * it cannot tell which without its output, so: a warning, as an ext4
 * state that is not clean.  It reads the metadata, not the data. */
static void
probe_xfs (guestfs_h *g, const char *dev, char ***l, size_t *n)
{
  const char *xfs[] = { "xfs", NULL };
  int r;

  if (guestfs_feature_available (g, (char **) xfs) != 1) {
    azp_debug ("%s: no XFS tools in the appliance: not checked", dev);
    return;
  }
  r = guestfs_xfs_repair (g, dev, GUESTFS_XFS_REPAIR_NOMODIFY, 1, -1);
  if (r == 1)
    add_dirty (l, n, dev, "warning",
               xstrdup ("XFS log not replayed, or inconsistencies "
                        "(xfs_repair -n): the VM was not shut down "
                        "cleanly"));
}

/* NTFS: ntfs-3g.probe's status: 13 corrupt, 14 hibernated, 15 unclean
 * (Fast Startup, or not shut down); 16 "locked" is only our own
 * read-only mount, and the others say nothing about the volume. */
static void
probe_ntfs (guestfs_h *g, const char *dev, char ***l, size_t *n)
{
  int r = guestfs_ntfs_3g_probe (g, 1, dev);
  const char *why = r == 13 ? "is corrupt"
    : r == 14 ? "is hibernated (Windows hibernation or Fast Startup)"
    : r == 15 ? "was not cleanly unmounted (Fast Startup, or a crash)"
    : NULL;
  if (why)
    add_dirty (l, n, dev, "blocker",
               xasprintf ("NTFS %s: it cannot be written", why));
}

char **
check_probe_dirty (struct guest *gs, char *const *fses)
{
  guestfs_h *g = gs->g;
  char **l = calloc (1, sizeof *l);
  size_t n = 0;

  if (!l) {
    azp_error ("out of memory");
    return NULL;
  }
  guestfs_push_error_handler (g, NULL, NULL);
  for (size_t i = 0; fses && fses[i]; i += 2) {
    const char *dev = fses[i], *type = fses[i + 1];
    if (!strncmp (type, "ext", 3))
      probe_ext (gs, dev, type, &l, &n);
    else if (!strcmp (type, "xfs"))
      probe_xfs (g, dev, &l, &n);
    else if (!strcmp (type, "ntfs"))
      probe_ntfs (g, dev, &l, &n);
  }
  guestfs_pop_error_handler (g);
  return l;
}

static int
check_dirty (const struct check_ctx *ctx)
{
  char **d = ctx->dirty;

  for (size_t i = 0; d && d[i]; i += 3) {
    bool blocker = !strcmp (d[i + 1], "blocker");
    if (rule_finding (ctx, &filesystem_dirty,
                      blocker ? SEV_BLOCKER : SEV_WARNING, d[i],
                      strstr (d[i + 2], "NTFS")
                      ? "run chkdsk /f on the source and shut Windows "
                      "down fully (no Fast Startup)"
                      : "run fsck on the source, or shut the VM down "
                      "cleanly", "%s", d[i + 2]) == -1)
      return -1;
  }
  return 0;
}
static const struct rule filesystem_dirty = {
  "filesystem-dirty", "every filesystem was cleanly unmounted (ext2/3/4, "
  "XFS, NTFS)", SEV_BLOCKER, RULE_NEEDS_GUEST, check_dirty,
};
RULE (filesystem_dirty);

/* Free space the fixups need: initramfs rebuilds on /boot, backups and
 * new files on /; Windows: registry hives and drivers on C:. */
static int
check_free (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  bool windows = gs->type && !strcmp (gs->type, "windows");
  struct { const char *path; int64_t need; } where[2] = {
    { "/", windows ? 200 * MiB : 64 * MiB },
    { "/boot", 100 * MiB },
  };
  CLEANUP_FREE_STRING_LIST char **mps = NULL;
  bool separate_boot = false;

  /* The space was for the fixups: they have written their files. */
  if (ctx->after_fixups)
    return 0;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  mps = guestfs_mountpoints (gs->g);
  guestfs_pop_error_handler (gs->g);
  for (size_t i = 0; mps && mps[i]; i += 2)
    if (!strcmp (mps[i + 1], "/boot"))
      separate_boot = true;
  if (!windows && !separate_boot)     /* /boot is on /: needs both */
    where[0].need += where[1].need;
  for (size_t i = 0; i < (!windows && separate_boot ? 2 : 1); i++) {
    struct guestfs_statvfs *st;
    int64_t avail;
    guestfs_push_error_handler (gs->g, NULL, NULL);
    st = guestfs_statvfs (gs->g, where[i].path);
    guestfs_pop_error_handler (gs->g);
    if (!st)
      continue;
    avail = st->bavail * st->bsize;
    guestfs_free_statvfs (st);
    if (avail < where[i].need &&
        rule_finding (ctx, &free_space, SEV_BLOCKER, where[i].path,
                      "free some space on the source",
                      "%lld MiB free, the fixups need %lld MiB",
                      (long long) (avail / MiB),
                      (long long) (where[i].need / MiB)) == -1)
      return -1;
  }
  return 0;
}
static const struct rule free_space = {
  "free-space", "enough free space for the fixups (Linux: 64 MiB on /, "
  "100 MiB on /boot; Windows: 200 MiB)", SEV_BLOCKER, RULE_NEEDS_OS,
  check_free,
};
RULE (free_space);

static int
check_swap (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  const struct fstab_entry *e = ctx->fstab;
  CLEANUP_FREE char *os_disk = NULL;

  if (!gs->type || strcmp (gs->type, "linux"))
    return 0;
  if (ctx->nfstab == -1)
    return -1;
  os_disk = check_device_disk (ctx, gs->root);
  for (ssize_t i = 0; os_disk && i < ctx->nfstab; i++) {
    CLEANUP_FREE char *dev = NULL, *disk = NULL;
    if (strcmp (e[i].type, "swap"))
      continue;
    dev = check_resolve_spec (ctx, e[i].spec);
    disk = dev ? check_device_disk (ctx, dev) : NULL;
    if (disk && !strcmp (disk, os_disk) &&
        rule_finding (ctx, &swap_on_os_disk, SEV_WARNING, e[i].spec,
                      "use the Azure resource disk for swap (waagent "
                      "ResourceDisk.EnableSwap or cloud-init) and "
                      "remove this one",
                      "swap on the OS disk (%s): Azure recommends swap "
                      "on the temporary resource disk", dev) == -1)
      return -1;
  }
  return 0;
}
static const struct rule swap_on_os_disk = {
  "swap-on-os-disk", "no swap on the OS disk", SEV_WARNING, RULE_NEEDS_OS,
  check_swap,
};
RULE (swap_on_os_disk);

static int
check_netfs (const struct check_ctx *ctx)
{
  struct guest *gs = ctx->gs;
  const struct fstab_entry *e = ctx->fstab;

  if (!gs->type || strcmp (gs->type, "linux"))
    return 0;
  if (ctx->nfstab == -1)
    return -1;
  for (ssize_t i = 0; i < ctx->nfstab; i++) {
    if (fstab_is_network (&e[i]) &&
        rule_finding (ctx, &fstab_netfs, SEV_WARNING, e[i].mp,
                      "make sure the server is reachable from Azure, "
                      "and add nofail so that boot does not wait",
                      "network filesystem %s (%s) in /etc/fstab",
                      e[i].spec, e[i].type) == -1)
      return -1;
  }
  return 0;
}
static const struct rule fstab_netfs = {
  "fstab-network-filesystem", "no network filesystems in /etc/fstab",
  SEV_WARNING, RULE_NEEDS_OS, check_netfs,
};
RULE (fstab_netfs);
