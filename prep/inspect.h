/* Inspection reports: guest_inspect_json (guest.h) builds the JSON;
 * the sections come from the functions below, one per file. */
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
