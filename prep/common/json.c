/* JSON getters and the cJSON cleanup (see json.h). */
#include "prep/common/json.h"

const char *
json_str (const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem (o, k);

  return cJSON_IsString (v) ? v->valuestring : NULL;
}

const char *
json_text (const cJSON *o, const char *k)
{
  const char *s = json_str (o, k);

  return s ? s : "";
}

int
json_int (const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem (o, k);

  return cJSON_IsNumber (v) ? v->valueint : 0;
}

void
json_add_str (cJSON *o, const char *k, const char *v)
{
  if (v)
    cJSON_AddStringToObject (o, k, v);
  else
    cJSON_AddNullToObject (o, k);
}

void
cleanup_cjson (void *ptr)
{
  cJSON_Delete (*(cJSON **) ptr);
}
