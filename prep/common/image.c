/* Disk images that read other files.  A qcow2 names a backing file or
 * an external data file, a VMDK names extents and a parent: qemu opens
 * them on the host, by whatever path the image's own bytes give.  When
 * those bytes come from someone else (a guest wrote a raw disk's first
 * sector, an OVA came from elsewhere), that is any host file served as
 * the guest's disk; so what an image reaches is judged here, from
 * qemu-img info, before anything serves it.
 */
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
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

/* An extent of a local image: a regular file in the image's own
 * directory (VMware's disk.vmdk beside disk-flat.vmdk), nothing else. */
static bool
extent_beside (const char *file, void *arg)
{
  CLEANUP_FREE char *img = realpath ((const char *) arg, NULL);
  CLEANUP_FREE char *ext = realpath (file, NULL);
  const char *si, *se;
  struct stat st;

  if (!img || !ext || stat (ext, &st) == -1 || !S_ISREG (st.st_mode))
    return false;
  si = strrchr (img, '/');
  se = strrchr (ext, '/');
  return si && se && si - img == se - ext && !memcmp (img, ext, si - img);
}

char *
image_local_refuse (const cJSON *info, const char *path)
{
  CLEANUP_FREE char *why = image_external (info, extent_beside,
                                           (void *) path);
  const char *fmt = json_str (info, "format");

  if (!why)
    return NULL;
  return xasprintf ("%s: %s, and its format \"%s\" was read from its own "
                    "bytes (which a guest may have written): azprep follows "
                    "no other file it was not told about; give --format raw "
                    "if this is a raw disk, or --format %s if the image and "
                    "what it names are yours", path, why, fmt ? fmt : "?",
                    fmt ? fmt : "FMT");
}

char *
image_no_backing (const char *fmt, const char *path, int64_t offset,
                  int64_t size)
{
  CLEANUP_CJSON cJSON *top = cJSON_CreateObject ();
  cJSON *file = cJSON_CreateObject (), *win = NULL;
  CLEANUP_FREE char *text = NULL;

  if (!top || !file || (size >= 0 && !(win = cJSON_CreateObject ()))) {
    cJSON_Delete (file);
    return NULL;
  }
  cJSON_AddStringToObject (file, "driver", "file");
  cJSON_AddStringToObject (file, "filename", path);
  if (win) {
    /* A member of an archive: other tools may hold it, read-only. */
    cJSON_AddStringToObject (file, "locking", "off");
    cJSON_AddStringToObject (win, "driver", "raw");
    cJSON_AddNumberToObject (win, "offset", (double) offset);
    cJSON_AddNumberToObject (win, "size", (double) size);
    cJSON_AddItemToObject (win, "file", file);
    file = win;
  }
  cJSON_AddStringToObject (top, "driver", fmt);
  if (strcmp (fmt, "raw"))
    cJSON_AddNullToObject (top, "backing");
  cJSON_AddItemToObject (top, "file", file);
  text = cJSON_PrintUnformatted (top);
  return text ? xasprintf ("json:%s", text) : NULL;
}
