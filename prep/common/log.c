/* Logging: one place decides the prefix and where messages go. */
#include <stdarg.h>
#include <stdio.h>

#include "prep/common/common.h"

static int verbose_level;
/* Per thread: the blob writer's threads report errors concurrently. */
static __thread char last_error[1024];

void
log_set_verbose (int level)
{
  verbose_level = level;
}

int
log_verbose (void)
{
  return verbose_level;
}

static void
vlog (const char *prefix, const char *fmt, va_list ap)
{
  fputs ("azprep: ", stderr);
  if (prefix)
    fputs (prefix, stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
}

void
azp_error (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (last_error, sizeof last_error, fmt, ap);
  va_end (ap);
  va_start (ap, fmt);
  vlog ("error: ", fmt, ap);
  va_end (ap);
}

const char *
log_last_error (void)
{
  return last_error;
}

void
azp_warning (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog ("warning: ", fmt, ap);
  va_end (ap);
}

void
azp_info (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  vlog (NULL, fmt, ap);
  va_end (ap);
}

void
azp_debug (const char *fmt, ...)
{
  va_list ap;

  if (verbose_level <= 0)
    return;
  va_start (ap, fmt);
  vlog ("debug: ", fmt, ap);
  va_end (ap);
}
