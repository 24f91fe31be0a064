/* azprep replicate: internals shared by blob-http.c, blob.c and
 * blob-writer.c.  Not for use outside these files.
 */
#ifndef AZPREP_REPLICATE_BLOB_INTERNAL_H
#define AZPREP_REPLICATE_BLOB_INTERNAL_H

#include <pthread.h>
#include <curl/curl.h>

#include "replicate/azure/blob.h"

struct blob_client {
  struct creds creds;
  struct blob_opts opts;
  char *cacert, *version;
  struct token_source *tokens;    /* opts.tokens, or own_tokens */
  struct token_source *own_tokens;
  CURLSH *share;
  pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
  pthread_mutex_t lock;           /* the handle pool and counters */
  CURL **pool;
  size_t npool, cappool;
  uint64_t bytes_sent, requests;
};

struct blob {
  struct blob_client *c;
  char *url;          /* scheme://host[:port]/path, no query */
  char *path;         /* the path as sent (percent-encoded) */
  char *sas;          /* SAS query, or NULL */
  char *name;         /* redacted URL, for messages */
  char *lease_id;
  bool no_md5;        /* Put Page without Content-MD5 */
  pthread_mutex_t lock;
};

/* Sleep ms, ending early when the client's stop flag is set: false
 * if stopped. */
bool blob_client_sleep (const struct blob_client *c, uint64_t ms);

/* Captured response headers. */
struct blob_reply {
  long status;
  char error_code[128];
  char snapshot[64];
  char lease_id[64];
  char etag[128];
  char blob_type[32];
  char lease_state[32];
  char copy_status[32];
  char copy_id[128];
  uint64_t content_length;
  bool have_content_length;
  long retry_after;            /* seconds, -1 if absent */
  char **meta;                 /* x-ms-meta-*: "name=value" */
  size_t nmeta;
  /* Body: into a caller buffer (fixed) or a growing one (bounded). */
  char *body;
  size_t body_len, body_cap, body_max;
  bool body_fixed, body_overflow;
};

struct blob_request {
  const char *method;            /* PUT GET HEAD DELETE */
  const char *query;             /* e.g. "comp=page", without SAS */
  const char *const *headers;    /* extra "Name: value" lines */
  const void *body;
  size_t body_len;
  bool write;                    /* send the lease id if one is set */
  const long *ok;                /* accepted statuses, 0-terminated */
  const long *quiet;             /* statuses returned without azp_error() */
};

/* "x-ms-meta-name: value" header lines from "name=value" strings
 * (NULL-terminated, malloc'd), or NULL (reported, naming what).
 */
char **meta_headers (const char *const *metadata, const char *what);

/* List Blobs of the container with include= (e.g. "metadata") and
 * prefix, keeping the entries named name (all if NULL), at most max:
 * 0, -1 or -2 (HTTP 403, not reported).
 */
int blob_list_query (struct blob *container, const char *include,
                     const char *prefix, const char *name, size_t max,
                     struct blob_list *out);

/* Perform a request with retries.  Returns 0 when the final status is in
 * r->ok or r->quiet (the caller looks at reply->status), else -1 after
 * azp_error().  reply->body may be preset (fixed buffer) by the caller.
 */
int blob_request (struct blob *b, const struct blob_request *r,
                  struct blob_reply *reply);
void blob_reply_free (struct blob_reply *reply);

#endif
