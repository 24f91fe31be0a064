/* azprep check --junit FILE: JUnit XML, written with libxml2's text
 * writer (which escapes everything).  One testsuite per VM, one
 * testcase per rule and per fixup, so that CI dashboards show each
 * rule's result:
 *   a non-fixable blocker        <failure type="blocker">
 *   a rule that could not run    <error>
 *   a rule that was not reached  <skipped>
 *   warnings, information and what "azprep fix" repairs: the testcase
 *   passes, the findings are in its <system-out> (JUnit has no
 *   "warning" state; the VM's verdict is a testsuite property).
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

/* Non-fixable blockers of this rule: the testcase fails. */
static bool
rule_blocks (const cJSON *vm, const char *id)
{
  const cJSON *f;
  cJSON_ArrayForEach (f, cJSON_GetObjectItem (vm, "findings"))
    if (!strcmp (json_text (f, "rule"), id) &&
        !strcmp (json_text (f, "severity"), "blocker") &&
        !cJSON_IsTrue (cJSON_GetObjectItem (f, "fixable")))
      return true;
  return false;
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
    bool blocker = !strcmp (json_text (f, "severity"), "blocker") && !fixable;
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
      rule_blocks (vm, json_text (r, "id"));
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
      CK (xmlTextWriterStartElement (w, BAD_CAST "failure"));
      CK (xmlTextWriterWriteAttribute (w, BAD_CAST "type",
                                       BAD_CAST "blocker"));
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
          rule_blocks (vm, json_text (r, "id"));
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
