/* Tiny assertion macros shared by the replicate/test-*.c unit tests. */
#ifndef AZPREP_REPLICATE_UNIT_H
#define AZPREP_REPLICATE_UNIT_H

#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond) do {                                                 \
    if (!(cond)) {                                                       \
      fprintf (stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond);  \
      failures++;                                                        \
    }                                                                    \
  } while (0)

#define CHECK_STR(a, b) do {                                             \
    const char *_a = (a), *_b = (b);                                     \
    if (!_a || strcmp (_a, _b) != 0) {                                   \
      fprintf (stderr, "%s:%d: FAIL: got \"%s\", want \"%s\"\n",         \
               __FILE__, __LINE__, _a ? _a : "(null)", _b);              \
      failures++;                                                        \
    }                                                                    \
  } while (0)

/* Exit status for main(). */
#define UNIT_RESULT(name) \
  (failures ? (fprintf (stderr, "%s: %d failure(s)\n", name, failures), 1) \
   : (printf ("%s: ok\n", name), 0))

#endif
