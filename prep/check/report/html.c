/* azprep check --html FILE: one self-contained page (inline style, no
 * script, no external assets) for a fleet: a summary, then one table
 * row per VM with its verdict, OS, generation, size, counts per
 * severity, and its findings in a <details> element.  Everything that
 * comes from a guest, a descriptor or a file name is escaped.
 */
#include <string.h>

#include "prep/common/common.h"
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

static const char *
str (const cJSON *o, const char *k)
{
  const char *s = cJSON_GetStringValue (cJSON_GetObjectItem (o, k));
  return s ? s : "";
}

static int
num (const cJSON *o, const char *k)
{
  const cJSON *v = cJSON_GetObjectItem (o, k);
  return cJSON_IsNumber (v) ? v->valueint : 0;
}

static const char *
verdict_label (const char *v)
{
  if (!strcmp (v, "ready")) return "ready";
  if (!strcmp (v, "warnings")) return "ready with warnings";
  if (!strcmp (v, "not-ready")) return "not ready";
  return "could not check";
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
  const char *v = str (vm, "verdict");
  const cJSON *os = cJSON_GetObjectItem (vm, "os");
  const cJSON *az = cJSON_GetObjectItem (vm, "azure");
  const cJSON *size = cJSON_GetObjectItem (az, "size");
  const cJSON *c = cJSON_GetObjectItem (vm, "counts");
  const cJSON *findings = cJSON_GetObjectItem (vm, "findings"), *f;

  fprintf (fp, "<tr class=\"vm\" data-verdict=\"");
  esc (fp, v);
  fprintf (fp, "\"><td>");
  esc (fp, str (vm, "name"));
  fprintf (fp, "</td><td><span class=\"v v-");
  esc (fp, v);
  fprintf (fp, "\">%s</span></td><td>", verdict_label (v));
  if (cJSON_IsObject (os)) {
    /* A product name without a letter ("12") says less than the distro. */
    if (strpbrk (str (os, "product_name"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "abcdefghijklmnopqrstuvwxyz"))
      esc (fp, str (os, "product_name"));
    else {
      esc (fp, str (os, "distro"));
      fprintf (fp, " %d.%d", num (os, "major"), num (os, "minor"));
    }
    fprintf (fp, " (");
    esc (fp, str (os, "arch"));
    fprintf (fp, ")");
  }
  fprintf (fp, "</td><td>");
  if (cJSON_IsNumber (cJSON_GetObjectItem (az, "generation")))
    fprintf (fp, "%d", num (az, "generation"));
  fprintf (fp, "</td><td>");
  if (cJSON_IsObject (size)) {
    esc (fp, str (size, "name"));
    fprintf (fp, " (");
    esc (fp, str (size, "chosen"));
    fprintf (fp, ")");
  }
  fprintf (fp, "</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
           "<td class=\"n\">%d</td><td class=\"n\">%d</td><td>",
           num (c, "blocker"), num (c, "warning"), num (c, "info"),
           num (c, "fixable"));
  if (*str (vm, "error")) {
    fprintf (fp, "<p>could not check: ");
    esc (fp, str (vm, "error"));
    fprintf (fp, "</p>");
  }
  if (cJSON_GetArraySize (findings) > 0) {
    fprintf (fp, "<details><summary>%d finding%s</summary><ul>",
             cJSON_GetArraySize (findings),
             cJSON_GetArraySize (findings) == 1 ? "" : "s");
    cJSON_ArrayForEach (f, findings) {
      bool fixable = cJSON_IsTrue (cJSON_GetObjectItem (f, "fixable"));
      fprintf (fp, "<li class=\"");
      esc (fp, str (f, "severity"));
      fprintf (fp, "\">");
      esc (fp, str (f, "severity"));
      fprintf (fp, " <span class=\"id\">");
      esc (fp, str (f, "id"));
      fprintf (fp, "</span> ");
      if (*str (f, "object")) {
        esc (fp, str (f, "object"));
        fprintf (fp, ": ");
      }
      esc (fp, str (f, "message"));
      if (fixable) {
        fprintf (fp, " <span class=\"remedy\">(azprep fix repairs it: ");
        esc (fp, str (f, "fixup"));
        fprintf (fp, ")</span>");
      }
      else if (*str (f, "remedy")) {
        fprintf (fp, " <span class=\"remedy\">");
        esc (fp, str (f, "remedy"));
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
  const char *v = str (report, "verdict");
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
  fprintf (fp, "\">%s</span>: %d VMs, %d ready, %d with warnings, "
           "%d not ready, %d could not be checked.</p>\n",
           verdict_label (v), cJSON_GetArraySize (vms), num (by, "ready"),
           num (by, "warnings"), num (by, "not-ready"), num (by, "error"));
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
