/* azprep replicate: Azure Storage credentials and request signing.
 * Pure functions (no I/O except creds_load's file read): Shared Key
 * string-to-sign and signature, service SAS, base64, MD5, CRC64.
 * Secrets (account keys, SAS signatures) are kept in these structs only
 * and must never be printed; use creds_describe() for messages.
 */
#ifndef AZPREP_REPLICATE_AUTH_H
#define AZPREP_REPLICATE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "prep/common/url.h"

/* Credentials for one storage account. */
struct creds {
  char *account;        /* AccountName, or NULL when only a SAS is known */
  unsigned char *key;   /* decoded AccountKey, or NULL */
  size_t keylen;
  char *endpoint;       /* BlobEndpoint without trailing '/', or NULL */
  char *sas;            /* SAS query string without leading '?', or NULL */
};

void creds_free (struct creds *c);
#define CLEANUP_CREDS __attribute__((cleanup (creds_cleanup)))
void creds_cleanup (void *ptr);

/* Parse a connection string "K=V;K=V" (AccountName, AccountKey,
 * BlobEndpoint, SharedAccessSignature, DefaultEndpointsProtocol,
 * EndpointSuffix).  what names the origin for messages.  Returns 0 or
 * -1 after azp_error().  Values are never echoed in errors.
 */
int creds_parse_connection_string (struct creds *c, const char *s,
                                   const char *what);
/* Fill c from, in order: the file (if file != NULL; a connection string,
 * or lines KEY=VALUE of the environment variable names below), else
 * AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT +
 * AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN.  It is not an error to
 * find nothing (a SAS may come with the URL): c stays empty.
 */
int creds_load (struct creds *c, const char *file);
/* The blob URLs of --to-file (a managed disk's upload URL carries its
 * SAS, a secret, so never on the command line): one a line, blank
 * lines and '#' comments skipped.  A NULL-terminated malloc'd list
 * (*n entries; free with creds_urls_free, which wipes), or NULL
 * (reported). */
char **creds_read_urls (const char *file, size_t *n);
void creds_urls_free (char **urls);
/* Whether url carries a SAS signature in its query. */
bool creds_url_has_sas (const char *url);
/* Set the account key from its base64 text.  0 or -1. */
int creds_set_key (struct creds *c, const char *b64);

/* Base64 (standard alphabet, padded).  Return malloc'd strings/buffers
 * or NULL (after azp_error()); base64_decode rejects bad input.
 */
char *base64_encode (const void *data, size_t len);
unsigned char *base64_decode (const char *s, size_t *len);

/* base64 (MD5 (data)) into out[25]. */
void md5_base64 (const void *data, size_t len, char out[25]);
/* HMAC-SHA256 (key, msg), base64, into out[45].  0 or -1. */
int hmac_sha256_base64 (const unsigned char *key, size_t keylen,
                        const char *msg, size_t msglen, char out[45]);
/* CRC-64/NVME as used by x-ms-content-crc64 (initial and final xor
 * all-ones); crc64_nvme_base64 gives the little-endian base64 form.
 */
uint64_t crc64_nvme (uint64_t crc, const void *data, size_t len);
void crc64_nvme_base64 (const void *data, size_t len, char out[13]);

/* A request to sign with Shared Key.  Headers are "Name: value" lines
 * exactly as they will be sent; the standard headers that the
 * string-to-sign uses are picked out of them by name.
 */
struct sign_request {
  const char *method;          /* "PUT", "GET", ... */
  const char *path;            /* URI path as sent, e.g. /acct/c/b */
  const char *query;           /* query string as sent, without '?' */
  const char *const *headers;  /* NULL-terminated */
};

/* Build the Shared Key string-to-sign for account (malloc'd). */
char *sharedkey_string_to_sign (const struct sign_request *r,
                                const char *account);
/* The Authorization header value "SharedKey acct:sig" (malloc'd). */
char *sharedkey_authorization (const struct sign_request *r,
                               const struct creds *c);

/* A service SAS for one blob (sr=b) or container (sr=c, blob NULL).
 * Returns the query string (malloc'd), e.g. "sv=...&sr=b&...&sig=...".
 */
struct sas_params {
  const char *permissions;   /* e.g. "rcw" */
  const char *start;         /* optional ISO 8601 */
  const char *expiry;        /* ISO 8601, e.g. 2030-01-01T00:00:00Z */
  const char *protocol;      /* "https" or "https,http" (optional) */
  const char *version;       /* sv, e.g. 2022-11-02 */
};
char *sas_string_to_sign (const struct sas_params *p, const char *account,
                          const char *container, const char *blob);
char *sas_service_blob (const struct sas_params *p, const struct creds *c,
                        const char *container, const char *blob);

/* Replace the value of sig= (and any AccountKey-like secret) in a URL or
 * query string with "REDACTED", for messages.  malloc'd.
 */
char *redact_url (const char *url);

#endif
