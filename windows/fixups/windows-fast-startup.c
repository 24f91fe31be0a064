/* windows-fast-startup: turn Fast Startup off, so that the next
 * shutdown on Azure (or back on the source) leaves a clean NTFS. */
#include "prep/common/common.h"
#include "prep/fixup.h"
#include "windows/windows.h"

static const struct win_reg rows[] = {
  { "windows-fast-startup", HIVE_SYSTEM, "Control\\Session Manager\\Power",
    "HiberbootEnabled", WIN_DWORD, 0, .flags = WIN_IF_KEY,
    .why = "Fast Startup is on" },
};

WIN_TABLE_FIXUP_FUNCS (fast, "windows-fast-startup", rows)

static const struct fixup windows_fast_startup = {
  .name = "windows-fast-startup",
  .heading = "Fast Startup off (HiberbootEnabled = 0)",
  .order = 310,
  .guests = FIXUP_WINDOWS,
  .applies = win_not_refused,
  .check = fast_check,
  .apply = fast_apply,
};
FIXUP (windows_fast_startup);
