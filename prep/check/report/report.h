/* azprep check's report writers.  Every VM checked becomes one JSON
 * object (schema in prep/check.pod); the text, JUnit and HTML writers
 * all render that JSON, so a fleet run (one child azprep per VM) and a
 * single run produce the same reports.
 */
#ifndef AZPREP_CHECK_REPORT_H
#define AZPREP_CHECK_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

/* A copy of s with invalid UTF-8 and control characters (but tab and
 * newline) replaced by '?': safe for XML and HTML (prep/check/guest.c).
 * NULL on OOM. */
char *check_clean_text (const char *s);
/* A deep copy of j with every string cleaned so (NULL on OOM). */
cJSON *check_clean_json (const cJSON *j);

/* The verdict of a VM or a fleet object in words, from its "verdict"
 * and "ready_after_fix" (verdict.c): "ready", "ready with warnings",
 * "not ready; ready after 'azprep fix'" (blockers, all of them
 * repaired by azprep fix), "not ready", "could not check"; upper-case
 * for the text report. */
const char *check_verdict_words (const cJSON *o, bool upper);

/* Writers (text.c, junit.c, html.c). */
void check_print_text (FILE *fp, const cJSON *report, bool colour);
int check_write_junit (const char *path, const cJSON *report);
int check_write_html (const char *path, const cJSON *report);

#endif
