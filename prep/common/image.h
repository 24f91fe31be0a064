/* Disk images that read other files (image.c). */
#ifndef AZPREP_COMMON_IMAGE_H
#define AZPREP_COMMON_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* Is an extent's file (as qemu-img info names it) one the caller
 * accepts? */
typedef bool (*image_extent_ok_fn) (const char *file, void *arg);

/* From qemu-img info --output=json: why the image would read another
 * file (a backing file, an external data file, an extent extent_ok
 * refuses), or NULL if it reads none.  The caller frees the text. */
char *image_external (const cJSON *info, image_extent_ok_fn extent_ok,
                      void *arg);

/* A local image whose format was read from its own bytes (no
 * --format): NULL if it reads no other file but extents beside it in
 * its own directory, else the error to give (naming path, saying what
 * to do).  The caller frees it. */
char *image_local_refuse (const cJSON *info, const char *path);

/* "json:{...}": path opened as fmt with no backing file, whatever its
 * header names (qemu's "backing": null), for qemu-img and qemu-nbd;
 * with size >= 0, only the size bytes at offset (an archive's
 * member). */
char *image_no_backing (const char *fmt, const char *path, int64_t offset,
                        int64_t size);

#endif
