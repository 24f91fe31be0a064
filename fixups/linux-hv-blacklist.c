/* linux-hv-blacklist: Hyper-V modules blacklisted in /etc/modprobe.d
 * ("blacklist hv_netvsc", "install hv_vmbus /bin/true") never load on
 * Azure.  The lines are commented out, before the initramfs rebuild
 * (which copies modprobe.d into the initramfs). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static int
scan (struct guest *gs, bool fix)
{
  CLEANUP_FREE_STRING_LIST char **files =
    guestfs_glob_expand (gs->g, "/etc/modprobe.d/*.conf");

  for (size_t i = 0; files && files[i]; i++) {
    CLEANUP_FREE char *text = distro_read_config (gs, files[i]);
    CLEANUP_FREE char *out = NULL;
    struct lines ls;
    size_t n;

    if (!text)
      return -1;
    if (fix) {
      out = modprobe_unblock_hv (text, &n);
      if (n && (!out || guest_write_file (gs, files[i], out,
                                          strlen (out)) == -1))
        return -1;
      continue;
    }
    if (lines_split (&ls, text) == -1)
      return -1;
    for (size_t j = 0; j < ls.n; j++)
      if (modprobe_line_blocks_hv (ls.l[j]) &&
          report_finding (gs->report, SEV_BLOCKER, "linux-hv-blacklisted",
                          files[i], NULL, true,
                          "line %zu disables a Hyper-V module: %s", j + 1,
                          ls.l[j]) == -1) {
        lines_free (&ls);
        return -1;
      }
    lines_free (&ls);
  }
  return 0;
}

static const struct fixup linux_hv_blacklist = {
  .name = "linux-hv-blacklist",
  .heading = "un-blacklist the Hyper-V modules in /etc/modprobe.d",
  .order = 110,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = scan,
};
FIXUP (linux_hv_blacklist);
