/* OS-independent inspection output: guest_inspect_json (guest.h) builds
 * the JSON from the sections below and each OS family's json() (os.h),
 * and inspect_print_text renders it. */
#ifndef AZPREP_INSPECT_H
#define AZPREP_INSPECT_H

#include <stdio.h>
#include <cjson/cJSON.h>

struct guest;

/* Each adds its section(s) to the object o.  0 or -1. */
int inspect_storage_json (struct guest *gs, cJSON *o);

/* Print the inspection JSON as human text. */
void inspect_print_text (FILE *fp, const cJSON *j);

#endif
