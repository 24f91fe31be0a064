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

/* Writers (text.c, junit.c, html.c). */
void check_print_text (FILE *fp, const cJSON *report, bool colour);
int check_write_junit (const char *path, const cJSON *report);
int check_write_html (const char *path, const cJSON *report);

#endif
