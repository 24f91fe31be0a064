/* linux-distro: is this a Linux guest azprep can prepare?  Reports
 * blockers (unsupported distribution, no kernel, no initramfs tool,
 * kernels without Hyper-V drivers) that no fixup can repair offline. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

static int
check (struct guest *gs)
{
  struct distro_data *d = distro_get (gs);

  if (!d)
    return -1;
  if (!d->ops)
    return report_finding (gs->report, SEV_BLOCKER, "linux-distro-unsupported",
                           "/etc/os-release",
                           "supported: Debian, Ubuntu, RHEL and derivatives, "
                           "SLES/openSUSE", false,
                           "distribution '%s' (%s) is not supported",
                           gs->distro ? gs->distro : "unknown",
                           gs->product_name ? gs->product_name : "?");
  if (d->nkernels == 0)
    return report_finding (gs->report, SEV_BLOCKER, "linux-no-kernel",
                           "/boot", "install a kernel package on the source",
                           false, "no installed kernel (/boot/vmlinuz-* with "
                           "/lib/modules/*)");
  if (!d->initramfs)
    return report_finding (gs->report, SEV_BLOCKER, "linux-no-initramfs-tool",
                           "/usr/sbin", "install initramfs-tools or dracut on "
                           "the source", false,
                           "no initramfs tool in the guest (looked for %s)",
                           d->ops->initramfs_prefer[0]);
  for (size_t i = 0; i < d->nkernels; i++) {
    const struct kernel *k = &d->kernels[i];
    if (k->absent && k->absent[0] &&
        report_finding (gs->report, SEV_BLOCKER, "linux-kernel-no-hyperv",
                        k->vmlinuz, "install a kernel with Hyper-V drivers "
                        "(or remove this one) on the source", false,
                        "kernel %s has no %s driver (neither module nor "
                        "built in)", k->version, k->absent[0]) == -1)
      return -1;
  }
  return 0;
}

static const struct fixup linux_distro = {
  .name = "linux-distro",
  .heading = "check the distribution, kernels and initramfs tool",
  .order = 10,
  .guests = FIXUP_LINUX,
  .check = check,
};
FIXUP (linux_distro);
