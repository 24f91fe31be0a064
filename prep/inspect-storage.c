/* Inspection: partitions, filesystems, mountpoints, LVM, encryption. */
#include <string.h>

#include "azprep.h"
#include "guest.h"
#include "inspect.h"

static char *
quiet (guestfs_h *g, char *(*fn) (guestfs_h *, const char *), const char *a)
{
  char *s;
  guestfs_push_error_handler (g, NULL, NULL);
  s = fn (g, a);
  guestfs_pop_error_handler (g);
  if (s && !*s) {
    free (s);
    s = NULL;
  }
  return s;
}

static void
add_owned (cJSON *o, const char *k, char *v)
{
  if (v)
    cJSON_AddStringToObject (o, k, v);
  else
    cJSON_AddNullToObject (o, k);
  free (v);
}

int
inspect_storage_json (struct guest *gs, cJSON *j)
{
  guestfs_h *g = gs->g;
  CLEANUP_FREE_STRING_LIST char **fses = NULL, **mps = NULL, **lvs = NULL;
  CLEANUP_FREE_STRING_LIST char **parts = NULL;
  cJSON *pa = cJSON_AddArrayToObject (j, "partitions");
  cJSON *fsa = cJSON_AddArrayToObject (j, "filesystems");
  cJSON *la = cJSON_AddArrayToObject (j, "lvm_logical_volumes");
  cJSON *enc = cJSON_AddArrayToObject (j, "encrypted_volumes");

  guestfs_push_error_handler (g, NULL, NULL);
  parts = guestfs_list_partitions (g);
  fses = guestfs_list_filesystems (g);
  mps = guestfs_inspect_get_mountpoints (g, gs->root);
  lvs = guestfs_lvs (g);
  guestfs_pop_error_handler (g);

  for (size_t i = 0; parts && parts[i]; i++) {
    cJSON *p = cJSON_CreateObject ();
    CLEANUP_FREE char *dev = guestfs_part_to_dev (g, parts[i]);
    int num = guestfs_part_to_partnum (g, parts[i]);
    cJSON_AddStringToObject (p, "device", parts[i]);
    if (dev) {
      guestfs_push_error_handler (g, NULL, NULL);
      add_owned (p, "table", guestfs_part_get_parttype (g, dev));
      CLEANUP_FREE char *tbl = guestfs_part_get_parttype (g, dev);
      if (tbl && !strcmp (tbl, "gpt"))
        add_owned (p, "gpt_type", guestfs_part_get_gpt_type (g, dev, num));
      else if (tbl && !strcmp (tbl, "msdos")) {
        int id = guestfs_part_get_mbr_id (g, dev, num);
        char hex[8];
        snprintf (hex, sizeof hex, "0x%02x", id & 0xff);
        cJSON_AddStringToObject (p, "mbr_id", hex);
        cJSON_AddBoolToObject (p, "bootable",
                               guestfs_part_get_bootable (g, dev, num) == 1);
      }
      guestfs_pop_error_handler (g);
    }
    cJSON_AddItemToArray (pa, p);
    /* list_filesystems leaves encrypted volumes out: blkid sees them. */
    guestfs_push_error_handler (g, NULL, NULL);
    CLEANUP_FREE char *vt = guestfs_vfs_type (g, parts[i]);
    guestfs_pop_error_handler (g);
    if (vt && (!strcmp (vt, "crypto_LUKS") || !strcmp (vt, "BitLocker"))) {
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddStringToObject (e, "device", parts[i]);
      cJSON_AddStringToObject (e, "type", !strcmp (vt, "BitLocker")
                               ? "bitlocker" : "luks");
      cJSON_AddItemToArray (enc, e);
    }
  }

  for (size_t i = 0; fses && fses[i]; i += 2) {
    cJSON *f;
    const char *mp = NULL;
    if (!strcmp (fses[i + 1], "unknown"))
      continue;
    for (size_t k = 0; mps && mps[k]; k += 2)
      if (!strcmp (mps[k + 1], fses[i]))
        mp = mps[k];
    f = cJSON_CreateObject ();
    cJSON_AddStringToObject (f, "device", fses[i]);
    cJSON_AddStringToObject (f, "type", fses[i + 1]);
    if (mp)
      cJSON_AddStringToObject (f, "mountpoint", mp);
    else
      cJSON_AddNullToObject (f, "mountpoint");
    add_owned (f, "uuid", quiet (g, guestfs_vfs_uuid, fses[i]));
    add_owned (f, "label", quiet (g, guestfs_vfs_label, fses[i]));
    cJSON_AddItemToArray (fsa, f);
  }
  for (size_t i = 0; lvs && lvs[i]; i++)
    cJSON_AddItemToArray (la, cJSON_CreateString (lvs[i]));
  return 0;
}
