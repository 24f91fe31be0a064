/* OS-independent inspection: finding the one root and its firmware
 * (inspect.c, guest_inspect in guest.h) and the report, as JSON (the
 * sections below plus each OS family's json(), prep/guest/os.h) and as
 * text. */
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
