/* prep/common: getters for cJSON documents azprep reads back (reports,
 * VM lists, qemu-img's output), the one "string or null" setter its
 * JSON outputs use, and the cJSON cleanup (prep/common/json.c). */
#ifndef AZPREP_COMMON_JSON_H
#define AZPREP_COMMON_JSON_H

#include <cjson/cJSON.h>

/* The string member k of object o, or NULL when o is NULL or k is
 * absent, null or not a string.  Keys match as cJSON_GetObjectItem's
 * do (ignoring case). */
const char *json_str (const cJSON *o, const char *k);
/* The same with "" for NULL, for text output. */
const char *json_text (const cJSON *o, const char *k);
/* The number member k as an int, 0 when absent or not a number. */
int json_int (const cJSON *o, const char *k);

/* Add member k to object o: the string v, or null when v is NULL. */
void json_add_str (cJSON *o, const char *k, const char *v);

void cleanup_cjson (void *ptr);
#define CLEANUP_CJSON __attribute__((cleanup (cleanup_cjson)))

#endif /* AZPREP_COMMON_JSON_H */
