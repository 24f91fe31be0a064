/* A verdict in words, the same in every report (text, JUnit, HTML). */
#include <string.h>

#include "prep/common/json.h"
#include "prep/check/report/report.h"

const char *
check_verdict_words (const cJSON *o, bool upper)
{
  const char *v = json_text (o, "verdict");

  if (!strcmp (v, "ready"))
    return upper ? "READY" : "ready";
  if (!strcmp (v, "warnings"))
    return upper ? "READY WITH WARNINGS" : "ready with warnings";
  if (!strcmp (v, "not-ready")) {
    /* Blockers that azprep fix repairs, and no other: a pipeline must
     * not take the VM as it is, but fix makes it ready. */
    if (cJSON_IsTrue (cJSON_GetObjectItem (o, "ready_after_fix")))
      return upper ? "NOT READY; READY AFTER 'azprep fix'"
        : "not ready; ready after 'azprep fix'";
    return upper ? "NOT READY" : "not ready";
  }
  return upper ? "COULD NOT CHECK" : "could not check";
}
