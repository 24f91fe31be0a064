/* linux-fs-state: refuse to write into a file system the guest mounts
 * when it is damaged or read-only.  Blockers only:
 *   linux-fs-errors    ext2/3/4 with errors recorded in its superblock
 *                      (the kernel found corruption; fsck has not run)
 *   linux-fs-readonly  the read-only feature, or (fix) the kernel
 *                      mounted it read-only although asked for writing
 * Writing there could lose data or fail half-way; the fix is fsck or
 * tune2fs on the source VM. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"

#define ST_RDONLY_FLAG 1        /* statvfs f_flag ST_RDONLY */

/* "/dev/sda1 (/, disk guest.img)": where the file system is. */
static char *
describe (struct guest *gs, const char *dev, const char *mp)
{
  CLEANUP_FREE char *whole = NULL;
  int idx = -1;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  whole = guestfs_part_to_dev (gs->g, dev);
  idx = guestfs_device_index (gs->g, whole ? whole : dev);
  guestfs_pop_error_handler (gs->g);
  if (idx >= 0 && (size_t) idx < gs->ndisks)
    return xasprintf ("%s (mounted on %s, disk %s)", dev, mp,
                      gs->disks[idx].path);
  return xasprintf ("%s (mounted on %s)", dev, mp);
}

/* The filesystem type: from the block device table (blkid, read once),
 * else asked (a device the table does not name). */
static char *
fs_type (struct guest *gs, const char *dev)
{
  CLEANUP_FREE char *canon = guest_resolve_spec (gs, dev);
  const struct guest_blockdev *b = canon ? guest_blockdev (gs, canon) : NULL;
  char *type;

  if (b)
    return b->type ? xstrdup (b->type) : NULL;
  guestfs_push_error_handler (gs->g, NULL, NULL);
  type = guestfs_vfs_type (gs->g, dev);
  guestfs_pop_error_handler (gs->g);
  return type;
}

static int
check_one (struct guest *gs, const char *dev, const char *mp)
{
  CLEANUP_FREE char *type = fs_type (gs, dev), *where = NULL;
  struct guest_ext_state sb;
  bool ext = type && !strncmp (type, "ext", 3) &&
    guest_ext_state (gs, dev, &sb) == 0;

  /* Where it is (two more questions) only when there is a finding. */
  if (ext && sb.errors) {
    where = describe (gs, dev, mp);
    if (!where ||
        report_finding (gs->report, SEV_BLOCKER, "linux-fs-errors", mp,
                        "repair it on the source VM (fsck, e2fsck -f), "
                        "then run azprep again", false,
                        "%s: the %s file system has errors recorded "
                        "(state: %s): repair it with fsck (e2fsck -f) on "
                        "the source VM first", where, type, sb.state) == -1)
      return -1;
  }
  if (ext && sb.readonly) {
    if (!where && !(where = describe (gs, dev, mp)))
      return -1;
    return report_finding (gs->report, SEV_BLOCKER, "linux-fs-readonly", mp,
                           "clear it on the source VM (tune2fs -O "
                           "^read-only) if the guest is meant to write there",
                           false, "%s: the %s file system has the read-only "
                           "feature: it cannot be written", where, type);
  }
  if (!gs->readonly) {
    struct guestfs_statvfs *st;
    bool ro;
    guestfs_push_error_handler (gs->g, NULL, NULL);
    st = guestfs_statvfs (gs->g, mp);
    guestfs_pop_error_handler (gs->g);
    ro = st && (st->flag & ST_RDONLY_FLAG);
    guestfs_free_statvfs (st);
    if (!ro)
      return 0;
    if (!where)
      where = describe (gs, dev, mp);
    return where ? report_finding (gs->report, SEV_BLOCKER,
                                   "linux-fs-readonly", mp,
                                   "check the file system on the source VM",
                                   false, "%s: the %s file system was "
                                   "mounted read-only although azprep asked "
                                   "to write (see the kernel's reason with "
                                   "-v -v)", where, type ? type : "?") : -1;
  }
  return 0;
}

static int
check (struct guest *gs)
{
  CLEANUP_FREE_STRING_LIST char **mps = guestfs_mountpoints (gs->g);

  if (!mps) {
    azp_error ("cannot list the mounted file systems: %s",
               guestfs_last_error (gs->g));
    return -1;
  }
  for (size_t i = 0; mps[i] && mps[i + 1]; i += 2)
    if (check_one (gs, mps[i], mps[i + 1]) == -1)
      return -1;
  return 0;
}

static const struct fixup linux_fs_state = {
  .name = "linux-fs-state",
  .heading = "refuse damaged or read-only file systems (blockers only)",
  .order = 5,
  .guests = FIXUP_LINUX,
  .check = check,
  .gate = true,
};
FIXUP (linux_fs_state);
