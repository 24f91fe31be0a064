/* windows-san-policy: SAN policy OnlineAll, so that Azure data disks
 * come up online with their drive letters (Server 2016+ defaults to
 * OfflineShared when the value is absent). */
#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

static const struct win_reg rows[] = {
  { "windows-san-policy", HIVE_SYSTEM, "Services\\partmgr\\Parameters",
    "SanPolicy", WIN_DWORD, 1, .why = "SAN policy is not OnlineAll" },
};

WIN_TABLE_FIXUP_FUNCS (san, "windows-san-policy", rows)

static const struct fixup windows_san_policy = {
  .name = "windows-san-policy",
  .heading = "SAN policy OnlineAll (data disks come up online)",
  .order = 110,
  .guests = FIXUP_WINDOWS,
  .applies = win_not_refused,
  .check = san_check,
  .apply = san_apply,
};
FIXUP (windows_san_policy);
