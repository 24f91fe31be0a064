/* linux-fstab's transforms on bytes: hand-listed lines with their
 * expected result, and files generated from them in many shapes
 * (separators, CRLF, order, trailing comments, spellings of the same
 * device, a missing final newline).  For each file: the fix gives the
 * expected bytes; a second fix changes nothing; check on the result has
 * no fixable finding; check on the original has one iff a line
 * changes. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/report.h"
#include "distros/distro.h"
#include "fixups/fstab-edit.h"
#include "prep/common/unit.h"

#define U_ROOT "11111111-1111-4111-8111-111111111111"
#define U_BOOT "22222222-2222-4222-8222-222222222222"
#define U_SWAP "33333333-3333-4333-8333-333333333333"
#define U_DATA "44444444-4444-4444-8444-444444444444"
#define U_DSWP "55555555-5555-4555-8555-555555555555"
#define U_BYID "88888888-8888-4888-8888-888888888888"
#define U_LUKS "cccccccc-cccc-4ccc-8ccc-cccccccccccc"

/* The guest: disk sda holds /, /boot and swap; sdb is a data disk. */
static const struct { const char *spec, *uuid, *disk; } devs[] = {
  { "/dev/sda1", U_ROOT, "/dev/sda" },
  { "/dev/vda1", U_ROOT, "/dev/sda" },
  { "/dev/disk/by-path/pci-0000:00:10.0-scsi-0:0:0:0-part1", U_ROOT,
    "/dev/sda" },
  { "UUID=" U_ROOT, U_ROOT, "/dev/sda" },
  { "/dev/nvme0n1p2", U_BOOT, "/dev/sda" },
  { "/dev/sda3", U_SWAP, "/dev/sda" },
  { "/dev/vda3", U_SWAP, "/dev/sda" },
  { "/dev/disk/by-path/pci-0000:00:10.0-scsi-0:0:0:0-part3", U_SWAP,
    "/dev/sda" },
  { "/dev/sda4", U_LUKS, "/dev/sda" },
  { "/dev/sdb1", U_DATA, "/dev/sdb" },
  { "/dev/vdb1", U_DATA, "/dev/sdb" },
  { "/dev/disk/by-path/pci-0000:00:10.0-scsi-0:0:1:0-part1", U_DATA,
    "/dev/sdb" },
  { "UUID=" U_DATA, U_DATA, "/dev/sdb" },
  { "/dev/sdb2", U_DSWP, "/dev/sdb" },
  { "LABEL=my data", "66666666-6666-4666-8666-666666666666", "/dev/sdb" },
  { "PARTUUID=0a0b0c0d-02", "77777777-7777-4777-8777-777777777777",
    "/dev/sdb" },
  { "PARTLABEL=scratch", "99999999-9999-4999-8999-999999999999",
    "/dev/sdb" },
  { "/dev/disk/by-uuid/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
    "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "/dev/sdb" },
  { "/dev/disk/by-id/wwn-0x6000c29a1b2c3d4e-part1", U_BYID, "/dev/sdb" },
  { "/dev/disk/by-id/dm-name-vg-root", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
    NULL },
  { "/dev/mapper/vg-root", "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", NULL },
};

static int
dev_index (const char *spec)
{
  for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++)
    if (!strcmp (devs[i].spec, spec))
      return (int) i;
  return -1;
}

static char *
t_uuid (void *opaque, const char *spec, const char *mp)
{
  int i = dev_index (spec);
  return i < 0 ? NULL : xstrdup (devs[i].uuid);
}

static char *
t_disk (void *opaque, const char *spec, const char *mp)
{
  int i = dev_index (spec);
  return i < 0 || !devs[i].disk ? NULL : xstrdup (devs[i].disk);
}

static const struct devmap dm = { t_uuid, t_disk, NULL };

/* One mount line: fields before and after.  @R, @S, @D are the root,
 * swap and data partitions, spelled in each of three ways. */
struct tcase { const char *in[6], *out[6]; };
static const struct tcase fstab_cases[] = {
  { { "@R", "/", "ext4", "defaults", "1", "1" },
    { "UUID=" U_ROOT, "/", "ext4", "defaults", "1", "1" } },
  { { "/dev/nvme0n1p2", "/boot", "ext4", "defaults", "1", "2" },
    { "UUID=" U_BOOT, "/boot", "ext4", "defaults", "1", "2" } },
  /* Swap on the OS disk: a UUID, no nofail (the system disk is there). */
  { { "@S", "none", "swap", "sw", "0", "0" },
    { "UUID=" U_SWAP, "none", "swap", "sw", "0", "0" } },
  { { "@D", "/data", "xfs", "defaults", "0", "2" },
    { "UUID=" U_DATA, "/data", "xfs", "defaults,nofail", "0", "2" } },
  /* The same mount point twice. */
  { { "/dev/sdb1", "/data", "xfs", "ro,nofail", "0", "0" },
    { "UUID=" U_DATA, "/data", "xfs", "ro,nofail", "0", "0" } },
  { { "/dev/sdb2", "none", "swap", "sw", "0", "0" },
    { "UUID=" U_DSWP, "none", "swap", "sw,nofail", "0", "0" } },
  { { "LABEL=my\\040data", "/mnt/my\\040data", "ext4", "noatime", "0", "2" },
    { "LABEL=my\\040data", "/mnt/my\\040data", "ext4", "noatime,nofail",
      "0", "2" } },
  { { "PARTUUID=0a0b0c0d-02", "/srv", "ext4", "defaults", "0", "0" },
    { "PARTUUID=0a0b0c0d-02", "/srv", "ext4", "defaults,nofail", "0",
      "0" } },
  { { "PARTLABEL=scratch", "/scratch", "ext4", "defaults", "0", "0" },
    { "PARTLABEL=scratch", "/scratch", "ext4", "defaults,nofail", "0",
      "0" } },
  { { "/dev/disk/by-uuid/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "/mnt/u",
      "ext4", "defaults", "0", "0" },
    { "/dev/disk/by-uuid/aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "/mnt/u",
      "ext4", "defaults,nofail", "0", "0" } },
  /* A by-id name carries VMware's WWN: it will not exist on Azure. */
  { { "/dev/disk/by-id/wwn-0x6000c29a1b2c3d4e-part1", "/mnt/id", "ext4",
      "defaults", "0", "0" },
    { "UUID=" U_BYID, "/mnt/id", "ext4", "defaults,nofail", "0", "0" } },
  { { "/dev/disk/by-id/dm-name-vg-root", "/", "xfs", "defaults", "0",
      "0" },
    { "/dev/disk/by-id/dm-name-vg-root", "/", "xfs", "defaults", "0",
      "0" } },
  { { "/dev/mapper/vg-root", "/var", "ext4", "defaults", "0", "0" },
    { "/dev/mapper/vg-root", "/var", "ext4", "defaults", "0", "0" } },
  { { "/srv/www", "/var/www", "none", "bind", "0", "0" },
    { "/srv/www", "/var/www", "none", "bind", "0", "0" } },
  { { "server:/export", "/mnt/nfs", "nfs", "defaults", "0", "0" },
    { "server:/export", "/mnt/nfs", "nfs", "defaults,_netdev,nofail", "0",
      "0" } },
  { { "//fs/share", "/mnt/smb", "cifs", "_netdev,credentials=/etc/smb",
      "0", "0" },
    { "//fs/share", "/mnt/smb", "cifs",
      "_netdev,credentials=/etc/smb,nofail", "0", "0" } },
  /* Not on the given disks: left alone (check warns, not fixable). */
  { { "/dev/sdc1", "/mnt/gone", "ext4", "defaults", "0", "0" },
    { "/dev/sdc1", "/mnt/gone", "ext4", "defaults", "0", "0" } },
  { { "tmpfs", "/tmp", "tmpfs", "defaults", "0", "0" },
    { "tmpfs", "/tmp", "tmpfs", "defaults", "0", "0" } },
  { { "UUID=" U_ROOT, "/home", "ext4", "defaults", "0", "2" },
    { "UUID=" U_ROOT, "/home", "ext4", "defaults", "0", "2" } },
};
static const struct tcase crypttab_cases[] = {
  { { "luks-root", "/dev/sda4", "none", "luks" },
    { "luks-root", "UUID=" U_LUKS, "none", "luks" } },
  { { "cswap", "/dev/sdb3", "/dev/urandom", "swap,cipher=aes-xts-plain64" },
    { "cswap", "/dev/sdb3", "/dev/urandom", "swap,cipher=aes-xts-plain64" } },
  { { "data", "UUID=" U_DATA, "/etc/keys/data.key", "luks" },
    { "data", "UUID=" U_DATA, "/etc/keys/data.key", "luks" } },
};

static const char *const spell_r[] = {
  "/dev/sda1", "/dev/vda1",
  "/dev/disk/by-path/pci-0000:00:10.0-scsi-0:0:0:0-part1" };
static const char *const spell_s[] = {
  "/dev/sda3", "/dev/vda3",
  "/dev/disk/by-path/pci-0000:00:10.0-scsi-0:0:0:0-part3" };
static const char *const spell_d[] = {
  "/dev/sdb1", "/dev/vdb1",
  "/dev/disk/by-path/pci-0000:00:10.0-scsi-0:0:1:0-part1" };
static const char *const seps[] = { " ", "\t", "  \t ", "\t\t" };
static const char *const endings[] = { "\n", "\r\n" };
static const char *const trailers[] = { "", " # keep this note" };

struct shape { size_t sep, ending, final, order, trailer, spell; };

static const char *
field (const char *f, size_t spell)
{
  if (!strcmp (f, "@R"))
    return spell_r[spell];
  if (!strcmp (f, "@S"))
    return spell_s[spell];
  if (!strcmp (f, "@D"))
    return spell_d[spell];
  return f;
}

/* The file of cases in shape sh, "in" or "out" fields.  Changed lines
 * end with "\n" when a missing final newline is supplied by the fix. */
static char *
make_file (const struct tcase *c, size_t n, size_t nf,
           const struct shape *sh, bool out, bool fixed_tail)
{
  char *s = NULL;
  size_t len;
  FILE *fp = open_memstream (&s, &len);
  const char *end = endings[sh->ending];

  fprintf (fp, "# /etc/fstab: static file system information.%s", end);
  fprintf (fp, "%s#/dev/sdc1 /old ext4 defaults 0 0%s", end, end);
  for (size_t k = 0; k < n; k++) {
    /* order: 0 as listed, 1 reversed, 2 and 3 rotated. */
    size_t i = sh->order == 0 ? k : sh->order == 1 ? n - 1 - k
      : (k + sh->order * 3) % n;
    const char *const *f = out ? c[i].out : c[i].in;
    for (size_t j = 0; j < nf; j++)
      fprintf (fp, "%s%s", j ? seps[sh->sep] : "", field (f[j], sh->spell));
    fputs (trailers[sh->trailer], fp);
    if (k + 1 < n || sh->final)
      fputs (end, fp);
    else if (fixed_tail)
      fputs ("\n", fp);
  }
  fclose (fp);
  return s;
}

/* Run the transform: *out as the fix gives it, and the number of
 * fixable findings check gives.  -1 on error. */
static int
transform (bool fstab, const char *text, char **out, size_t *fixable)
{
  struct report *rep = report_new ();
  struct fstab_edit e = { "/etc/fstab", &dm, rep, false };
  char *none = NULL;
  int r;

  rep->current_fixup = "linux-fstab";
  r = fstab ? fstab_edit_text (&e, text, &none)
    : crypttab_edit_text (&e, text, &none);
  *fixable = report_count_fixable (rep);
  report_free (rep);
  e.fix = true;
  e.rep = NULL;
  if (r == 0)
    r = fstab ? fstab_edit_text (&e, text, out)
      : crypttab_edit_text (&e, text, out);
  CHECK (none == NULL);
  return r;
}

static bool
any_change (const struct tcase *c, size_t n, size_t nf)
{
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < nf; j++)
      if (strcmp (c[i].in[j], c[i].out[j]))
        return true;
  return false;
}

static size_t
variants (bool fstab, const struct tcase *c, size_t n, size_t nf)
{
  struct shape sh;
  size_t count = 0;
  bool changes = any_change (c, n, nf);

  for (sh.sep = 0; sh.sep < 4; sh.sep++)
  for (sh.ending = 0; sh.ending < 2; sh.ending++)
  for (sh.final = 0; sh.final < 2; sh.final++)
  for (sh.order = 0; sh.order < 4; sh.order++)
  for (sh.trailer = 0; sh.trailer < 2; sh.trailer++)
  for (sh.spell = 0; sh.spell < 3; sh.spell++) {
    CLEANUP_FREE char *in = make_file (c, n, nf, &sh, false, false);
    CLEANUP_FREE char *want = make_file (c, n, nf, &sh, true, true);
    CLEANUP_FREE char *got = NULL, *again = NULL;
    size_t before, after;
    int fails = failures;

    CHECK (transform (fstab, in, &got, &before) == 0);
    CHECK ((before > 0) == changes);
    if (changes)
      CHECK_STR (got, want);
    else
      CHECK (got == NULL);
    /* Idempotent, and check has nothing left to fix. */
    CHECK (transform (fstab, got ? got : in, &again, &after) == 0);
    CHECK (again == NULL);
    CHECK (after == 0);
    count++;
    if (failures > fails) {
      fprintf (stderr, "variant sep=%zu ending=%zu final=%zu order=%zu "
               "trailer=%zu spell=%zu:\n%s", sh.sep, sh.ending, sh.final,
               sh.order, sh.trailer, sh.spell, in);
      return count;
    }
  }
  return count;
}

/* Hand-written whole files with their exact expected bytes. */
static void
test_files (void)
{
  static const char *const cases[][2] = {
    /* Three fields (no options): "defaults,nofail" after the type, so
     * the trailing comment stays one; no final newline. */
    { "/dev/sdb1\t/data xfs # data\n/dev/sda1 / ext4 defaults 0 1",
      "UUID=" U_DATA "\t/data xfs\tdefaults,nofail # data\n"
      "UUID=" U_ROOT " / ext4 defaults 0 1\n" },
    /* Only comments and blanks: nothing to do. */
    { "# nothing\n\n   \n", NULL },
    /* Already fixed. */
    { "UUID=" U_ROOT " / ext4 defaults 0 1\n", NULL },
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CLEANUP_FREE char *got = NULL;
    size_t fixable;
    CHECK (transform (true, cases[i][0], &got, &fixable) == 0);
    if (cases[i][1])
      CHECK_STR (got, cases[i][1]);
    else
      CHECK (got == NULL && fixable == 0);
  }
}

/* Lines azprep will not guess at: refused with the file and line. */
static void
test_refused (void)
{
  static const char *const bad[] = {
    "/dev/sda1 /\n", "/dev/sda1\n", "a b c d e f g\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CLEANUP_FREE char *got = NULL;
    size_t fixable;
    CHECK (transform (true, bad[i], &got, &fixable) == -1);
  }
}

int
main (void)
{
  size_t nf = sizeof fstab_cases / sizeof fstab_cases[0];
  size_t nc = sizeof crypttab_cases / sizeof crypttab_cases[0];
  size_t v1, v2;

  test_files ();
  test_refused ();
  v1 = variants (true, fstab_cases, nf, 6);
  v2 = variants (false, crypttab_cases, nc, 4);
  printf ("test-fstab-edit: fstab %zu variants of %zu lines, crypttab %zu "
          "variants of %zu lines\n", v1, nf, v2, nc);
  return UNIT_RESULT ("test-fstab-edit");
}
