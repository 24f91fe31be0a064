/* azprep check: the human report, from the report JSON.  Findings are
 * grouped by severity; colours only when asked (stdout is a TTY). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/check/report/report.h"

#define RED "\033[1;31m"
#define YELLOW "\033[1;33m"
#define GREEN "\033[1;32m"
#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RESET "\033[0m"

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
verdict_colour (const char *v)
{
  if (!strcmp (v, "ready")) return GREEN;
  if (!strcmp (v, "warnings")) return YELLOW;
  return RED;
}

static const char *
verdict_text (const char *v)
{
  if (!strcmp (v, "ready")) return "READY";
  if (!strcmp (v, "warnings")) return "READY WITH WARNINGS";
  if (!strcmp (v, "not-ready")) return "NOT READY";
  return "COULD NOT CHECK";
}

static void
print_vm (FILE *fp, const cJSON *vm, bool colour)
{
  const char *v = str (vm, "verdict");
  const cJSON *counts = cJSON_GetObjectItem (vm, "counts");
  const cJSON *os = cJSON_GetObjectItem (vm, "os");
  const cJSON *az = cJSON_GetObjectItem (vm, "azure");
  const cJSON *findings = cJSON_GetObjectItem (vm, "findings");
  static const char *const groups[] = { "blocker", "warning", "info" };

  fprintf (fp, "%s%s%s: %s%s%s", colour ? BOLD : "", str (vm, "name"),
           colour ? RESET : "", colour ? verdict_colour (v) : "",
           verdict_text (v), colour ? RESET : "");
  if (counts)
    fprintf (fp, " (%d blocker%s, %d warning%s, %d fixable by "
             "'azprep fix')", num (counts, "blocker"),
             num (counts, "blocker") == 1 ? "" : "s",
             num (counts, "warning"), num (counts, "warning") == 1 ? "" : "s",
             num (counts, "fixable"));
  fputc ('\n', fp);
  if (*str (vm, "error"))
    fprintf (fp, "  could not check: %s\n", str (vm, "error"));
  if (cJSON_IsObject (os))
    fprintf (fp, "  %s (%s %s %d.%d, %s)", str (os, "product_name"),
             str (os, "type"), str (os, "distro"), num (os, "major"),
             num (os, "minor"), str (os, "arch"));
  if (cJSON_IsObject (az)) {
    const cJSON *size = cJSON_GetObjectItem (az, "size");
    if (cJSON_IsNumber (cJSON_GetObjectItem (az, "generation")))
      fprintf (fp, "%s Azure generation %d", cJSON_IsObject (os) ? "," : " ",
               num (az, "generation"));
    if (cJSON_IsObject (size))
      fprintf (fp, ", %s size %s (%d vCPU, %g GiB, up to %d data disks)",
               str (size, "chosen"), str (size, "name"), num (size, "vcpus"),
               cJSON_GetObjectItem (size, "memory_gib")->valuedouble,
               num (size, "max_data_disks"));
  }
  if (cJSON_IsObject (os) || cJSON_IsObject (az))
    fputc ('\n', fp);

  for (size_t gi = 0; gi < 3; gi++) {
    const cJSON *f;
    bool header = false;
    cJSON_ArrayForEach (f, findings) {
      const char *obj = str (f, "object");
      bool fixable = cJSON_IsTrue (cJSON_GetObjectItem (f, "fixable"));
      if (strcmp (str (f, "severity"), groups[gi]))
        continue;
      if (!header) {
        const char *c = gi == 0 ? RED : gi == 1 ? YELLOW : DIM;
        fprintf (fp, "  %s%ss:%s\n", colour ? c : "", groups[gi],
                 colour ? RESET : "");
        header = true;
      }
      fprintf (fp, "    [%s] %s%s%s", str (f, "id"), obj,
               *obj ? ": " : "", str (f, "message"));
      if (fixable)
        fprintf (fp, " (azprep fix repairs it: %s)", str (f, "fixup"));
      else if (*str (f, "remedy"))
        fprintf (fp, "; %s", str (f, "remedy"));
      fputc ('\n', fp);
    }
  }
}

void
check_print_text (FILE *fp, const cJSON *report, bool colour)
{
  const cJSON *vms = cJSON_GetObjectItem (report, "vms");
  const cJSON *by = cJSON_GetObjectItem (report, "vms_by_verdict");
  const cJSON *vm;
  const char *v = str (report, "verdict");
  int n = cJSON_GetArraySize (vms);

  cJSON_ArrayForEach (vm, vms)
    print_vm (fp, vm, colour);
  if (n == 1)
    fprintf (fp, "verdict: %s%s%s\n", colour ? verdict_colour (v) : "",
             verdict_text (v), colour ? RESET : "");
  else
    fprintf (fp, "verdict: %s%s%s: %d VMs: %d ready, %d with warnings, "
             "%d not ready, %d could not be checked\n",
             colour ? verdict_colour (v) : "", verdict_text (v),
             colour ? RESET : "", n, num (by, "ready"), num (by, "warnings"),
             num (by, "not-ready"), num (by, "error"));
}
