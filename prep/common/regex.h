/* prep/common/regex: named pcre2 patterns, compiled once per run, and
 * the CLEANUP_PCRE2_* macros (as libguestfs's cleanups.h has them).
 * Text read from a guest (console lines, registry strings) is matched
 * with these instead of strstr chains.
 */
#ifndef AZPREP_REGEX_H
#define AZPREP_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

void cleanup_pcre2_code (void *ptr);
void cleanup_pcre2_match_data (void *ptr);
#define CLEANUP_PCRE2_CODE_FREE \
  __attribute__((cleanup (cleanup_pcre2_code)))
#define CLEANUP_PCRE2_MATCH_DATA_FREE \
  __attribute__((cleanup (cleanup_pcre2_match_data)))

/* A pattern with a name (for messages); code is filled by re_compile
 * and kept for the rest of the run. */
struct re {
  const char *name;
  const char *pattern;
  uint32_t options;             /* PCRE2_CASELESS, ... */
  pcre2_code *code;
};

/* Compile re if it is not yet compiled.  0, or -1 (reported). */
int re_compile (struct re *re);
/* Match data big enough for any pattern of this project (NULL on
 * failure, reported): create once, reuse for every match. */
pcre2_match_data *re_match_data (void);
/* Match re against s[0..len) from offset start: 1 matched, 0 not, -1
 * error (reported).  Compiles re on first use. */
int re_match (struct re *re, const char *s, size_t len, size_t start,
              pcre2_match_data *md);
/* Group n of the last match in md: its start in s and length; false if
 * the group did not take part. */
bool re_group (pcre2_match_data *md, const char *s, unsigned n,
               const char **p, size_t *len);

#endif /* AZPREP_REGEX_H */
