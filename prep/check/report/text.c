/* azprep check: the human report, from the report JSON.  Findings are
 * grouped by severity; colours only when asked (stdout is a TTY). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/report/report.h"

#define RED "\033[1;31m"
#define YELLOW "\033[1;33m"
#define GREEN "\033[1;32m"
#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RESET "\033[0m"

static const char *
verdict_colour (const char *v)
{
  if (!strcmp (v, "ready")) return GREEN;
  if (!strcmp (v, "warnings")) return YELLOW;
  return RED;
}

static void
print_vm (FILE *fp, const cJSON *vm, bool colour)
{
  const char *v = json_text (vm, "verdict");
  const cJSON *counts = cJSON_GetObjectItem (vm, "counts");
  const cJSON *os = cJSON_GetObjectItem (vm, "os");
  const cJSON *az = cJSON_GetObjectItem (vm, "azure");
  const cJSON *findings = cJSON_GetObjectItem (vm, "findings");
  static const char *const groups[] = { "blocker", "warning", "info" };

  fprintf (fp, "%s%s%s: %s%s%s", colour ? BOLD : "", json_text (vm, "name"),
           colour ? RESET : "", colour ? verdict_colour (v) : "",
           check_verdict_words (vm, true), colour ? RESET : "");
  if (counts)
    fprintf (fp, " (%d blocker%s, %d warning%s, %d fixable by "
             "'azprep fix')", json_int (counts, "blocker"),
             json_int (counts, "blocker") == 1 ? "" : "s",
             json_int (counts, "warning"),
             json_int (counts, "warning") == 1 ? "" : "s",
             json_int (counts, "fixable"));
  fputc ('\n', fp);
  if (*json_text (vm, "error"))
    fprintf (fp, "  could not check: %s\n", json_text (vm, "error"));
  if (cJSON_IsObject (os))
    fprintf (fp, "  %s (%s %s %d.%d, %s)", json_text (os, "product_name"),
             json_text (os, "type"), json_text (os, "distro"),
             json_int (os, "major"), json_int (os, "minor"),
             json_text (os, "arch"));
  if (cJSON_IsObject (az)) {
    const cJSON *size = cJSON_GetObjectItem (az, "size");
    if (cJSON_IsNumber (cJSON_GetObjectItem (az, "generation")))
      fprintf (fp, "%s Azure generation %d", cJSON_IsObject (os) ? "," : " ",
               json_int (az, "generation"));
    if (cJSON_IsObject (size))
      fprintf (fp, ", %s size %s (%d vCPU, %g GiB, up to %d data disks)",
               json_text (size, "chosen"), json_text (size, "name"),
               json_int (size, "vcpus"),
               cJSON_GetObjectItem (size, "memory_gib")->valuedouble,
               json_int (size, "max_data_disks"));
  }
  if (cJSON_IsObject (os) || cJSON_IsObject (az))
    fputc ('\n', fp);

  for (size_t gi = 0; gi < 3; gi++) {
    const cJSON *f;
    bool header = false;
    cJSON_ArrayForEach (f, findings) {
      const char *obj = json_text (f, "object");
      bool fixable = cJSON_IsTrue (cJSON_GetObjectItem (f, "fixable"));
      if (strcmp (json_text (f, "severity"), groups[gi]))
        continue;
      if (!header) {
        const char *c = gi == 0 ? RED : gi == 1 ? YELLOW : DIM;
        fprintf (fp, "  %s%ss:%s\n", colour ? c : "", groups[gi],
                 colour ? RESET : "");
        header = true;
      }
      fprintf (fp, "    [%s] %s%s%s", json_text (f, "id"), obj,
               *obj ? ": " : "", json_text (f, "message"));
      if (fixable)
        fprintf (fp, " (azprep fix repairs it: %s)", json_text (f, "fixup"));
      else if (*json_text (f, "remedy"))
        fprintf (fp, "; %s", json_text (f, "remedy"));
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
  const char *v = json_text (report, "verdict");
  int n = cJSON_GetArraySize (vms);

  cJSON_ArrayForEach (vm, vms)
    print_vm (fp, vm, colour);
  if (n == 1)
    fprintf (fp, "verdict: %s%s%s\n", colour ? verdict_colour (v) : "",
             check_verdict_words (report, true), colour ? RESET : "");
  else
    fprintf (fp, "verdict: %s%s%s: %d VMs: %d ready, %d with warnings, "
             "%d not ready, %d could not be checked\n",
             colour ? verdict_colour (v) : "",
             check_verdict_words (report, true),
             colour ? RESET : "", n, json_int (by, "ready"),
             json_int (by, "warnings"), json_int (by, "not-ready"),
             json_int (by, "error"));
}
