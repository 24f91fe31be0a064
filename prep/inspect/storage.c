/* Inspection: partitions, filesystems, mountpoints, LVM, encryption. */
#include <string.h>

#include "prep/common/json.h"
#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "prep/inspect/inspect.h"


static void
partition_json (const struct guest_blockdev *b, cJSON *pa)
{
  cJSON *p = cJSON_CreateObject ();

  cJSON_AddStringToObject (p, "device", b->device);
  json_add_str (p, "table", b->table);
  if (b->table && !strcmp (b->table, "gpt"))
    json_add_str (p, "gpt_type", b->gpt_type);
  else if (b->table && !strcmp (b->table, "msdos")) {
    char hex[8];
    snprintf (hex, sizeof hex, "0x%02x", b->mbr_id & 0xff);
    cJSON_AddStringToObject (p, "mbr_id", hex);
    cJSON_AddBoolToObject (p, "bootable", b->bootable);
  }
  cJSON_AddItemToArray (pa, p);
}

static bool
is_encrypted (const char *type)
{
  return type && (!strcmp (type, "crypto_LUKS") ||
                  !strcmp (type, "BitLocker"));
}

int
inspect_storage_json (struct guest *gs, cJSON *j)
{
  cJSON *pa = cJSON_AddArrayToObject (j, "partitions");
  cJSON *fsa = cJSON_AddArrayToObject (j, "filesystems");
  cJSON *la = cJSON_AddArrayToObject (j, "lvm_logical_volumes");
  cJSON *enc = cJSON_AddArrayToObject (j, "encrypted_volumes");

  if (guest_scan_storage (gs) == -1)
    return -1;
  for (size_t i = 0; i < gs->nbdevs; i++) {
    const struct guest_blockdev *b = &gs->bdevs[i];
    const char *mp = NULL;

    if (b->kind == BDEV_PARTITION)
      partition_json (b, pa);
    if (b->kind == BDEV_LV)
      cJSON_AddItemToArray (la, cJSON_CreateString (b->device));
    if (is_encrypted (b->type)) {
      cJSON *e = cJSON_CreateObject ();
      cJSON_AddStringToObject (e, "device", b->device);
      cJSON_AddStringToObject (e, "type", !strcmp (b->type, "BitLocker")
                               ? "bitlocker" : "luks");
      cJSON_AddItemToArray (enc, e);
    }
    /* Filesystems as guestfs_list_filesystems gives them: not the
     * containers (LVM PVs, RAID members, encrypted volumes). */
    if (!b->type || is_encrypted (b->type) || strstr (b->type, "_member"))
      continue;
    for (size_t k = 0; gs->mountpoints && gs->mountpoints[k]; k += 2)
      if (!strcmp (gs->mountpoints[k + 1], b->device))
        mp = gs->mountpoints[k];
    cJSON *f = cJSON_CreateObject ();
    cJSON_AddStringToObject (f, "device", b->device);
    cJSON_AddStringToObject (f, "type", b->type);
    json_add_str (f, "mountpoint", mp);
    json_add_str (f, "uuid", b->uuid);
    json_add_str (f, "label", b->label);
    cJSON_AddItemToArray (fsa, f);
  }
  return 0;
}
