/* tests/fuzz: what the fuzz targets share.  Each fuzz-NAME.c defines
 * LLVMFuzzerTestOneInput for one parser of outside bytes; it is linked
 * either with libFuzzer (make fuzz) or with replay.c, which feeds it
 * each file of its checked-in corpus (make check-fuzz, under ASan and
 * UBSan).  Targets link with azprep's objects, never into azprep.
 */
#ifndef AZPREP_TESTS_FUZZ_H
#define AZPREP_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* The input as a new NUL-terminated string (a NUL inside ends it, as
 * it would for the C string the parser is given). */
char *fuzz_string (const uint8_t *data, size_t size);

/* The input written to a file of this process's private directory,
 * named "input" + suffix (parsers that take a path: descriptors,
 * journals, fleet files).  Returns its path (valid until the next
 * call), or NULL after a message. */
const char *fuzz_file (const uint8_t *data, size_t size, const char *suffix);

/* File descriptors: fuzz_fd_mark () before the call under test, the
 * lowest free descriptor; fuzz_fd_release (mark, what) after it closes
 * any the call left open on the fuzz_file input, so that a leak
 * (reported once, on stderr, naming what) does not end the run by
 * exhausting descriptors.  With FUZZ_FD_STRICT set (the corpus replay),
 * a leak aborts. */
int fuzz_fd_mark (void);
void fuzz_fd_release (int mark, const char *what);

#endif
