/* Named pcre2 patterns: compile once, match with reused match data. */
#include <pthread.h>

#include "prep/common/common.h"
#include "prep/common/regex.h"

/* Enough for the patterns here (a few groups each). */
#define RE_MAX_GROUPS 10

static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

void
cleanup_pcre2_code (void *ptr)
{
  pcre2_code_free (*(pcre2_code **) ptr);
}

void
cleanup_pcre2_match_data (void *ptr)
{
  pcre2_match_data_free (*(pcre2_match_data **) ptr);
}

int
re_compile (struct re *re)
{
  int errcode, ret = 0;
  PCRE2_SIZE erroff;

  pthread_mutex_lock (&compile_lock);
  if (!re->code) {
    re->code = pcre2_compile ((PCRE2_SPTR) re->pattern, PCRE2_ZERO_TERMINATED,
                              re->options, &errcode, &erroff, NULL);
    if (re->code)
      /* Faster where the JIT exists; the interpreter serves otherwise. */
      pcre2_jit_compile (re->code, PCRE2_JIT_COMPLETE);
    else {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message (errcode, msg, sizeof msg);
      azp_error ("pattern %s: %s at offset %zu", re->name, (char *) msg,
                 (size_t) erroff);
      ret = -1;
    }
  }
  pthread_mutex_unlock (&compile_lock);
  return ret;
}

pcre2_match_data *
re_match_data (void)
{
  pcre2_match_data *md = pcre2_match_data_create (RE_MAX_GROUPS, NULL);
  if (!md)
    azp_error ("out of memory");
  return md;
}

int
re_match (struct re *re, const char *s, size_t len, size_t start,
          pcre2_match_data *md)
{
  int r;

  if (re_compile (re) == -1)
    return -1;
  r = pcre2_match (re->code, (PCRE2_SPTR) s, len, start, 0, md, NULL);
  if (r >= 0)
    return 1;
  if (r == PCRE2_ERROR_NOMATCH)
    return 0;
  {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message (r, msg, sizeof msg);
    azp_error ("pattern %s: %s", re->name, (char *) msg);
  }
  return -1;
}

bool
re_group (pcre2_match_data *md, const char *s, unsigned n, const char **p,
          size_t *len)
{
  PCRE2_SIZE *ov = pcre2_get_ovector_pointer (md);

  if (n >= pcre2_get_ovector_count (md) || ov[2 * n] == PCRE2_UNSET)
    return false;
  *p = s + ov[2 * n];
  *len = ov[2 * n + 1] - ov[2 * n];
  return true;
}
