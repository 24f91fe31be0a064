/* Disk images that read other files (image.c). */
#ifndef AZPREP_COMMON_IMAGE_H
#define AZPREP_COMMON_IMAGE_H

#include <stdbool.h>
#include <cjson/cJSON.h>

/* Is an extent's file (as qemu-img info names it) one the caller
 * accepts? */
typedef bool (*image_extent_ok_fn) (const char *file, void *arg);

/* From qemu-img info --output=json: why the image would read another
 * file (a backing file, an external data file, an extent extent_ok
 * refuses), or NULL if it reads none.  The caller frees the text. */
char *image_external (const cJSON *info, image_extent_ok_fn extent_ok,
                      void *arg);

#endif
