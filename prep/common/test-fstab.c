/* Unit tests of the one fstab reader and the network-filesystem table,
 * with the lines on which the three readers it replaced disagreed. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/fstab.h"
#include "prep/common/unit.h"

/* Parse a literal (its length without the NUL) and check the count. */
static ssize_t
parse (const char *text, struct fstab_entry **e)
{
  return fstab_parse (text, strlen (text), e);
}

static void
test_escapes (void)
{
  static const char text[] =
    "LABEL=my\\040data /mnt/my\\040data ext4 defaults 0 2\n"
    "/dev/sdb1 /mnt/tab\\011and\\134slash xfs noatime\n"
    "/dev/sdc1 /mnt/nul\\000kept\\04x ext4 defaults\n";
  struct fstab_entry *e;
  ssize_t n = parse (text, &e);

  CHECK (n == 3);
  if (n != 3)
    return;
  CHECK_STR (e[0].spec, "LABEL=my data");
  CHECK_STR (e[0].mp, "/mnt/my data");
  CHECK (e[0].freq == 0 && e[0].passno == 2);
  CHECK_STR (e[1].mp, "/mnt/tab\tand\\slash");
  CHECK_STR (e[1].opts, "noatime");
  /* \000 would cut the string, \04x is no escape: both stay. */
  CHECK_STR (e[2].mp, "/mnt/nul\\000kept\\04x");
  fstab_free (e, n);
}

static void
test_layout (void)
{
  /* Comments (whole and trailing), blanks, tabs, CRs, short lines, a
   * line of seven fields, and no final newline. */
  static const char text[] =
    "# /etc/fstab\n"
    "\n"
    "   \t  \n"
    "  # indented comment\n"
    "#/dev/sdc1 /old ext4 defaults 0 0\n"
    "/dev/sda1\t/\text4\tdefaults,noatime\t1 1\n"
    "   /dev/sda2    none    swap   sw     0  0   \n"
    "UUID=0a1b /boot ext4 defaults 0 2 # boot\r\n"
    "/dev/sdd1 /short\n"
    "/dev/sdd2\n"
    "PARTUUID=77-01 /data xfs defaults 0 0 extra\n"
    "/srv /export none bind";
  struct fstab_entry *e;
  ssize_t n = parse (text, &e);

  CHECK (n == 5);
  if (n != 5)
    return;
  CHECK_STR (e[0].spec, "/dev/sda1");
  CHECK_STR (e[0].mp, "/");
  CHECK_STR (e[0].opts, "defaults,noatime");
  CHECK (e[0].freq == 1 && e[0].passno == 1 && e[0].lineno == 6);
  CHECK_STR (e[1].spec, "/dev/sda2");
  CHECK_STR (e[1].type, "swap");
  CHECK_STR (e[1].opts, "sw");
  CHECK_STR (e[2].spec, "UUID=0a1b");
  CHECK (e[2].passno == 2);
  CHECK_STR (e[3].spec, "PARTUUID=77-01");
  CHECK (e[3].lineno == 11);
  CHECK_STR (e[4].mp, "/export");
  CHECK (fstab_has_option (e[4].opts, "bind"));
  CHECK (e[4].lineno == 12);
  fstab_free (e, n);

  /* Three fields: options are "defaults". */
  n = parse ("LABEL=root / ext4", &e);
  CHECK (n == 1);
  if (n == 1)
    CHECK_STR (e[0].opts, "defaults");
  fstab_free (e, n);

  CHECK (parse ("", &e) == 0 && e == NULL);
  CHECK (parse ("# only\n\n", &e) == 0);
}

static void
test_split (void)
{
  struct fstab_line fl;
  const char *l = "  a\tbb  ccc d e f g h # x";

  fstab_split_line (l, strlen (l), &fl);
  CHECK (fl.nfields == 8);
  CHECK (fl.f[0].start == 2 && fl.f[0].len == 1);
  CHECK (fl.f[1].start == 4 && fl.f[1].len == 2);
  CHECK (fl.f[5].start == 16 && fl.f[5].len == 1);
  fstab_split_line ("   # c", 6, &fl);
  CHECK (fl.nfields == 0);
  /* A '#' inside a field is part of it. */
  fstab_split_line ("a /m#n ext4", 11, &fl);
  CHECK (fl.nfields == 3 && fl.f[1].len == 4);
  /* The length bounds the line, not a NUL. */
  fstab_split_line ("a b cdef", 5, &fl);
  CHECK (fl.nfields == 3 && fl.f[2].len == 1);
}

static void
test_long_line (void)
{
  size_t len = 20000;
  char *text = malloc (len + 1);
  struct fstab_entry *e;
  ssize_t n;

  if (!text)
    return;
  memcpy (text, "/dev/sdb1 /mnt/long ext4 ", 25);
  for (size_t i = 25; i < len; i++)
    text[i] = i % 2 ? ',' : 'o';
  text[len - 1] = 'o';
  n = fstab_parse (text, len, &e);
  CHECK (n == 1);
  if (n == 1) {
    CHECK (strlen (e[0].opts) == len - 25);
    CHECK_STR (e[0].mp, "/mnt/long");
  }
  fstab_free (e, n);
  free (text);
}

static void
test_network (void)
{
  static const char *const net[] = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "glusterfs", "fuse.glusterfs",
    "ceph", "sshfs", "fuse.sshfs", "davfs", "afs", "9p",
  };
  static const char *const local[] = {
    "ext4", "xfs", "btrfs", "swap", "none", "tmpfs", "vfat", "virtiofs",
    "auto", "fuse", "nfsd", "", "NFS",
  };
  struct fstab_entry e = { NULL };

  for (size_t i = 0; i < sizeof net / sizeof net[0]; i++)
    if (!fstab_type_is_network (net[i])) {
      fprintf (stderr, "FAIL: %s is a network filesystem\n", net[i]);
      failures++;
    }
  for (size_t i = 0; i < sizeof local / sizeof local[0]; i++)
    if (fstab_type_is_network (local[i])) {
      fprintf (stderr, "FAIL: %s is not a network filesystem\n", local[i]);
      failures++;
    }
  CHECK (!fstab_type_is_network (NULL));

  e.type = (char *) "ext4";
  e.opts = (char *) "defaults,_netdev";
  CHECK (fstab_is_network (&e));
  e.opts = (char *) "defaults,x_netdev_y";
  CHECK (!fstab_is_network (&e));
  e.type = (char *) "davfs";
  e.opts = (char *) "defaults";
  CHECK (fstab_is_network (&e));
}

static void
test_options (void)
{
  CHECK (fstab_has_option ("bind", "bind"));
  CHECK (fstab_has_option ("ro,bind", "bind"));
  CHECK (fstab_has_option ("bind,ro", "bind"));
  CHECK (!fstab_has_option ("rbind", "bind"));
  CHECK (!fstab_has_option ("binder", "bind"));
  CHECK (fstab_has_option ("a,,nofail", "nofail"));
  CHECK (!fstab_has_option ("", "nofail"));
  CHECK (!fstab_has_option (NULL, "nofail"));
}

int
main (void)
{
  test_escapes ();
  test_layout ();
  test_split ();
  test_long_line ();
  test_network ();
  test_options ();
  return UNIT_RESULT ("test-fstab");
}
