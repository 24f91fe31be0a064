/* Unit tests of the JSON getters (string or NULL, text, int), the
 * string-or-null setter and the cJSON cleanup. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/common/unit.h"

static void
test_getters (void)
{
  CLEANUP_CJSON cJSON *j = cJSON_Parse
    ("{\"name\": \"web\", \"empty\": \"\", \"null\": null, \"n\": 7,"
     " \"list\": [\"a\"], \"obj\": {\"Verdict\": \"ready\"},"
     " \"t\": true, \"f\": 2.9}");

  CHECK (j != NULL);
  CHECK_STR (json_str (j, "name"), "web");
  CHECK_STR (json_str (j, "empty"), "");
  CHECK (json_str (j, "null") == NULL);
  CHECK (json_str (j, "n") == NULL);
  CHECK (json_str (j, "list") == NULL);
  CHECK (json_str (j, "obj") == NULL);
  CHECK (json_str (j, "t") == NULL);
  CHECK (json_str (j, "absent") == NULL);
  CHECK (json_str (NULL, "name") == NULL);
  /* Keys match ignoring case, as cJSON_GetObjectItem does. */
  CHECK_STR (json_str (cJSON_GetObjectItem (j, "obj"), "verdict"), "ready");
  CHECK_STR (json_str (j, "NAME"), "web");

  CHECK_STR (json_text (j, "name"), "web");
  CHECK_STR (json_text (j, "null"), "");
  CHECK_STR (json_text (j, "absent"), "");
  CHECK_STR (json_text (NULL, "x"), "");

  CHECK (json_int (j, "n") == 7);
  CHECK (json_int (j, "f") == 2);
  CHECK (json_int (j, "name") == 0);
  CHECK (json_int (j, "absent") == 0);
  CHECK (json_int (NULL, "n") == 0);
}

/* The setter the JSON outputs share: a string, or null for NULL. */
static void
test_add_str (void)
{
  CLEANUP_CJSON cJSON *o = cJSON_CreateObject ();
  CLEANUP_FREE char *s = NULL;

  json_add_str (o, "a", "x");
  json_add_str (o, "b", NULL);
  json_add_str (o, "c", "");
  s = cJSON_PrintUnformatted (o);
  CHECK_STR (s, "{\"a\":\"x\",\"b\":null,\"c\":\"\"}");
}

static void
test_cleanup (void)
{
  /* A NULL (a failed parse) is fine to clean up. */
  CLEANUP_CJSON cJSON *bad = cJSON_Parse ("{");
  CHECK (bad == NULL);
}

int
main (void)
{
  test_getters ();
  test_add_str ();
  test_cleanup ();
  return UNIT_RESULT ("test-json");
}
