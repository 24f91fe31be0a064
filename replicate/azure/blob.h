/* replicate/azure: the Azure side of replication (Blob REST, signing,
 * credentials, page ranges, VHD), depending only on prep/common.
 *
 * An Azure Blob Storage client for page blobs (libcurl).  Usable by
 * any part of azprep (replicate, test migration, an nbdkit plugin that
 * serves a blob as a block device).
 *
 * Every function is safe to call from several threads at once on the
 * same client and blob: requests take an easy handle from a pool whose
 * connections (and TLS sessions) are shared and reused.
 *
 * Errors are reported once with azp_error(), naming the blob (URL with any
 * SAS signature redacted), the HTTP status, the storage error code
 * (x-ms-error-code) and a hint; functions then return -1 and
 * blob_error_code() gives the storage code for callers that handle some
 * (e.g. "BlobAlreadyExists").  500/503/timeouts/resets are retried with
 * exponential back-off and jitter, honouring Retry-After; 4xx fail fast.
 */
#ifndef AZPREP_REPLICATE_BLOB_H
#define AZPREP_REPLICATE_BLOB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replicate/azure/auth.h"
#include "replicate/azure/ranges.h"
#include "replicate/azure/token.h"

#define BLOB_PAGE 512
#define BLOB_MAX_PUT (4 * 1024 * 1024)     /* Put Page update limit */
#define BLOB_DEFAULT_VERSION "2025-11-05"
/* The environment variable that overrides it (--api-version sets it, so
 * that azprep's children use the same). */
#define BLOB_VERSION_ENV "AZPREP_STORAGE_API_VERSION"

struct blob_opts {
  const char *cacert;     /* CA file for HTTPS (NULL: system store) */
  bool allow_http;        /* plain HTTP to a host that is not loopback */
  const char *version;    /* x-ms-version (NULL: $AZPREP_STORAGE_API_VERSION,
                           * else BLOB_DEFAULT_VERSION) */
  int max_tries;          /* attempts for retryable failures (0: 10) */
  unsigned retry_base_ms; /* first back-off (0: 500 ms); doubles, cap 30 s */
  /* Entra ID tokens, sent as Bearer instead of Shared Key (a SAS still
   * wins): borrowed, shared by every thread.  NULL: the source the
   * environment chooses (token_source_from_env), if any.
   */
  struct token_source *tokens;
  /* When *stop becomes non-zero (SIGINT, SIGTERM), back-off and copy
   * polling sleeps end and nothing more is retried.  NULL: never. */
  volatile sig_atomic_t *stop;
  unsigned copy_timeout_s;  /* Copy Blob polling deadline (0: 4 hours) */
  /* When *fence becomes non-zero (the job's state lease is lost or
   * about to expire), no request that changes anything (PUT, DELETE) is
   * sent any more: each fails at once.  NULL: never. */
  const volatile int *fence;
};

struct blob_client;
struct blob;

/* Is v a storage REST version, YYYY-MM-DD (a real date, 2009 or
 * later)?  0, or -1 (reported, naming what).
 */
int blob_check_version (const char *v, const char *what);
/* --api-version V: checked, then put in AZPREP_STORAGE_API_VERSION for
 * every client of this process and of its children.  0 or -1.
 */
int blob_set_api_version (const char *v);

/* creds is copied.  NULL after azp_error(). */
struct blob_client *blob_client_new (const struct creds *creds,
                                     const struct blob_opts *opts);
void blob_client_free (struct blob_client *c);
/* The client's Entra ID token source, or NULL (Shared Key or SAS). */
struct token_source *blob_client_tokens (struct blob_client *c);
/* Total request body bytes successfully sent, and requests made. */
uint64_t blob_client_bytes_sent (struct blob_client *c);
uint64_t blob_client_requests (struct blob_client *c);

/* A blob in the account's endpoint: ENDPOINT/container/name. */
struct blob *blob_open (struct blob_client *c, const char *container,
                        const char *name);
/* A blob by URL, which may carry a SAS query (used instead of the
 * account key); e.g. a managed disk's upload URL.
 */
struct blob *blob_open_url (struct blob_client *c, const char *url);
void blob_close (struct blob *b);
/* The blob's URL without secrets, for messages. */
const char *blob_name (const struct blob *b);
/* Does the blob use a SAS (no account-level operations possible)? */
bool blob_has_sas (const struct blob *b);
/* Send Content-MD5 with Put Page (the default) or not: a managed
 * disk's upload endpoint (grant-access URL) gets none, as azcopy sends
 * none there; TLS still protects the data in transit.
 */
void blob_set_content_md5 (struct blob *b, bool send);
/* Put Page counters since the blob was opened: requests, seconds
 * computing Content-MD5 and seconds in the whole call (MD5, signing,
 * HTTP and retries), summed over threads.  For -v. */
void blob_put_stats (const struct blob *b, uint64_t *puts, double *md5_s,
                     double *put_s);
/* Send x-ms-lease-id: id on every write from now on (NULL: none). */
int blob_set_lease_id (struct blob *b, const char *lease_id);

/* The storage error code of this thread's last failed request ("" if
 * none or not from the service), and its HTTP status (0 if no reply).
 */
const char *blob_error_code (void);
int blob_error_status (void);

/* Create the container; success if it exists already. */
int blob_container_create (struct blob_client *c, const char *container);

struct blob_props {
  bool exists;
  uint64_t size;          /* Content-Length of the blob */
  char *blob_type;        /* "PageBlob", ... */
  char *etag;
  char *lease_state;      /* "available", "leased", ... */
  char *copy_status;      /* "success", "pending", ... or NULL */
  char **metadata;        /* "name=value" (names lowercase), NULL-ended */
};
/* Get Blob Properties (of a snapshot if snapshot != NULL).  A missing
 * blob is not an error: 0 with exists = false.
 */
int blob_get_properties (struct blob *b, const char *snapshot,
                         struct blob_props *p);
void blob_props_free (struct blob_props *p);
/* The value of metadata name in p (in metadata), or NULL. */
const char *blob_props_meta (const struct blob_props *p, const char *name);
const char *blob_meta_get (char *const *metadata, const char *name);

/* Create a page blob of size bytes (multiple of 512) with If-None-Match:
 * * (fails with BlobAlreadyExists rather than overwrite).  metadata:
 * "name=value" strings, NULL-terminated, may be NULL.
 */
int blob_create_page_blob (struct blob *b, uint64_t size,
                           const char *const *metadata);
/* Put Page update: offset and len multiples of 512, len <= 4 MiB; sends
 * Content-MD5.
 */
int blob_put_page (struct blob *b, uint64_t offset, const void *buf,
                   size_t len);
/* Put Page clear: offset and len multiples of 512 (any length). */
int blob_clear_pages (struct blob *b, uint64_t offset, uint64_t len);
/* Get Blob with x-ms-range into buf (exactly len bytes). */
int blob_get_range (struct blob *b, const char *snapshot, uint64_t offset,
                    void *buf, size_t len);
/* Get Page Ranges of [offset, offset+len) (len 0: whole blob), appended
 * to out (normalized).
 */
int blob_get_page_ranges (struct blob *b, const char *snapshot,
                          uint64_t offset, uint64_t len,
                          struct rangelist *out);
/* Snapshot Blob; *snapshot gets the x-ms-snapshot value (malloc'd). */
int blob_snapshot (struct blob *b, const char *const *metadata,
                   char **snapshot);
/* List Blobs of the container (a blob opened on the container's URL)
 * with include=snapshots,metadata and prefix name: out gets the blob
 * named name and its snapshots, each with its metadata.  0, -1 or -2:
 * not allowed (HTTP 403, e.g. a SAS without list permission; not
 * reported).
 */
int blob_list_snapshots (struct blob *container, const char *name,
                         struct blob_list *out);
/* Delete the blob (with its snapshots if include_snapshots), or only
 * one snapshot.  A missing blob or snapshot is success.
 */
int blob_delete (struct blob *b, const char *snapshot,
                 bool include_snapshots);
/* Delete the blob with its snapshots whoever leases it: a lease is
 * broken first, at once (not released: a lease left by another run, or
 * a killed one, must not keep it alive).  A missing blob is success.
 * 0 or -1.
 */
int blob_delete_breaking (struct blob *b);
/* Copy Blob from src (optionally its snapshot) into b, and wait until
 * the copy completes.  Same account (Shared Key) or src with a SAS.
 */
int blob_copy_from (struct blob *b, struct blob *src, const char *snapshot);
/* Set Blob Metadata (replaces all of it). */
int blob_set_metadata (struct blob *b, const char *const *metadata);
/* Acquire a lease (duration -1: infinite, or 15..60 s) with the proposed
 * id (may be NULL); *lease_id gets the id (malloc'd).  The blob then
 * sends it on writes (blob_set_lease_id).
 */
int blob_lease_acquire (struct blob *b, const char *proposed_id,
                        int duration, char **lease_id);
int blob_lease_renew (struct blob *b);
int blob_lease_release (struct blob *b);
/* Break the blob's lease now (break period 0), whoever holds it; no
 * lease is success.  0 or -1.
 */
int blob_lease_break_now (struct blob *b);
/* Acquire the lease with id for duration seconds, quietly when another
 * holds it: 0 (the blob sends no lease id by itself: use
 * blob_set_lease_id), or -1 with blob_error_code() "LeaseAlreadyPresent"
 * (not reported) or another failure (reported).
 */
int blob_lease_try (struct blob *b, const char *id, int duration);
/* The same on a blob that must exist, and is never created: a missing
 * blob (or container) is not reported either: -1 with blob_error_code()
 * "BlobNotFound" (or "ContainerNotFound").
 */
int blob_lease_try_present (struct blob *b, const char *id, int duration);

/* Put Blob: a block blob holding data (a small state file), with
 * metadata ("name=value", may be NULL) and the lease id if one is set;
 * create_only: If-None-Match: * (BlobAlreadyExists rather than
 * overwrite; the blob found is then success, not reported).  0 or -1.
 */
int blob_put_block_blob (struct blob *b, const void *data, size_t len,
                         const char *const *metadata, bool create_only);
/* Get Blob: the whole blob, at most max bytes, into *data (malloc'd,
 * NUL-terminated).  0, 1 no such blob, -1 error (reported).
 */
int blob_get_all (struct blob *b, size_t max, char **data, size_t *len);
/* List Blobs of the container (a blob opened on the container's URL)
 * whose names begin with prefix, with their metadata (no snapshots).
 * 0 or -1.
 */
int blob_list_prefix (struct blob *container, const char *prefix,
                      struct blob_list *out);

/* Resize a page blob (size multiple of 512). */
int blob_resize (struct blob *b, uint64_t size);

/* Parallel page writes.  blob_writer_put queues a write of len bytes at
 * offset (buf is owned by the writer afterwards and freed; buf NULL
 * means clear), waiting while the queue is full and while an earlier
 * write to an overlapping range is still queued or in flight.  done (if
 * not NULL) is called from a worker thread after each write with the
 * put's tag and ok true or false.  Once a write fails, the writer stops
 * sending (later queued writes complete with ok false) and put returns
 * -1.  blob_writer_finish waits for everything, frees the writer and
 * returns 0 if every write succeeded.
 */
struct blob_writer;
typedef void (*blob_write_done) (void *opaque, void *tag, uint64_t offset,
                                 uint64_t len, bool ok);
struct blob_writer *blob_writer_new (struct blob *b, int parallel,
                                     blob_write_done done, void *opaque);
int blob_writer_put (struct blob_writer *w, uint64_t offset, void *buf,
                     size_t len, void *tag);
int blob_writer_finish (struct blob_writer *w);

#endif
