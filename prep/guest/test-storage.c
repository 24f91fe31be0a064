/* Unit tests of the block-device table: guest device names mapped by
 * disk order, and fstab specs resolved against a table (no appliance). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "prep/common/unit.h"

static void
test_map (void)
{
  static const char *const cases[][2] = {
    { "/dev/sda1", "/dev/sda1" }, { "/dev/vdb2", "/dev/sdb2" },
    { "/dev/hdc", "/dev/sdc" }, { "/dev/xvda3", "/dev/sda3" },
    { "/dev/sdaa1", "/dev/sdaa1" }, { "/dev/nvme0n1p2", "/dev/sda2" },
    { "/dev/nvme1n1", "/dev/sdb" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CLEANUP_FREE char *r = device_map_by_index (cases[i][0]);
    CHECK_STR (r, cases[i][1]);
  }
  CHECK (device_map_by_index ("/dev/mapper/vg-root") == NULL);
  CHECK (device_map_by_index ("/dev/sda1x") == NULL);
  CHECK (device_map_by_index ("/dev/nvme0n1p2junk") == NULL);
  CHECK (device_map_by_index ("/dev/sd") == NULL);
}

static void
test_resolve (void)
{
  struct guest_blockdev b[] = {
    { .device = (char *) "/dev/sda1", .kind = BDEV_PARTITION,
      .type = (char *) "ext4", .uuid = (char *) "0e0e0e0e-aaaa",
      .partuuid = (char *) "1234-01", .partlabel = (char *) "root part" },
    { .device = (char *) "/dev/sda2", .kind = BDEV_PARTITION,
      .type = (char *) "vfat", .uuid = (char *) "0E0E-0102",
      .label = (char *) "EFI" },
    { .device = (char *) "/dev/vg-x/lv_root", .kind = BDEV_LV,
      .type = (char *) "xfs" },
  };
  struct guest gs = { .bdevs = b, .nbdevs = 3, .storage_scanned = true };
  static const char *const cases[][2] = {
    { "UUID=0E0E0E0E-AAAA", "/dev/sda1" },
    { "UUID=\"0e0e-0102\"", "/dev/sda2" },
    { "LABEL=EFI", "/dev/sda2" }, { "PARTUUID=1234-01", "/dev/sda1" },
    { "PARTLABEL=root part", "/dev/sda1" },
    { "/dev/disk/by-uuid/0e0e-0102", "/dev/sda2" },
    { "/dev/disk/by-label/EFI", "/dev/sda2" },
    { "/dev/mapper/vg--x-lv_root", "/dev/vg-x/lv_root" },
    { "/dev/vg-x/lv_root", "/dev/vg-x/lv_root" },
    { "/dev/vda2", "/dev/sda2" }, { "/dev/nvme0n1p1", "/dev/sda1" },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CLEANUP_FREE char *r = guest_resolve_spec (&gs, cases[i][0]);
    CHECK_STR (r, cases[i][1]);
  }
  CHECK (guest_resolve_spec (&gs, "LABEL=efi") == NULL);   /* case counts */
  CHECK (guest_resolve_spec (&gs, "UUID=") == NULL);
  CHECK (guest_resolve_spec (&gs, "/dev/sdb1") == NULL);    /* no disk 2 */
  CHECK (guest_resolve_spec (&gs, "/dev/mapper/nodash") == NULL);
  CHECK (guest_resolve_spec (&gs, "server:/export") == NULL);
  CHECK (guest_blockdev (&gs, "/dev/sda2") == &b[1]);
  CHECK (guest_blockdev (&gs, "/dev/sda3") == NULL);
}

int
main (void)
{
  test_map ();
  test_resolve ();
  return UNIT_RESULT ("test-storage");
}
