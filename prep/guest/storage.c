/* The guest's block devices, read once: one blkid per partition, LV or
 * unpartitioned disk gives the filesystem type, UUID and label and the
 * partition entry (scheme, type, number, flags) together, where parted
 * would cost a process per question.  Device names in the guest's own
 * files (fstab, crypttab) are resolved against this table. */
#include <ctype.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"

static const char *
kv_get (char *const *kv, const char *key)
{
  for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
    if (!strcmp (kv[i], key))
      return *kv[i + 1] ? kv[i + 1] : NULL;
  return NULL;
}

static char *
dup_or_null (const char *s)
{
  return s ? xstrdup (s) : NULL;
}

/* blkid -o export escapes spaces in names ("EFI\ System\ Partition"). */
static char *
unescape (const char *s)
{
  char *r = dup_or_null (s), *w = r;
  for (const char *p = s; r && *p; p++) {
    if (*p == '\\' && p[1])
      p++;
    *w++ = *p;
  }
  if (r)
    *w = '\0';
  return r;
}

static void
upcase (char *s)
{
  for (; s && *s; s++)
    *s = toupper ((unsigned char) *s);
}

static int
add_bdev (struct guest *gs, const char *dev, int kind, const char *disk)
{
  struct guest_blockdev *n, *b;
  CLEANUP_FREE_STRING_LIST char **kv = NULL;
  const char *scheme, *v;

  n = realloc (gs->bdevs, (gs->nbdevs + 1) * sizeof *n);
  if (!n) {
    azp_error ("realloc: %m");
    return -1;
  }
  gs->bdevs = n;
  b = &gs->bdevs[gs->nbdevs++];
  memset (b, 0, sizeof *b);
  b->device = xstrdup (dev);
  b->kind = kind;
  b->mbr_id = -1;
  b->disk = dup_or_null (disk);
  if (!b->device)
    return -1;

  /* A disk holding a partition table has no filesystem of its own. */
  if (kind == BDEV_DISK) {
    for (size_t i = 0; i < gs->nbdevs - 1; i++)
      if (gs->bdevs[i].disk && !strcmp (gs->bdevs[i].disk, dev))
        return 0;
  }
  guestfs_push_error_handler (gs->g, NULL, NULL);
  kv = guestfs_blkid (gs->g, dev);
  guestfs_pop_error_handler (gs->g);
  b->type = dup_or_null (kv_get (kv, "TYPE"));
  b->uuid = dup_or_null (kv_get (kv, "UUID"));
  b->label = unescape (kv_get (kv, "LABEL"));
  b->partuuid = dup_or_null (kv_get (kv, "PART_ENTRY_UUID"));
  b->partlabel = unescape (kv_get (kv, "PART_ENTRY_NAME"));
  if (kind != BDEV_PARTITION)
    return 0;

  scheme = kv_get (kv, "PART_ENTRY_SCHEME");
  if (scheme && !strcmp (scheme, "dos"))
    b->table = xstrdup ("msdos");
  else if (scheme && !strcmp (scheme, "gpt"))
    b->table = xstrdup ("gpt");
  v = kv_get (kv, "PART_ENTRY_TYPE");
  if (v && b->table && !strcmp (b->table, "gpt")) {
    b->gpt_type = xstrdup (v);
    upcase (b->gpt_type);
  }
  else if (v && b->table)
    b->mbr_id = (int) strtol (v, NULL, 16);
  v = kv_get (kv, "PART_ENTRY_FLAGS");
  b->bootable = b->table && !strcmp (b->table, "msdos") && v &&
    (strtol (v, NULL, 16) & 0x80);
  v = kv_get (kv, "PART_ENTRY_NUMBER");
  if (v)
    b->partnum = (int) strtol (v, NULL, 10);

  /* blkid says nothing of a partition it cannot probe (an empty one, an
   * extended container): ask parted, as libguestfs would. */
  if (!scheme) {
    guestfs_push_error_handler (gs->g, NULL, NULL);
    b->table = guestfs_part_get_parttype (gs->g, b->disk);
    b->partnum = guestfs_part_to_partnum (gs->g, dev);
    if (b->table && !strcmp (b->table, "gpt") && b->partnum > 0) {
      b->gpt_type = guestfs_part_get_gpt_type (gs->g, b->disk, b->partnum);
      upcase (b->gpt_type);
    }
    else if (b->table && !strcmp (b->table, "msdos") && b->partnum > 0) {
      b->mbr_id = guestfs_part_get_mbr_id (gs->g, b->disk, b->partnum);
      b->bootable = guestfs_part_get_bootable (gs->g, b->disk,
                                               b->partnum) == 1;
    }
    guestfs_pop_error_handler (gs->g);
  }
  return 0;
}

static char *appliance_name (size_t index, const char *part);

/* The appliance's whole disks: libguestfs names the drives /dev/sda,
 * /dev/sdb, ... in the order they were added, which is what
 * guestfs_list_devices would say (it walks /sys/block in the daemon's
 * OCaml side: a third of a second under TCG). */
static char **
disk_names (size_t ndisks)
{
  char **devs = calloc (ndisks + 1, sizeof *devs);

  for (size_t i = 0; devs && i < ndisks; i++)
    if (!(devs[i] = appliance_name (i, ""))) {
      free_string_list (devs);
      return NULL;
    }
  return devs;
}

int
guest_scan_storage (struct guest *gs)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **devs = NULL, **parts = NULL, **lvs = NULL;

  if (gs->storage_scanned)
    return 0;
  devs = disk_names (gs->ndisks);
  parts = guestfs_list_partitions (g);
  if (!devs || !parts) {
    azp_error ("%s: cannot list block devices: %s", gs->disks[0].path,
               guestfs_last_error (g));
    return -1;
  }
  for (size_t i = 0; parts[i]; i++) {
    /* /dev/sda1 -> /dev/sda: the appliance names disks sdX. */
    size_t l = strlen (parts[i]);
    CLEANUP_FREE char *disk = NULL;
    while (l > 0 && isdigit ((unsigned char) parts[i][l - 1]))
      l--;
    disk = strndup (parts[i], l);
    if (!disk || add_bdev (gs, parts[i], BDEV_PARTITION, disk) == -1)
      return -1;
  }
  for (size_t i = 0; devs[i]; i++)
    if (add_bdev (gs, devs[i], BDEV_DISK, NULL) == -1)
      return -1;
  /* LVM is slow to ask: only when there is a physical volume. */
  for (size_t i = 0; i < gs->nbdevs && !lvs; i++)
    if (gs->bdevs[i].type && !strcmp (gs->bdevs[i].type, "LVM2_member")) {
      guestfs_push_error_handler (g, NULL, NULL);
      lvs = guestfs_lvs (g);
      guestfs_pop_error_handler (g);
    }
  for (size_t i = 0; lvs && lvs[i]; i++)
    if (add_bdev (gs, lvs[i], BDEV_LV, NULL) == -1)
      return -1;
  gs->storage_scanned = true;
  return 0;
}

void
guest_storage_free (struct guest *gs)
{
  for (size_t i = 0; i < gs->nbdevs; i++) {
    struct guest_blockdev *b = &gs->bdevs[i];
    free (b->device); free (b->type); free (b->uuid); free (b->label);
    free (b->partuuid); free (b->partlabel); free (b->disk);
    free (b->table); free (b->gpt_type);
  }
  free (gs->bdevs);
  gs->bdevs = NULL;
  gs->nbdevs = 0;
  gs->storage_scanned = false;
}

const struct guest_blockdev *
guest_blockdev (struct guest *gs, const char *device)
{
  for (size_t i = 0; i < gs->nbdevs; i++)
    if (!strcmp (gs->bdevs[i].device, device))
      return &gs->bdevs[i];
  return NULL;
}

/* The ext2/3/4 superblock (e2fsprogs' ext2_fs.h): magic, state, and
 * the read-only compatible features. */
#define EXT_SB_MAGIC_AT 0x38
#define EXT_SB_STATE_AT 0x3a
#define EXT_SB_RO_COMPAT_AT 0x64
#define EXT_SB_MAGIC 0xef53
#define EXT_STATE_VALID 0x0001
#define EXT_STATE_ERROR 0x0002
#define EXT_RO_COMPAT_READONLY 0x1000

int
ext_superblock_parse (const unsigned char *sb, size_t len,
                      struct guest_ext_state *st)
{
  unsigned state;
  uint32_t ro;

  if (len < EXT_SB_RO_COMPAT_AT + 4 ||
      (sb[EXT_SB_MAGIC_AT] | sb[EXT_SB_MAGIC_AT + 1] << 8) != EXT_SB_MAGIC)
    return -1;
  state = sb[EXT_SB_STATE_AT] | sb[EXT_SB_STATE_AT + 1] << 8;
  ro = sb[EXT_SB_RO_COMPAT_AT] | sb[EXT_SB_RO_COMPAT_AT + 1] << 8 |
    sb[EXT_SB_RO_COMPAT_AT + 2] << 16 |
    (uint32_t) sb[EXT_SB_RO_COMPAT_AT + 3] << 24;
  /* tune2fs's words (e2p's print_fs_state). */
  snprintf (st->state, sizeof st->state, "%s%s",
            state & EXT_STATE_VALID ? "clean" : "not clean",
            state & EXT_STATE_ERROR ? " with errors" : "");
  st->errors = state & EXT_STATE_ERROR;
  st->readonly = ro & EXT_RO_COMPAT_READONLY;
  return 0;
}

int
guest_ext_state (struct guest *gs, const char *device,
                 struct guest_ext_state *st)
{
  CLEANUP_FREE char *sb = NULL;
  size_t len = 0;

  guestfs_push_error_handler (gs->g, NULL, NULL);
  sb = guestfs_pread_device (gs->g, device, 1024, 1024, &len);
  guestfs_pop_error_handler (gs->g);
  return sb ? ext_superblock_parse ((const unsigned char *) sb, len, st) : -1;
}

/* "sdb2" -> index 1, partition "2". */
static bool
parse_letters (const char *s, size_t *index, const char **part)
{
  size_t idx = 0, n = 0;
  while (s[n] >= 'a' && s[n] <= 'z') {
    idx = idx * 26 + (s[n] - 'a' + 1);
    n++;
  }
  if (n == 0 || n > 3)
    return false;
  *index = idx - 1;
  *part = s + n;
  return strspn (*part, "0123456789") == strlen (*part);
}

static char *
appliance_name (size_t index, const char *part)
{
  char letters[8], rev[8];
  size_t n = 0, i = index + 1;

  while (i > 0 && n < sizeof rev) {
    rev[n++] = 'a' + (i - 1) % 26;
    i = (i - 1) / 26;
  }
  for (size_t k = 0; k < n; k++)
    letters[k] = rev[n - 1 - k];
  letters[n] = '\0';
  return xasprintf ("/dev/sd%s%s", letters, part);
}

char *
device_map_by_index (const char *spec)
{
  static const char *const prefixes[] = {
    "/dev/sd", "/dev/vd", "/dev/hd", "/dev/xvd", NULL
  };
  size_t index;
  const char *part;
  unsigned c, ns, p = 0;
  int end = 0;

  for (size_t i = 0; prefixes[i]; i++) {
    size_t pl = strlen (prefixes[i]);
    if (!strncmp (spec, prefixes[i], pl) &&
        parse_letters (spec + pl, &index, &part))
      return appliance_name (index, part);
  }
  if ((sscanf (spec, "/dev/nvme%un%up%u%n", &c, &ns, &p, &end) == 3 ||
       sscanf (spec, "/dev/nvme%un%u%n", &c, &ns, &end) == 2) &&
      spec[end] == '\0' && c < 1000) {
    char pn[16] = "";
    if (p)
      snprintf (pn, sizeof pn, "%u", p);
    return appliance_name (c, pn);
  }
  return NULL;
}

/* /dev/mapper/vg-lv_root -> /dev/vg/lv_root ("--" is a literal dash). */
static char *
mapper_to_lv (const char *name)
{
  char *r = malloc (strlen (name) + 6), *w;
  bool split = false;

  if (!r)
    return NULL;
  w = stpcpy (r, "/dev/");
  for (const char *p = name; *p; p++) {
    if (*p == '-' && p[1] == '-')
      *w++ = *p++;
    else if (*p == '-' && !split) {
      *w++ = '/';
      split = true;
    }
    else
      *w++ = *p;
  }
  *w = '\0';
  return r;
}

static char *
find_by (struct guest *gs, size_t field, const char *value)
{
  for (size_t i = 0; i < gs->nbdevs; i++) {
    const struct guest_blockdev *b = &gs->bdevs[i];
    const char *v = field == 0 ? b->uuid : field == 1 ? b->label
      : field == 2 ? b->partuuid : b->partlabel;
    if (v && (field == 1 || field == 3 ? !strcmp (v, value)
              : !strcasecmp (v, value)))
      return xstrdup (b->device);
  }
  return NULL;
}

char *
guest_resolve_spec (struct guest *gs, const char *spec)
{
  static const struct { const char *prefix; size_t field; } keys[] = {
    { "UUID=", 0 }, { "LABEL=", 1 }, { "PARTUUID=", 2 },
    { "PARTLABEL=", 3 }, { "/dev/disk/by-uuid/", 0 },
    { "/dev/disk/by-label/", 1 }, { "/dev/disk/by-partuuid/", 2 },
    { "/dev/disk/by-partlabel/", 3 },
  };
  char *r = NULL;

  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    size_t l = strlen (keys[i].prefix);
    if (!strncmp (spec, keys[i].prefix, l)) {
      const char *v = spec + l;
      CLEANUP_FREE char *unq = NULL;
      /* UUID="..." is legal in fstab. */
      if (*v == '"' && strlen (v) >= 2 && v[strlen (v) - 1] == '"')
        v = unq = strndup (v + 1, strlen (v) - 2);
      return v ? find_by (gs, keys[i].field, v) : NULL;
    }
  }
  if (!strncmp (spec, "/dev/mapper/", 12))
    r = mapper_to_lv (spec + 12);
  else if (!strncmp (spec, "/dev/", 5))
    r = device_map_by_index (spec);
  if (!r && !strncmp (spec, "/dev/", 5))
    r = xstrdup (spec);
  if (r && !guest_blockdev (gs, r)) {
    free (r);
    r = NULL;
  }
  return r;
}
