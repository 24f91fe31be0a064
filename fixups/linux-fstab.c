/* linux-fstab: /etc/fstab and /etc/crypttab on names that survive the
 * move.  Device names (/dev/sdX, /dev/vdX, /dev/nvmeXnYpZ, by-path)
 * become UUID=; UUID=, LABEL=, PARTUUID= and LVM / device-mapper names
 * stay.  Network filesystems and _netdev lines (fstab_is_network, the
 * test check's rule uses) keep their line and get _netdev,nofail
 * (commenting them out would silently lose data mounts; with nofail
 * the boot never waits for them).  Mounts on disks other than the
 * system disk (the one holding /, /boot, /usr, /var) get nofail, so a
 * data disk attached late or not at all does not stop the boot.
 * Everything else on a line (comments, blanks, tabs, the other fields
 * and options) is kept byte for byte. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/fstab.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"
#include "fixups/fstab-edit.h"

static int
run_file (struct guest *gs, bool fix, const char *file, bool fstab)
{
  struct devmap dm = devmap_of_guest (gs);
  struct fstab_edit ed = { file, &dm, gs->report, fix };
  CLEANUP_FREE char *text = NULL, *out = NULL;
  size_t len;

  if (!guest_exists (gs, file))
    return 0;
  text = guest_read_file (gs, file, 1 << 20, &len);
  if (!text)
    return -1;
  if (strlen (text) != len) {
    azp_error ("%s: not a text file", file);
    return -1;
  }
  if ((fstab ? fstab_edit_text (&ed, text, &out)
       : crypttab_edit_text (&ed, text, &out)) == -1)
    return -1;
  return out ? guest_write_file (gs, file, out, strlen (out)) : 0;
}
static int
run (struct guest *gs, bool fix)
{
  if (run_file (gs, fix, "/etc/fstab", true) == -1 ||
      run_file (gs, fix, "/etc/crypttab", false) == -1)
    return -1;
  return 0;
}

static const struct fixup linux_fstab = {
  .name = "linux-fstab",
  .heading = "fstab and crypttab on UUIDs; nofail for data and network "
             "mounts",
  .order = 120,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_fstab);
