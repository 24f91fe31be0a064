/* Unit tests of the block-device table: guest device names mapped by
 * disk order, and fstab specs resolved against a table (no appliance);
 * the ext superblock's state read as tune2fs -l reads it, on
 * filesystems mkfs and tune2fs made on the host. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* tune2fs -l's state and whether it lists the read-only feature;
 * -1 if it cannot read the filesystem. */
static int
tune2fs_says (const char *img, char **state, bool *readonly)
{
  const char *argv[] = { "tune2fs", "-l", img, NULL };
  CLEANUP_FREE char *out = NULL;
  const char *s, *f;

  *state = NULL;
  *readonly = false;
  if (run_command (&out, argv) != 0 || !out)
    return -1;
  s = strstr (out, "\nFilesystem state:");
  f = strstr (out, "\nFilesystem features:");
  if (!s || !f)
    return -1;
  s += strlen ("\nFilesystem state:");
  s += strspn (s, " ");
  *state = strndup (s, strcspn (s, "\n"));
  *readonly = strstr (f, " read-only") &&
    strstr (f, " read-only") < strchr (f + 1, '\n');
  return 0;
}

/* Set the superblock's state as the kernel would (debugfs keeps the
 * ext4 superblock checksum right). */
static int
set_state (const char *img, unsigned state)
{
  CLEANUP_FREE char *req = xasprintf ("ssv state %u", state);
  const char *argv[] = { "debugfs", "-w", "-R", req, img, NULL };
  return req && run_command (NULL, argv) == 0 ? 0 : -1;
}

/* One variant: made, changed, then read both ways.  *n counts them. */
static void
ext_variant (const char *dir, const char *type, const char *tune,
             int state, bool zero_magic, int *n)
{
  CLEANUP_FREE char *img = xasprintf ("%s/%s-%d.img", dir, type, *n);
  const char *mk[] = { "mke2fs", "-q", "-F", "-t", type, img, "4M", NULL };
  const char *t2[] = { "tune2fs", tune && *tune == 'E' ? "-E" : "-O",
                       tune ? tune + 2 : "", img, NULL };
  unsigned char sb[1024];
  struct guest_ext_state st;
  CLEANUP_FREE char *want = NULL;
  bool want_ro;
  int fd, r, rt;

  (*n)++;
  if (!img || run_command (NULL, mk) != 0 ||
      (tune && run_command (NULL, t2) != 0) ||
      (state >= 0 && set_state (img, state) == -1)) {
    fprintf (stderr, "test-storage: cannot make %s (%s)\n", type,
             tune ? tune : "-");
    CHECK (0);
    return;
  }
  if (zero_magic) {
    fd = open (img, O_WRONLY);
    CHECK (fd >= 0 && pwrite (fd, "\0\0", 2, 1024 + 0x38) == 2);
    if (fd >= 0)
      close (fd);
  }
  fd = open (img, O_RDONLY);
  CHECK (fd >= 0 && pread (fd, sb, sizeof sb, 1024) == sizeof sb);
  if (fd >= 0)
    close (fd);
  r = ext_superblock_parse (sb, sizeof sb, &st);
  rt = tune2fs_says (img, &want, &want_ro);
  if (r != rt)
    fprintf (stderr, "%s (%s, state %d%s): read %d, tune2fs %d\n", type,
             tune ? tune : "made", state, zero_magic ? ", no magic" : "",
             r, rt);
  CHECK (r == rt);
  if (r == 0 && rt == 0) {
    CHECK_STR (st.state, want);
    CHECK (st.readonly == want_ro);
    CHECK (st.errors == (strstr (want, "error") != NULL));
  }
}

static void
test_ext_state (void)
{
  static const char *const types[] = { "ext2", "ext3", "ext4" };
  static const int states[] = { -1, 0, 1, 2, 3, 5 };
  char dir[] = "/tmp/azprep-test-ext-XXXXXX";
  int n = 0;

  if (!mkdtemp (dir)) {
    perror (dir);
    CHECK (0);
    return;
  }
  for (size_t t = 0; t < 3; t++) {
    for (size_t s = 0; s < sizeof states / sizeof states[0]; s++)
      ext_variant (dir, types[t], NULL, states[s], false, &n);
    ext_variant (dir, types[t], "E force_fsck", -1, false, &n);
    ext_variant (dir, types[t], "O read-only", -1, false, &n);
    ext_variant (dir, types[t], "O read-only", 2, false, &n);
    ext_variant (dir, types[t], NULL, -1, true, &n);
  }
  {
    struct guest_ext_state st;
    unsigned char shortsb[0x40] = { 0 };
    shortsb[0x38] = 0x53;
    shortsb[0x39] = 0xef;
    CHECK (ext_superblock_parse (shortsb, sizeof shortsb, &st) == -1);
  }
  {
    const char *rm[] = { "rm", "-rf", "--", dir, NULL };
    run_command (NULL, rm);
  }
  printf ("test-storage: %d ext superblocks read as tune2fs -l reads "
          "them\n", n);
}

int
main (void)
{
  test_map ();
  test_resolve ();
  test_ext_state ();
  return UNIT_RESULT ("test-storage");
}
