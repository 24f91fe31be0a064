/* azprep replicate: byte range lists, the Get Page Ranges and List
 * Blobs replies (pure functions).  Ranges are [start, end) with end
 * exclusive.
 */
#ifndef AZPREP_REPLICATE_RANGES_H
#define AZPREP_REPLICATE_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct range { uint64_t start, end; };
struct rangelist { struct range *r; size_t n, cap; };

void rangelist_free (struct rangelist *l);
void rangelist_cleanup (void *ptr);
#define CLEANUP_RANGELIST __attribute__((cleanup (rangelist_cleanup)))
/* Append [start, end); merges with the last range when they touch. */
int rangelist_add (struct rangelist *l, uint64_t start, uint64_t end);
/* Sort and merge overlapping or adjacent ranges. */
void rangelist_normalize (struct rangelist *l);
/* Total bytes (of a normalized list). */
uint64_t rangelist_bytes (const struct rangelist *l);
/* Does the normalized list cover all of [start, end)? */
bool rangelist_covers (const struct rangelist *l, uint64_t start,
                       uint64_t end);

/* Does the normalized list overlap [start, end)? */
bool rangelist_overlaps (const struct rangelist *l, uint64_t start,
                         uint64_t end);

/* Parse a Get Page Ranges body (<PageList> with <PageRange> and
 * <ClearRange> elements, inclusive Start/End) into pages (and clears if
 * not NULL); *next_marker gets <NextMarker> if non-empty.  At most
 * max_ranges ranges are accepted.  Network input: parsed safely
 * (prep/common/xml.h: no network, no entities, no DTD).  what names
 * the blob for messages.  0 or -1 after azp_error().
 */
int pagelist_parse (const char *xml, size_t len, const char *what,
                    size_t max_ranges, struct rangelist *pages,
                    struct rangelist *clears, char **next_marker);

/* The <Code> and <Message> of an error reply body, or NULL.  The
 * results are malloc'd and at most 256 bytes.
 */
void storage_error_parse (const char *xml, size_t len, char **code,
                          char **message);

/* One entry of a List Blobs reply. */
struct blob_item {
  char *name;            /* the blob's name */
  char *snapshot;        /* its x-ms-snapshot, or NULL: the base blob */
  char **metadata;       /* "name=value", NULL-terminated */
};
struct blob_list { struct blob_item *items; size_t n; };
void blob_list_free (struct blob_list *l);

/* Parse a List Blobs body (<EnumerationResults>, include=metadata):
 * the <Blob> entries named exactly name (every entry if name is NULL)
 * are appended to out, at most
 * max_items in all; *next_marker gets <NextMarker> if non-empty.
 * Parsed safely like pagelist_parse.  0 or -1 after azp_error().
 */
int bloblist_parse (const char *xml, size_t len, const char *what,
                    const char *name, size_t max_items,
                    struct blob_list *out, char **next_marker);

#endif
