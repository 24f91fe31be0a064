/* linux-boot-params: the kernel command line for Azure's serial console
 * and slow storage (console=tty1 console=ttyS0,115200n8
 * earlyprintk=ttyS0,115200 rootdelay=300), stable interface names
 * (net.ifnames=0: the first NIC is eth0), no "rhgb quiet", root= and
 * resume= on UUIDs, and GRUB's serial terminal, in /etc/default/grub
 * (and /etc/kernel/cmdline where the guest has it).  linux-grub-config
 * then regenerates the configuration GRUB reads. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"
#include "fixups/bootparams.h"

static const char grub_default[] = "/etc/default/grub";
static const char kernel_cmdline[] = "/etc/kernel/cmdline";

/* The new /etc/default/grub, and one finding per setting changed. */
static char *
plan (struct guest *gs, const char *text, bool report, int *err)
{
  struct { const char *key; bool add; } cmd[] = {
    { "GRUB_CMDLINE_LINUX", true }, { "GRUB_CMDLINE_LINUX_DEFAULT", false },
  };
  struct { const char *key, *value; } set[] = {
    { "GRUB_TERMINAL", GRUB_TERMINAL_VALUE },
    { "GRUB_SERIAL_COMMAND", GRUB_SERIAL },
  };
  char *s = xstrdup (text), *t;

  *err = 0;
  for (size_t i = 0; s && i < sizeof cmd / sizeof cmd[0]; i++) {
    CLEANUP_FREE char *old = kv_get (s, cmd[i].key);
    CLEANUP_FREE char *nv = NULL;
    if (!old && !cmd[i].add)
      continue;
    nv = boot_cmdline_fix (gs, old, cmd[i].add);
    if (!nv || (old && !strcmp (old, nv)))
      continue;
    if (report &&
        report_finding (gs->report, SEV_WARNING, "linux-boot-params",
                        grub_default, NULL, true, "%s=\"%s\" becomes \"%s\"",
                        cmd[i].key, old ? old : "", nv) == -1)
      *err = -1;
    t = kv_set (s, cmd[i].key, nv);
    free (s);
    s = t;
  }
  for (size_t i = 0; s && i < sizeof set / sizeof set[0]; i++) {
    CLEANUP_FREE char *old = kv_get (s, set[i].key);
    if (old && !strcmp (old, set[i].value))
      continue;
    if (report &&
        report_finding (gs->report, SEV_WARNING, "linux-grub-serial",
                        grub_default, NULL, true, "%s=\"%s\" becomes \"%s\"",
                        set[i].key, old ? old : "", set[i].value) == -1)
      *err = -1;
    t = kv_set (s, set[i].key, set[i].value);
    free (s);
    s = t;
  }
  {
    CLEANUP_FREE char *uuid = s ? kv_get (s, "GRUB_DISABLE_LINUX_UUID") : NULL;
    if (uuid && !strcmp (uuid, "true")) {
      if (report &&
          report_finding (gs->report, SEV_WARNING, "linux-grub-root-device",
                          grub_default, NULL, true, "GRUB_DISABLE_LINUX_UUID"
                          "=true puts a device name in root=") == -1)
        *err = -1;
      t = kv_remove (s, "GRUB_DISABLE_LINUX_UUID");
      free (s);
      s = t;
    }
  }
  if (!s)
    *err = -1;
  return s;
}

static int
run (struct guest *gs, bool fix)
{
  CLEANUP_FREE char *text = NULL, *out = NULL;
  int err;

  if (!guest_exists (gs, grub_default))
    return fix ? 0
      : report_finding (gs->report, SEV_WARNING, "linux-grub-default-missing",
                        grub_default, "set the kernel command line by hand",
                        false, "no GRUB settings file: the boot parameters "
                        "cannot be set");
  text = distro_read_config (gs, grub_default);
  if (!text)
    return -1;
  out = plan (gs, text, !fix, &err);
  if (err)
    return -1;
  if (fix && strcmp (out, text) &&
      guest_write_file (gs, grub_default, out, strlen (out)) == -1)
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
