/* Inspection as human text: the JSON, walked, with indentation. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/inspect/inspect.h"

static void
print_value (FILE *fp, const cJSON *v, int depth)
{
  const cJSON *c;

  if (cJSON_IsObject (v)) {
    fputc ('\n', fp);
    cJSON_ArrayForEach (c, v) {
      if (cJSON_IsNull (c))
        continue;
      fprintf (fp, "%*s%s:", depth * 2, "", c->string);
      if (!cJSON_IsObject (c) && !cJSON_IsArray (c))
        fputc (' ', fp);
      print_value (fp, c, depth + 1);
    }
  }
  else if (cJSON_IsArray (v)) {
    if (cJSON_GetArraySize (v) == 0) {
      fputs (" (none)\n", fp);
      return;
    }
    fputc ('\n', fp);
    cJSON_ArrayForEach (c, v) {
      fprintf (fp, "%*s-", depth * 2, "");
      if (cJSON_IsObject (c)) {
        /* First member on the dash line, the rest below it. */
        const cJSON *m;
        bool first = true;
        cJSON_ArrayForEach (m, c) {
          if (cJSON_IsNull (m))
            continue;
          fprintf (fp, "%*s%s:", first ? 1 : depth * 2 + 2, "", m->string);
          if (!cJSON_IsObject (m) && !cJSON_IsArray (m))
            fputc (' ', fp);
          print_value (fp, m, depth + 2);
          first = false;
        }
        if (first)
          fputc ('\n', fp);
      }
      else {
        fputc (' ', fp);
        print_value (fp, c, depth + 1);
      }
    }
  }
  else if (cJSON_IsString (v)) {
    /* Guest text (product names, hostnames...): no escape sequences. */
    fputs_clean (v->valuestring, fp, false);
    fputc ('\n', fp);
  }
  else if (cJSON_IsBool (v))
    fprintf (fp, "%s\n", cJSON_IsTrue (v) ? "yes" : "no");
  else if (cJSON_IsNumber (v))
    fprintf (fp, "%.0f\n", v->valuedouble);
  else
    fputs ("-\n", fp);
}

void
inspect_print_text (FILE *fp, const cJSON *j)
{
  const cJSON *c;
  cJSON_ArrayForEach (c, j) {
    if (!strcmp (c->string, "schema") || cJSON_IsNull (c))
      continue;
    fprintf (fp, "%s:", c->string);
    if (!cJSON_IsObject (c) && !cJSON_IsArray (c))
      fputc (' ', fp);
    print_value (fp, c, 1);
  }
}
