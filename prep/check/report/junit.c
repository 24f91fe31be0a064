/* azprep check --junit FILE: JUnit XML, written with libxml2's text
 * writer (which escapes everything).  One testsuite per VM, one
 * testcase per rule and per fixup, so that CI dashboards show each
 * rule's result:
 *   a non-fixable blocker        <failure type="blocker">
 *   only blockers "azprep fix" repairs  <failure type="fixable-blocker">
 *                                (not ready as is; ready after fix)
 *   a rule that could not run    <error>
 *   a rule that was not reached  <skipped>
 *   warnings, information and the warnings "azprep fix" repairs: the
 *   testcase passes, the findings are in its <system-out> (JUnit has no
 *   "warning" state; the VM's verdict, whether azprep fix makes it
 *   ready (ready_after_fix) and the verdict in words ("summary") are
 *   testsuite properties).
 * A VM that could not be checked (verdict "error" with a reason) also
 * has a testcase "check" with an <error> giving the reason.
 */
#include <string.h>
#include <libxml/xmlwriter.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/report/report.h"

static int
count_result (const cJSON *vm, const char *result)
{
  const cJSON *r;
  int n = 0;
  cJSON_ArrayForEach (r, cJSON_GetObjectItem (vm, "rules"))
    n += !strcmp (json_text (r, "result"), result);
  return n;
}

/* Blockers of this rule, fixable or not: the testcase fails.  *fixable
 * (if not NULL): every one of them is repaired by azprep fix. */
static bool
rule_blocks (const cJSON *vm, const char *id, bool *fixable)
{
  const cJSON *f;
  bool any = false;

  if (fixable)
    *fixable = true;
  cJSON_ArrayForEach (f, cJSON_GetObjectItem (vm, "findings"))
    if (!strcmp (json_text (f, "rule"), id) &&
        !strcmp (json_text (f, "severity"), "blocker")) {
      any = true;
      if (fixable && !cJSON_IsTrue (cJSON_GetObjectItem (f, "fixable")))
        *fixable = false;
    }
  return any;
}

static char *
finding_lines (const cJSON *vm, const char *id, bool blockers)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&buf, &len);
  const cJSON *f;

  if (!fp)
    return NULL;
  cJSON_ArrayForEach (f, cJSON_GetObjectItem (vm, "findings")) {
    bool fixable = cJSON_IsTrue (cJSON_GetObjectItem (f, "fixable"));
    bool blocker = !strcmp (json_text (f, "severity"), "blocker");
    const char *obj = json_text (f, "object");
    if (strcmp (json_text (f, "rule"), id) || blocker != blockers)
      continue;
    fprintf (fp, "%s%s: %s%s%s", fixable ? "fixable " : "",
             json_text (f, "severity"), obj, *obj ? ": " : "",
             json_text (f, "message"));
    if (fixable)
      fprintf (fp, " (azprep fix repairs it: %s)", json_text (f, "fixup"));
    else if (*json_text (f, "remedy"))
      fprintf (fp, "; remedy: %s", json_text (f, "remedy"));
    fputc ('\n', fp);
  }
  fclose (fp);
  if (buf && !*buf) {
    free (buf);
    buf = NULL;
  }
  return buf;
}

#define CK(x) do { if ((x) < 0) goto fail; } while (0)

static int
write_vm (xmlTextWriterPtr w, const cJSON *vm)
{
  const char *name = json_text (vm, "name");
  const cJSON *rules = cJSON_GetObjectItem (vm, "rules"), *r;
  bool error_vm = *json_text (vm, "error") != '\0';
  int failures = 0;
  CLEANUP_FREE char *classname = xasprintf ("azprep.check.%s", name);

  cJSON_ArrayForEach (r, rules)
    failures += !strcmp (json_text (r, "result"), "fail") &&
      rule_blocks (vm, json_text (r, "id"), NULL);
  CK (xmlTextWriterStartElement (w, BAD_CAST "testsuite"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "name", BAD_CAST name));
  CK (xmlTextWriterWriteFormatAttribute (w, BAD_CAST "tests", "%d",
                                         error_vm +
                                         cJSON_GetArraySize (rules)));
  CK (xmlTextWriterWriteFormatAttribute (w, BAD_CAST "failures", "%d",
                                         failures));
  CK (xmlTextWriterWriteFormatAttribute (w, BAD_CAST "errors", "%d",
                                         error_vm +
                                         count_result (vm, "error")));
  CK (xmlTextWriterWriteFormatAttribute (w, BAD_CAST "skipped", "%d",
                                         count_result (vm, "skipped")));
  CK (xmlTextWriterStartElement (w, BAD_CAST "properties"));
  CK (xmlTextWriterStartElement (w, BAD_CAST "property"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "name", BAD_CAST "verdict"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "value",
                                   BAD_CAST json_text (vm, "verdict")));
  CK (xmlTextWriterEndElement (w));
  CK (xmlTextWriterStartElement (w, BAD_CAST "property"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "name",
                                   BAD_CAST "ready_after_fix"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "value", BAD_CAST
                                   (cJSON_IsTrue (cJSON_GetObjectItem
                                                  (vm, "ready_after_fix"))
                                    ? "true" : "false")));
  CK (xmlTextWriterEndElement (w));
  CK (xmlTextWriterStartElement (w, BAD_CAST "property"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "name", BAD_CAST "summary"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "value",
                                   BAD_CAST check_verdict_words (vm, false)));
  CK (xmlTextWriterEndElement (w));
  CK (xmlTextWriterEndElement (w));

  if (error_vm) {
    CK (xmlTextWriterStartElement (w, BAD_CAST "testcase"));
    CK (xmlTextWriterWriteAttribute (w, BAD_CAST "classname",
                                     BAD_CAST classname));
    CK (xmlTextWriterWriteAttribute (w, BAD_CAST "name", BAD_CAST "check"));
    CK (xmlTextWriterStartElement (w, BAD_CAST "error"));
    CK (xmlTextWriterWriteAttribute (w, BAD_CAST "message",
                                     BAD_CAST json_text (vm, "error")));
    CK (xmlTextWriterEndElement (w));
    CK (xmlTextWriterEndElement (w));
  }
  cJSON_ArrayForEach (r, rules) {
    const char *id = json_text (r, "id"), *result = json_text (r, "result");
    CLEANUP_FREE char *blockers = finding_lines (vm, id, true);
    CLEANUP_FREE char *others = finding_lines (vm, id, false);

    CK (xmlTextWriterStartElement (w, BAD_CAST "testcase"));
    CK (xmlTextWriterWriteAttribute (w, BAD_CAST "classname",
                                     BAD_CAST classname));
    CK (xmlTextWriterWriteAttribute (w, BAD_CAST "name", BAD_CAST id));
    if (!strcmp (result, "skipped")) {
      CK (xmlTextWriterStartElement (w, BAD_CAST "skipped"));
      CK (xmlTextWriterWriteAttribute (w, BAD_CAST "message",
                                       BAD_CAST json_text (r, "message")));
      CK (xmlTextWriterEndElement (w));
    }
    else if (!strcmp (result, "error")) {
      CK (xmlTextWriterStartElement (w, BAD_CAST "error"));
      CK (xmlTextWriterWriteAttribute (w, BAD_CAST "message",
                                       BAD_CAST json_text (r, "message")));
      CK (xmlTextWriterEndElement (w));
    }
    else if (blockers) {
      CLEANUP_FREE char *first = first_line (blockers);
      bool fixable;
      rule_blocks (vm, id, &fixable);
      CK (xmlTextWriterStartElement (w, BAD_CAST "failure"));
      CK (xmlTextWriterWriteAttribute (w, BAD_CAST "type", BAD_CAST
                                       (fixable ? "fixable-blocker"
                                        : "blocker")));
      CK (xmlTextWriterWriteAttribute (w, BAD_CAST "message",
                                       BAD_CAST (first ? first : "")));
      CK (xmlTextWriterWriteString (w, BAD_CAST blockers));
      CK (xmlTextWriterEndElement (w));
    }
    if (others) {
      CK (xmlTextWriterStartElement (w, BAD_CAST "system-out"));
      CK (xmlTextWriterWriteString (w, BAD_CAST others));
      CK (xmlTextWriterEndElement (w));
    }
    CK (xmlTextWriterEndElement (w));
  }
  CK (xmlTextWriterEndElement (w));
  return 0;
 fail:
  return -1;
}

int
check_write_junit (const char *path, const cJSON *report_in)
{
  /* Strings may come from a guest: valid UTF-8 without control
   * characters only, as XML 1.0 requires. */
  cJSON *report = check_clean_json (report_in);
  xmlBufferPtr buf = xmlBufferCreate ();
  xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory (buf, 0) : NULL;
  const cJSON *vm, *vms = cJSON_GetObjectItem (report, "vms");
  int tests = 0, failures = 0, errors = 0, ret = -1;

  if (!report)
    goto out;
  if (!w) {
    azp_error ("%s: cannot create the XML writer", path);
    goto out;
  }
  cJSON_ArrayForEach (vm, vms) {
    int n = cJSON_GetArraySize (cJSON_GetObjectItem (vm, "rules"));
    bool error_vm = *json_text (vm, "error") != '\0';
    tests += n + error_vm;
    errors += count_result (vm, "error") + error_vm;
    {
      const cJSON *r;
      cJSON_ArrayForEach (r, cJSON_GetObjectItem (vm, "rules"))
        failures += !strcmp (json_text (r, "result"), "fail") &&
          rule_blocks (vm, json_text (r, "id"), NULL);
    }
  }
  xmlTextWriterSetIndent (w, 1);
  CK (xmlTextWriterStartDocument (w, NULL, "UTF-8", NULL));
  CK (xmlTextWriterStartElement (w, BAD_CAST "testsuites"));
  CK (xmlTextWriterWriteAttribute (w, BAD_CAST "name",
                                   BAD_CAST "azprep check"));
  CK (xmlTextWriterWriteFormatAttribute (w, BAD_CAST "tests", "%d", tests));
  CK (xmlTextWriterWriteFormatAttribute (w, BAD_CAST "failures", "%d",
                                         failures));
  CK (xmlTextWriterWriteFormatAttribute (w, BAD_CAST "errors", "%d", errors));
  cJSON_ArrayForEach (vm, vms)
    CK (write_vm (w, vm));
  CK (xmlTextWriterEndElement (w));
  CK (xmlTextWriterEndDocument (w));
  xmlFreeTextWriter (w);
  w = NULL;
  ret = write_file_atomic (path, xmlBufferContent (buf),
                           xmlBufferLength (buf));
  goto out;
 fail:
  azp_error ("%s: cannot write the JUnit XML", path);
 out:
  if (w)
    xmlFreeTextWriter (w);
  if (buf)
    xmlBufferFree (buf);
  cJSON_Delete (report);
  return ret;
}
