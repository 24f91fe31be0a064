/* windows-msft1000: Windows Server 2012 and 2012 R2 on current Azure
 * hosts.  The hosts now present the VMBus as ACPI\MSFT1000 (and the
 * generation counter as ACPI\MSFT1002); these releases know only
 * ACPI\VMBus and stop with 0x7B.  Microsoft's offline workaround copies
 * the device's Enum keys under the new ids, which is possible only when
 * the guest ran on Hyper-V before (the source keys exist).  Otherwise
 * this says so plainly. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

static const char *const pairs[][2] = {
  { "VMBus", "MSFT1000" },
  { "Hyper_V_Gen_Counter_V1", "MSFT1002" },
};
#define NPAIRS (sizeof pairs / sizeof pairs[0])
#define ACPI "Enum\\ACPI"

static bool
is_2012 (struct guest *gs)
{
  return gs->major == 6 && (gs->minor == 2 || gs->minor == 3)
    && win_not_refused (gs);
}

/* Copy the key src (values and subkeys) as child name of parent. */
static int
copy_tree (hive_h *h, hive_node_h src, hive_node_h parent, const char *name,
           const char *object)
{
  CLEANUP_FREE hive_value_h *vals = hivex_node_values (h, src);
  CLEANUP_FREE hive_node_h *kids = hivex_node_children (h, src);
  hive_set_value *sv = NULL;
  hive_node_h dst;
  size_t n = 0;
  int ret = -1;

  if (!vals || !kids) {
    azp_error ("%s: %m", object);
    return -1;
  }
  dst = hivex_node_add_child (h, parent, name);
  if (dst == 0) {
    azp_error ("%s: cannot create %s: %m", object, name);
    return -1;
  }
  while (vals[n])
    n++;
  sv = calloc (n + 1, sizeof *sv);
  if (!sv) {
    azp_error ("out of memory");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    sv[i].key = hivex_value_key (h, vals[i]);
    sv[i].value = hivex_value_value (h, vals[i], &sv[i].t, &sv[i].len);
    if (!sv[i].key || !sv[i].value) {
      azp_error ("%s: %m", object);
      goto out;
    }
  }
  if (hivex_node_set_values (h, dst, n, sv, 0) == -1) {
    azp_error ("%s: %m", object);
    goto out;
  }
  for (size_t i = 0; kids[i]; i++) {
    CLEANUP_FREE char *kn = hivex_node_name (h, kids[i]);
    if (!kn || copy_tree (h, kids[i], dst, kn, object) == -1)
      goto out;
  }
  ret = 0;
 out:
  for (size_t i = 0; i < n; i++) {
    free (sv[i].key);
    free (sv[i].value);
  }
  free (sv);
  return ret;
}

static int
run (struct guest *gs, bool apply)
{
  CLEANUP_HIVE_CLOSE hive_h *h = win_hive_open (gs, HIVE_SYSTEM, apply);
  int64_t base, acpi = 0;
  bool changed = false;
  int ret = -1;

  if (!h)
    return -1;
  base = win_table_base (gs, h, HIVE_SYSTEM);
  if (base != -1)
    acpi = win_key_lookup (h, "SYSTEM", base, ACPI);
  if (base == -1 || acpi == -1)
    goto out;
  if (!apply
      && report_finding (gs->report, SEV_WARNING, "windows-2012-msft1000",
                         gs->root, "upgrade to Windows Server 2016 or later "
                         "if you can", false, "%s on current Azure hosts: "
                         "the VMBus is presented as ACPI\\MSFT1000, which "
                         "this release does not know (0x7B at boot)",
                         gs->product_name ? gs->product_name
                         : "Windows Server 2012") == -1)
    goto out;
  for (size_t i = 0; i < NPAIRS; i++) {
    CLEANUP_FREE char *src_path = xasprintf (ACPI "\\%s", pairs[i][0]);
    CLEANUP_FREE char *dst_path = xasprintf (ACPI "\\%s", pairs[i][1]);
    CLEANUP_FREE char *object = win_object (gs, HIVE_SYSTEM, dst_path, NULL);
    int64_t src = acpi > 0 ? win_key_lookup (h, "SYSTEM", acpi, pairs[i][0])
      : 0;
    int64_t dst = acpi > 0 ? win_key_lookup (h, "SYSTEM", acpi, pairs[i][1])
      : 0;

    if (!src_path || !dst_path || !object || src == -1 || dst == -1)
      goto out;
    if (dst > 0)
      continue;
    if (src == 0) {
      CLEANUP_FREE char *from = win_object (gs, HIVE_SYSTEM, src_path, NULL);
      if (!apply
          && report_finding (gs->report, SEV_WARNING,
                             "windows-msft1000-no-source", from,
                             "boot the guest once on Hyper-V (or install "
                             "the Azure platform update for 2012 R2) before "
                             "migrating", false, "%s does not exist (the "
                             "guest never ran on Hyper-V): the copy to %s "
                             "that avoids 0x7B cannot be made offline",
                             from, pairs[i][1]) == -1)
        goto out;
      continue;
    }
    if (!apply) {
      if (report_finding (gs->report, SEV_WARNING, "windows-msft1000",
                          object, NULL, true, "copy of %s for the new "
                          "Azure device id", src_path) == -1)
        goto out;
      continue;
    }
    if (copy_tree (h, src, acpi, pairs[i][1], object) == -1
        || report_change (gs->report, "registry", object, NULL,
                          "(copy of ACPI key)") == -1)
      goto out;
    changed = true;
  }
  ret = 0;
 out:
  if (ret == 0 && changed)
    return win_hive_commit (gs, HIVE_SYSTEM, win_hive_take (&h));
  return ret;
}

static const struct fixup windows_msft1000 = {
  .name = "windows-msft1000",
  .heading = "Windows Server 2012/2012 R2: VMBus Enum keys for MSFT1000",
  .order = 105,
  .guests = FIXUP_WINDOWS,
  .applies = is_2012,
  .run = run,
};
FIXUP (windows_msft1000);
