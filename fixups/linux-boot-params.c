/* linux-boot-params: the kernel command line for Azure's serial console
 * and slow storage (console=tty1 console=ttyS0,115200n8
 * earlyprintk=ttyS0,115200 rootdelay=300), stable interface names
 * (net.ifnames=0: the first NIC is eth0), no "rhgb quiet", root= and
 * resume= on UUIDs, and GRUB's serial terminal, in /etc/default/grub and
 * its drop-ins in /etc/default/grub.d (edited where each setting is)
 * (and /etc/kernel/cmdline where the guest has it).  linux-grub-config
 * then regenerates the configuration GRUB reads. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"
#include "fixups/bootparams.h"
#include "fixups/grub-edit.h"

static const char grub_default[] = "/etc/default/grub";
static const char kernel_cmdline[] = "/etc/kernel/cmdline";

static int
by_name (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* /etc/default/grub and its drop-ins, which grub-mkconfig sources
 * after it in name order (a drop-in's setting wins). */
static int
grub_defaults (struct guest *gs, bool fix)
{
  CLEANUP_FREE_STRING_LIST char **dropins =
    guestfs_glob_expand (gs->g, "/etc/default/grub.d/*.cfg");
  size_t nd = dropins ? count_strings (dropins) : 0, n = nd + 1;
  const char *names[n];
  char *texts[n], *outs[n];
  struct devmap dm = devmap_of_guest (gs);
  struct grub_edit ge = { boot_params_wanted (gs), &dm, gs->report, fix };
  int r = 0;

  if (nd)
    qsort (dropins, nd, sizeof *dropins, by_name);
  names[0] = grub_default;
  for (size_t i = 0; i < nd; i++)
    names[i + 1] = dropins[i];
  memset (texts, 0, sizeof texts);
  memset (outs, 0, sizeof outs);
  for (size_t i = 0; r == 0 && i < n; i++)
    if (!(texts[i] = distro_read_config (gs, names[i])))
      r = -1;
  if (r == 0)
    r = grub_defaults_edit (&ge, n, names, (const char *const *) texts,
                            outs);
  for (size_t i = 0; r == 0 && i < n; i++)
    if (outs[i] && guest_write_file (gs, names[i], outs[i],
                                     strlen (outs[i])) == -1)
      r = -1;
  for (size_t i = 0; i < n; i++) {
    free (texts[i]);
    free (outs[i]);
  }
  return r;
}

static int
run (struct guest *gs, bool fix)
{
  if (!guest_exists (gs, grub_default))
    return fix ? 0
      : report_finding (gs->report, SEV_WARNING, "linux-grub-default-missing",
                        grub_default, "set the kernel command line by hand",
                        false, "no GRUB settings file: the boot parameters "
                        "cannot be set");
  if (grub_defaults (gs, fix) == -1)
    return -1;
  if (guest_exists (gs, kernel_cmdline)) {
    CLEANUP_FREE char *kc = distro_read_config (gs, kernel_cmdline);
    CLEANUP_FREE char *nk = NULL, *nl = NULL;
    if (!kc)
      return -1;
    kc[strcspn (kc, "\n")] = '\0';
    nk = boot_cmdline_fix (gs, kc, true);
    if (!nk)
      return -1;
    if (strcmp (nk, kc)) {
      if (!fix)
        return report_finding (gs->report, SEV_WARNING, "linux-boot-params",
                               kernel_cmdline, NULL, true, "\"%s\" becomes "
                               "\"%s\"", kc, nk);
      nl = xasprintf ("%s\n", nk);
      if (!nl || guest_write_file (gs, kernel_cmdline, nl, strlen (nl)) == -1)
        return -1;
    }
  }
  return 0;
}

static const struct fixup linux_boot_params = {
  .name = "linux-boot-params",
  .heading = "serial console, rootdelay, net.ifnames=0, GRUB serial terminal",
  .order = 320,
  .guests = FIXUP_LINUX,
  .applies = distro_supported,
  .run = run,
};
FIXUP (linux_boot_params);
