/* Rules decided while opening and inspecting the VM (prep/check/vm.c,
 * prep/inspect/inspect.c report their findings): they have no check
 * function, only an id, a heading and a place in the documented list. */
#include "prep/common/common.h"
#include "prep/check/rule.h"

static const struct rule disk_unreadable = {
  "disk-unreadable", "every disk can be read (exists, a known format, "
  "not corrupt, no interrupted fix)", SEV_BLOCKER, RULE_NEEDS_NOTHING, NULL,
};
RULE (disk_unreadable);

static const struct rule no_disks = {
  "no-disks", "the VM's descriptor gives it disks", SEV_BLOCKER,
  RULE_NEEDS_NOTHING, NULL,
};
RULE (no_disks);

static const struct rule os_none = {
  "os-none", "the disks hold an operating system", SEV_BLOCKER,
  RULE_NEEDS_GUEST, NULL,
};
RULE (os_none);

static const struct rule os_multiple = {
  "os-multiple", "the disks hold one operating system, not several",
  SEV_BLOCKER, RULE_NEEDS_GUEST, NULL,
};
RULE (os_multiple);

static const struct rule root_encrypted = {
  "root-encrypted", "the root filesystem is not encrypted (LUKS, "
  "BitLocker)", SEV_BLOCKER, RULE_NEEDS_GUEST, NULL,
};
RULE (root_encrypted);

static const struct rule fs_not_mounted = {
  "filesystem-not-mounted", "every filesystem of the guest mounts",
  SEV_WARNING, RULE_NEEDS_OS, NULL,
};
RULE (fs_not_mounted);
