/* Disk images that read other files.  A qcow2 names a backing file or
 * an external data file, a VMDK names extents and a parent: qemu opens
 * them on the host, by whatever path the image's own bytes give.  When
 * those bytes come from someone else (a guest wrote a raw disk's first
 * sector, an OVA came from elsewhere), that is any host file served as
 * the guest's disk; so what an image reaches is judged here, from
 * qemu-img info, before anything serves it.
 */
#include <string.h>
#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/common/image.h"

char *
image_external (const cJSON *info, image_extent_ok_fn extent_ok, void *arg)
{
  const cJSON *spec = cJSON_GetObjectItem (info, "format-specific");
  const cJSON *data = cJSON_GetObjectItem (spec, "data");
  const cJSON *e;
  const char *b = json_str (info, "full-backing-filename");

  if (!b)
    b = json_str (info, "backing-filename");
  if (b)
    return xasprintf ("it names a backing file \"%s\"", b);
  if (cJSON_GetObjectItem (info, "backing-filename") ||
      cJSON_GetObjectItem (info, "backing-image"))
    return xstrdup ("it names a backing file");
  if (cJSON_GetObjectItem (data, "data-file"))
    return xasprintf ("it names an external data file \"%s\"",
                      json_str (data, "data-file") ? json_str (data,
                                                               "data-file")
                      : "?");
  cJSON_ArrayForEach (e, cJSON_GetObjectItem (data, "extents")) {
    const char *f = json_str (e, "filename");
    if (!f || !extent_ok (f, arg))
      return xasprintf ("it names an extent in another file \"%s\"",
                        f ? f : "?");
  }
  return NULL;
}
