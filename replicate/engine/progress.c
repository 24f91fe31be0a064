/* Progress of a cycle: a bar with rate and ETA on a terminal (stderr),
 * or one JSON object per line on stdout with --json.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "prep/common/common.h"
#include "replicate/engine/replicate.h"

struct progress {
  struct job *job;
  size_t disk;
  uint64_t total;
  double start, last;
};

static double
now (void)
{
  return monotonic_ns () / 1e9;
}

const char *
human_size (uint64_t n, char buf[32])
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  double v = n;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf (buf, 32, u ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

struct progress *
progress_new (struct job *job, size_t disk, uint64_t total)
{
  struct progress *p;
  if (!job->json && !job->tty)
    return NULL;
  p = calloc (1, sizeof *p);
  if (!p)
    return NULL;
  p->job = job;
  p->disk = disk;
  p->total = total;
  p->start = now ();
  return p;
}

void
progress_update (struct progress *p, uint64_t scanned, uint64_t sent,
                 bool force)
{
  double t = now (), el = t - p->start;
  double rate = el > 0 ? sent / el : 0;
  double eta = scanned > 0 && scanned < p->total
    ? el * (p->total - scanned) / scanned : 0;

  if (!force && t - p->last < 1.0)
    return;
  p->last = t;
  if (p->job->json) {
    printf ("{\"event\":\"progress\",\"disk\":%zu,\"scanned\":%" PRIu64
            ",\"total\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
            ",\"rate\":%.0f,\"eta\":%.0f}\n", p->disk, scanned, p->total,
            sent, rate, eta);
    fflush (stdout);
  }
  else {
    int width = 30, fill = p->total ? (int) (width * scanned / p->total) : 0;
    char bar[64], s1[32], s2[32];
    memset (bar, '#', fill);
    memset (bar + fill, '-', width - fill);
    bar[width] = '\0';
    fprintf (stderr, "\rdisk %zu [%s] %3d%%  sent %s  %s/s  ETA %02d:%02d ",
             p->disk, bar,
             p->total ? (int) (100 * scanned / p->total) : 100,
             human_size (sent, s1), human_size ((uint64_t) rate, s2),
             (int) eta / 60, (int) eta % 60);
    if (force)
      fputc ('\n', stderr);
    fflush (stderr);
  }
}

void
progress_free (struct progress *p)
{
  free (p);
}
