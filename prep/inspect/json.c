/* The inspection report as JSON: the OS, then each section. */
#include <string.h>

#include "prep/common/json.h"
#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "prep/guest/os.h"
#include "prep/inspect/inspect.h"


cJSON *
guest_inspect_json (struct guest *gs)
{
  cJSON *j = cJSON_CreateObject (), *os, *disks, *fw;

  if (!j)
    return NULL;
  cJSON_AddNumberToObject (j, "schema", 1);
  disks = cJSON_AddArrayToObject (j, "disks");
  for (size_t i = 0; i < gs->ndisks; i++) {
    cJSON *d = cJSON_CreateObject ();
    cJSON_AddStringToObject (d, "path", gs->disks[i].path);
    cJSON_AddStringToObject (d, "format", gs->disks[i].format);
    cJSON_AddNumberToObject (d, "size", (double) gs->disks[i].size);
    cJSON_AddItemToArray (disks, d);
  }
  os = cJSON_AddObjectToObject (j, "os");
  json_add_str (os, "root", gs->root);
  json_add_str (os, "type", gs->type);
  json_add_str (os, "distro", gs->distro);
  cJSON_AddNumberToObject (os, "major", gs->major);
  cJSON_AddNumberToObject (os, "minor", gs->minor);
  json_add_str (os, "product_name", gs->product_name);
  json_add_str (os, "product_variant", gs->product_variant);
  json_add_str (os, "arch", gs->arch);
  json_add_str (os, "hostname", gs->hostname);
  json_add_str (os, "osinfo", gs->osinfo);
  json_add_str (os, "package_format", gs->package_format);

  fw = cJSON_AddObjectToObject (j, "firmware");
  json_add_str (fw, "type", gs->firmware == FIRMWARE_UEFI ? "uefi" : "bios");
  cJSON_AddNumberToObject (fw, "azure_generation", gs->generation);
  {
    cJSON *esps = cJSON_AddArrayToObject (fw, "esp");
    for (size_t i = 0; gs->esps && gs->esps[i]; i++)
      cJSON_AddItemToArray (esps, cJSON_CreateString (gs->esps[i]));
  }
  /* The OS family adds its own sections (os.h). */
  if (inspect_storage_json (gs, j) == -1 ||
      (gs->os && gs->os->json && gs->os->json (gs, j) == -1)) {
    cJSON_Delete (j);
    return NULL;
  }
  return j;
}
