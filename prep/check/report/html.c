/* azprep check --html FILE: one self-contained page (inline style, no
 * script, no external assets) for a fleet: a summary, then one table
 * row per VM with its verdict, OS, generation, size, counts per
 * severity, and its findings in a <details> element.  Everything that
 * comes from a guest, a descriptor or a file name is escaped.
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/report/report.h"

static void
esc (FILE *fp, const char *s)
{
  CLEANUP_FREE char *c = check_clean_text (s ? s : "");
  for (const char *p = c ? c : ""; *p; p++)
    switch (*p) {
    case '&': fputs ("&amp;", fp); break;
    case '<': fputs ("&lt;", fp); break;
    case '>': fputs ("&gt;", fp); break;
    case '"': fputs ("&quot;", fp); break;
    case '\'': fputs ("&#39;", fp); break;
    default: fputc (*p, fp);
    }
}

static const char style[] =
  "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
  "table{border-collapse:collapse;width:100%}"
  "th,td{border:1px solid #ccc;padding:.35em .6em;text-align:left;"
  "vertical-align:top}"
  "th{background:#f0f0f0}"
  ".v{font-weight:bold;border-radius:3px;padding:.1em .4em;color:#fff}"
  ".v-ready{background:#2e7d32}.v-warnings{background:#b26a00}"
  ".v-not-ready{background:#c62828}.v-error{background:#555}"
  "td.n{text-align:right}"
  "li.blocker{color:#c62828}li.warning{color:#8a5300}li.info{color:#555}"
  ".id{font-family:monospace}.remedy{color:#444;font-style:italic}";

static void
write_vm (FILE *fp, const cJSON *vm)
{
  const char *v = json_text (vm, "verdict");
  const cJSON *os = cJSON_GetObjectItem (vm, "os");
  const cJSON *az = cJSON_GetObjectItem (vm, "azure");
  const cJSON *size = cJSON_GetObjectItem (az, "size");
  const cJSON *c = cJSON_GetObjectItem (vm, "counts");
  const cJSON *findings = cJSON_GetObjectItem (vm, "findings"), *f;

  fprintf (fp, "<tr class=\"vm\" data-verdict=\"");
  esc (fp, v);
  fprintf (fp, "\"><td>");
  esc (fp, json_text (vm, "name"));
  fprintf (fp, "</td><td><span class=\"v v-");
  esc (fp, v);
  fprintf (fp, "\">");
  esc (fp, check_verdict_words (vm, false));
  fprintf (fp, "</span></td><td>");
  if (cJSON_IsObject (os)) {
    /* A product name without a letter ("12") says less than the distro. */
    if (strpbrk (json_text (os, "product_name"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "abcdefghijklmnopqrstuvwxyz"))
      esc (fp, json_text (os, "product_name"));
    else {
      esc (fp, json_text (os, "distro"));
      fprintf (fp, " %d.%d", json_int (os, "major"), json_int (os, "minor"));
    }
    fprintf (fp, " (");
    esc (fp, json_text (os, "arch"));
    fprintf (fp, ")");
  }
  fprintf (fp, "</td><td>");
  if (cJSON_IsNumber (cJSON_GetObjectItem (az, "generation")))
    fprintf (fp, "%d", json_int (az, "generation"));
  fprintf (fp, "</td><td>");
  if (cJSON_IsObject (size)) {
    esc (fp, json_text (size, "name"));
    fprintf (fp, " (");
    esc (fp, json_text (size, "chosen"));
    fprintf (fp, ")");
  }
  fprintf (fp, "</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
           "<td class=\"n\">%d</td><td class=\"n\">%d</td><td>",
           json_int (c, "blocker"), json_int (c, "warning"),
           json_int (c, "info"), json_int (c, "fixable"));
  if (*json_text (vm, "error")) {
    fprintf (fp, "<p>could not check: ");
    esc (fp, json_text (vm, "error"));
    fprintf (fp, "</p>");
  }
  if (cJSON_GetArraySize (findings) > 0) {
    fprintf (fp, "<details><summary>%d finding%s</summary><ul>",
             cJSON_GetArraySize (findings),
             cJSON_GetArraySize (findings) == 1 ? "" : "s");
    cJSON_ArrayForEach (f, findings) {
      bool fixable = cJSON_IsTrue (cJSON_GetObjectItem (f, "fixable"));
      fprintf (fp, "<li class=\"");
      esc (fp, json_text (f, "severity"));
      fprintf (fp, "\">");
      esc (fp, json_text (f, "severity"));
      fprintf (fp, " <span class=\"id\">");
      esc (fp, json_text (f, "id"));
      fprintf (fp, "</span> ");
      if (*json_text (f, "object")) {
        esc (fp, json_text (f, "object"));
        fprintf (fp, ": ");
      }
      esc (fp, json_text (f, "message"));
      if (fixable) {
        fprintf (fp, " <span class=\"remedy\">(azprep fix repairs it: ");
        esc (fp, json_text (f, "fixup"));
        fprintf (fp, ")</span>");
      }
      else if (*json_text (f, "remedy")) {
        fprintf (fp, " <span class=\"remedy\">");
        esc (fp, json_text (f, "remedy"));
        fprintf (fp, "</span>");
      }
      fprintf (fp, "</li>");
    }
    fprintf (fp, "</ul></details>");
  }
  fprintf (fp, "</td></tr>\n");
}

int
check_write_html (const char *path, const cJSON *report)
{
  char *buf = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&buf, &len);
  const cJSON *vms = cJSON_GetObjectItem (report, "vms"), *vm;
  const cJSON *by = cJSON_GetObjectItem (report, "vms_by_verdict");
  const char *v = json_text (report, "verdict");
  int ret;

  if (!fp) {
    azp_error ("out of memory");
    return -1;
  }
  fprintf (fp, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
           "<meta charset=\"utf-8\"/>\n"
           "<title>azprep check: %d VM%s</title>\n<style>%s</style>\n"
           "</head>\n<body>\n<h1>azprep check</h1>\n",
           cJSON_GetArraySize (vms), cJSON_GetArraySize (vms) == 1 ? "" : "s",
           style);
  fprintf (fp, "<p id=\"summary\">Verdict: <span class=\"v v-");
  esc (fp, v);
  fprintf (fp, "\">");
  esc (fp, check_verdict_words (report, false));
  fprintf (fp, "</span>: %d VMs, %d ready, %d with warnings, "
           "%d not ready, %d could not be checked.</p>\n",
           cJSON_GetArraySize (vms), json_int (by, "ready"),
           json_int (by, "warnings"), json_int (by, "not-ready"),
           json_int (by, "error"));
  fprintf (fp, "<table id=\"vms\">\n<thead><tr><th>VM</th><th>Verdict</th>"
           "<th>OS</th><th>Azure generation</th><th>Azure size</th>"
           "<th>Blockers</th><th>Warnings</th><th>Info</th>"
           "<th>Fixable</th><th>Findings</th></tr></thead>\n<tbody>\n");
  cJSON_ArrayForEach (vm, vms)
    write_vm (fp, vm);
  fprintf (fp, "</tbody>\n</table>\n</body>\n</html>\n");
  if (fclose (fp) != 0 || !buf) {
    free (buf);
    azp_error ("%s: cannot build the HTML report", path);
    return -1;
  }
  ret = write_file_atomic (path, buf, len);
  free (buf);
  return ret;
}
