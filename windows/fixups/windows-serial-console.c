/* windows-serial-console: the Azure serial console (EMS/SAC) and boot
 * settings in the BCD store, as "bcdedit /set {bootmgr} bootems yes",
 * "/ems {default} on", "/emssettings EMSPORT:1 EMSBAUDRATE:115200",
 * "recoveryenabled Off", "bootstatuspolicy IgnoreAllFailures",
 * "displaybootmenu yes", "timeout 5".  The BCD is a hive:
 * Objects\{guid}\Elements\<element id>\Element.  {default} is not
 * stored: it is {bootmgr}'s element 23000003.  Device elements are
 * never touched. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

static const unsigned char on[] = { 1 }, off[] = { 0 };
static const unsigned char int1[8] = { 1 }, int5[8] = { 5 };
static const unsigned char baud[8] = { 0x00, 0xc2, 0x01 };   /* 115200 */

static void
add (struct win_rows *p, const char *object, const char *element,
     const unsigned char *data, size_t len, const char *why)
{
  snprintf (p->path[p->n], sizeof p->path[0], "Objects\\%s\\Elements\\%s",
            object, element);
  p->r[p->n] = (struct win_reg) {
    "windows-bcd-setting", HIVE_BCD, p->path[p->n], "Element", WIN_BINARY,
    .bin = data, .binlen = len, .why = why,
  };
  p->n++;
}

/* Resolve {default} and build the rows.  Errors (no {bootmgr}, no
 * default, a missing loader) name the BCD and the key. */
static int
plan (struct guest *gs, struct win_rows *p)
{
  struct windows_state *st = win_state (gs);
  CLEANUP_HIVE_CLOSE hive_h *h = win_hive_open (gs, HIVE_BCD, false);
  CLEANUP_FREE char *where = NULL, *loader = NULL;
  struct win_value v = { 0 };
  int64_t root, bm, def, ld, ems;
  int ret = -1;

  p->n = 0;
  if (!h)
    return -1;
  where = xasprintf ("BCD %s%s%s", st->bcd_device ? st->bcd_device : "",
                     st->bcd_device ? ":" : "", st->bcd_path);
  root = hivex_root (h);
  bm = win_key_lookup (h, "BCD", root, "Objects\\" WIN_BOOTMGR);
  if (bm == 0)
    azp_error ("%s: no {bootmgr} object (Objects\\%s): not a Windows boot "
               "store, or a damaged one", where, WIN_BOOTMGR);
  if (bm <= 0)
    goto out;
  def = win_key_lookup (h, "BCD", bm, "Elements\\23000003");
  if (def > 0 && win_value_get (h, def, "Element", where, &v) == -1)
    goto out;
  if (v.present && (v.type == hive_t_REG_SZ))
    loader = win_value_text (&v);
  win_value_free (&v);
  if (!loader || loader[0] != '{' || strlen (loader) != 38) {
    azp_error ("%s: {bootmgr} has no valid default entry (Objects\\%s\\"
               "Elements\\23000003)", where, WIN_BOOTMGR);
    goto out;
  }
  {
    CLEANUP_FREE char *k = xasprintf ("Objects\\%s", loader);
    ld = k ? win_key_lookup (h, "BCD", root, k) : -1;
  }
  if (ld == 0)
    azp_error ("%s: the default boot entry %s does not exist", where, loader);
  if (ld <= 0)
    goto out;
  ems = win_key_lookup (h, "BCD", root, "Objects\\" WIN_EMSSETTINGS);
  if (ems == -1)
    goto out;

  add (p, WIN_BOOTMGR, "16000020", on, 1, "boot manager EMS is off");
  add (p, WIN_BOOTMGR, "26000020", on, 1, "boot menu is hidden");
  add (p, WIN_BOOTMGR, "25000004", int5, 8, "boot menu timeout is not 5");
  add (p, loader, "260000b0", on, 1, "EMS is off for the default entry");
  add (p, loader, "16000009", off, 1, "automatic recovery is on");
  add (p, loader, "250000e0", int1, 8, "boot status policy is not "
       "IgnoreAllFailures");
  if (ems > 0) {
    add (p, WIN_EMSSETTINGS, "15000022", int1, 8, "EMS port is not COM1");
    add (p, WIN_EMSSETTINGS, "15000023", baud, 8, "EMS speed is not 115200");
  }
  else if (report_finding (gs->report, SEV_WARNING, "windows-bcd-no-ems",
                           where, "run 'bcdedit /emssettings EMSPORT:1 "
                           "EMSBAUDRATE:115200' after the first boot",
                           false, "the BCD has no {emssettings} object: "
                           "EMS port and speed not set") == -1)
    goto out;
  ret = 0;
 out:
  return ret;
}

static const struct win_reg sac[] = {
  { "windows-service-start", HIVE_SYSTEM, "Services\\sacsvr", "Start",
    WIN_DWORD, 2, .flags = WIN_IF_KEY,
    .why = "the Special Administration Console service is not Automatic" },
};

static const struct win_table bcd_table = { "windows-serial-console",
                                            .build = plan };
WIN_TABLE (bcd_table);
WIN_STATIC_TABLE (sac, "windows-serial-console", sac);

static int
serial_check (struct guest *gs)
{
  struct win_rows p;
  int r = win_bcd_locate (gs);

  if (r == -1)
    return -1;
  if (r == 1)
    return report_finding (gs->report, SEV_WARNING, "windows-bcd-not-found",
                           gs->root, "check the boot partition", false,
                           "no BCD store found (\\Boot\\BCD on the System "
                           "Reserved partition or C:, "
                           "\\EFI\\Microsoft\\Boot\\BCD on the ESP): serial "
                           "console not configured");
  if (win_data (gs)->hives[HIVE_BCD].local == NULL) {
    hive_h *h = win_hive_open (gs, HIVE_BCD, false);
    if (!h)
      return -1;
    hivex_close (h);
  }
  if (win_data (gs)->hives[HIVE_BCD].dirty_header)
    return report_finding (gs->report, SEV_BLOCKER, "windows-hive-dirty",
                           win_data (gs)->bcd_path, "boot Windows on the "
                           "source and shut it down fully", false,
                           "the BCD hive was not saved cleanly (sequence "
                           "numbers differ)");
  if (plan (gs, &p) == -1 || win_table_check (gs, p.r, p.n) == -1
      || win_table_check (gs, sac, 1) == -1)
    return -1;
  if (gs->product_variant && !strcasestr (gs->product_variant, "Server"))
    return report_finding (gs->report, SEV_INFO, "windows-next-sac", NULL,
                           "DISM /Online /Add-Capability "
                           "/CapabilityName:Windows.Desktop.EMS-SAC.Tools",
                           false, "on a client edition the serial console "
                           "needs the EMS-SAC capability, installed from "
                           "the running guest");
  return 0;
}

static int
serial_apply (struct guest *gs)
{
  struct win_rows p;
  struct report *saved = gs->report, *scratch;
  int r;

  /* plan() may report a warning that check() already reported. */
  scratch = report_new ();
  if (!scratch)
    return -1;
  gs->report = scratch;
  r = plan (gs, &p);
  gs->report = saved;
  report_free (scratch);
  if (r == -1 || win_table_apply (gs, p.r, p.n) == -1)
    return -1;
  return win_table_apply (gs, sac, 1);
}

static const struct fixup windows_serial_console = {
  .name = "windows-serial-console",
  .heading = "serial console (EMS on COM1, 115200) and boot policy in "
             "the BCD",
  .order = 320,
  .guests = FIXUP_WINDOWS,
  .applies = win_not_refused,
  .check = serial_check,
  .apply = serial_apply,
};
FIXUP (windows_serial_console);
