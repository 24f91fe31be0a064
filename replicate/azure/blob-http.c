/* The blob client's transport: handle pool, signing, retries. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "prep/common/common.h"
#include "prep/common/url.h"
#include "replicate/azure/blob-internal.h"

static __thread char last_code[128];
static __thread int last_status;

const char *
blob_error_code (void)
{
  return last_code;
}

int
blob_error_status (void)
{
  return last_status;
}

static void
share_lock (CURL *h, curl_lock_data data, curl_lock_access a, void *u)
{
  struct blob_client *c = u;
  pthread_mutex_lock (&c->share_locks[data]);
}

static void
share_unlock (CURL *h, curl_lock_data data, void *u)
{
  struct blob_client *c = u;
  pthread_mutex_unlock (&c->share_locks[data]);
}

static int
copy_str (char **dst, const char *s)
{
  if (!s) {
    *dst = NULL;
    return 0;
  }
  *dst = xstrdup (s);
  return *dst ? 0 : -1;
}

static void
curl_init_once (void)
{
  curl_global_init (CURL_GLOBAL_DEFAULT);
}

int
blob_check_version (const char *v, const char *what)
{
  static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                 31 };
  int y, m, d, n = 0;

  if (strlen (v) != 10 || !isdigit ((unsigned char) v[0]) ||
      sscanf (v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
      !isdigit ((unsigned char) v[5]) ||
      !isdigit ((unsigned char) v[8]) || y < 2009 || m < 1 || m > 12 ||
      d < 1 || d > mdays[m - 1]) {
    azp_error ("%s '%s': not a storage REST API version (YYYY-MM-DD, e.g. "
               "%s)", what, v, BLOB_DEFAULT_VERSION);
    return -1;
  }
  return 0;
}

int
blob_set_api_version (const char *v)
{
  if (blob_check_version (v, "--api-version") == -1)
    return -1;
  if (setenv (BLOB_VERSION_ENV, v, 1) == -1) {
    azp_error ("setenv: %m");
    return -1;
  }
  return 0;
}

struct blob_client *
blob_client_new (const struct creds *creds, const struct blob_opts *opts)
{
  const char *version;
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  struct blob_client *c;

  pthread_once (&once, curl_init_once);
  c = calloc (1, sizeof *c);
  if (!c) {
    azp_error ("out of memory");
    return NULL;
  }
  pthread_mutex_init (&c->lock, NULL);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init (&c->share_locks[i], NULL);
  if (opts)
    c->opts = *opts;
  version = c->opts.version ? c->opts.version : getenv (BLOB_VERSION_ENV);
  if (version && *version &&
      blob_check_version (version, c->opts.version ? "x-ms-version"
                          : BLOB_VERSION_ENV) == -1)
    goto fail_reported;
  if (!version || !*version)
    version = BLOB_DEFAULT_VERSION;
  if (copy_str (&c->creds.account, creds ? creds->account : NULL) == -1 ||
      copy_str (&c->creds.endpoint, creds ? creds->endpoint : NULL) == -1 ||
      copy_str (&c->creds.sas, creds ? creds->sas : NULL) == -1 ||
      copy_str (&c->cacert, c->opts.cacert) == -1 ||
      copy_str (&c->version, version) == -1)
    goto fail;
  if (creds && creds->key) {
    c->creds.key = malloc (creds->keylen);
    if (!c->creds.key)
      goto fail;
    memcpy (c->creds.key, creds->key, creds->keylen);
    c->creds.keylen = creds->keylen;
  }
  c->opts.cacert = c->cacert;
  c->opts.version = c->version;
  c->tokens = c->opts.tokens;
  if (!c->tokens) {
    if (token_source_from_env (&c->own_tokens) == -1)
      goto fail_reported;
    c->tokens = c->own_tokens;
  }
  if (c->tokens && strcmp (c->version, TOKEN_MIN_VERSION) < 0) {
    azp_error ("x-ms-version %s: Entra ID sign-in needs %s or later",
               c->version, TOKEN_MIN_VERSION);
    goto fail_reported;
  }
  if (c->opts.max_tries <= 0)
    c->opts.max_tries = 10;
  if (c->opts.retry_base_ms == 0)
    c->opts.retry_base_ms = 500;
  c->share = curl_share_init ();
  if (!c->share)
    goto fail;
  curl_share_setopt (c->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt (c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt (c->share, CURLSHOPT_USERDATA, c);
  /* Not the connection cache: libcurl does not support sharing it
   * between threads.  Each pooled handle keeps its own connection.
   */
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt (c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return c;
 fail:
  azp_error ("out of memory");
 fail_reported:
  blob_client_free (c);
  return NULL;
}

struct token_source *
blob_client_tokens (struct blob_client *c)
{
  return c->tokens;
}

void
blob_client_free (struct blob_client *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->npool; i++)
    curl_easy_cleanup (c->pool[i]);
  free (c->pool);
  if (c->share)
    curl_share_cleanup (c->share);
  creds_free (&c->creds);
  token_source_free (c->own_tokens);
  free (c->cacert);
  free (c->version);
  pthread_mutex_destroy (&c->lock);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy (&c->share_locks[i]);
  free (c);
}

/* A counter of c, read under its lock. */
static uint64_t
counter (struct blob_client *c, const uint64_t *v)
{
  uint64_t r;
  pthread_mutex_lock (&c->lock);
  r = *v;
  pthread_mutex_unlock (&c->lock);
  return r;
}

uint64_t
blob_client_bytes_sent (struct blob_client *c)
{
  return counter (c, &c->bytes_sent);
}

uint64_t
blob_client_requests (struct blob_client *c)
{
  return counter (c, &c->requests);
}

static CURL *
handle_get (struct blob_client *c)
{
  CURL *h = NULL;

  pthread_mutex_lock (&c->lock);
  if (c->npool > 0)
    h = c->pool[--c->npool];
  pthread_mutex_unlock (&c->lock);
  if (!h) {
    h = curl_easy_init ();
    if (!h) {
      azp_error ("curl_easy_init failed");
      return NULL;
    }
  }
  curl_easy_reset (h);
  return h;
}

static void
handle_put (struct blob_client *c, CURL *h)
{
  pthread_mutex_lock (&c->lock);
  if (c->npool == c->cappool) {
    size_t n = c->cappool ? c->cappool * 2 : 8;
    CURL **np = realloc (c->pool, n * sizeof *np);
    if (!np) {
      pthread_mutex_unlock (&c->lock);
      curl_easy_cleanup (h);
      return;
    }
    c->pool = np;
    c->cappool = n;
  }
  c->pool[c->npool++] = h;
  pthread_mutex_unlock (&c->lock);
}

/* Split url into the blob's base URL, path and SAS; check the scheme. */
static int
blob_set_url (struct blob *b, const char *url)
{
  CURLU *u = curl_url ();
  char *scheme = NULL, *host = NULL, *path = NULL, *query = NULL;
  char *port = NULL;
  int r = -1;

  if (!u) {
    azp_error ("out of memory");
    return -1;
  }
  if (curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get (u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      curl_url_get (u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
    CLEANUP_FREE char *red = redact_url (url);
    azp_error ("%s: not a valid blob URL", red);
    goto out;
  }
  curl_url_get (u, CURLUPART_PORT, &port, 0);
  curl_url_get (u, CURLUPART_QUERY, &query, 0);
  if (strcmp (scheme, "https") != 0) {
    if (strcmp (scheme, "http") != 0) {
      azp_error ("%s://%s: only https:// (or http:// to a loopback address) "
                 "blob URLs are supported", scheme, host);
      goto out;
    }
    if (!url_host_is_loopback (host) && !b->c->opts.allow_http) {
      azp_error ("http://%s: refusing plain HTTP to a host that is not "
                 "loopback "
                 "(keys and data would travel unencrypted); use https:// or "
                 "--allow-http", host);
      goto out;
    }
  }
  b->path = xstrdup (path);
  b->url = port ? xasprintf ("%s://%s:%s%s", scheme, host, port, path)
    : xasprintf ("%s://%s%s", scheme, host, path);
  if (!b->path || !b->url)
    goto out;
  if (query && *query) {
    if (!strstr (query, "sig=")) {
      azp_error ("%s: the URL has a query but no SAS signature (sig=)", b->url);
      goto out;
    }
    b->sas = xstrdup (query);
    if (!b->sas)
      goto out;
  }
  else if (b->c->creds.sas) {
    b->sas = xstrdup (b->c->creds.sas);
    if (!b->sas)
      goto out;
  }
  b->name = b->sas ? xasprintf ("%s?%s", b->url, "<SAS>") : xstrdup (b->url);
  if (!b->name)
    goto out;
  r = 0;
 out:
  curl_free (scheme);
  curl_free (host);
  curl_free (path);
  curl_free (port);
  if (query) {
    memset (query, 0, strlen (query));
    curl_free (query);
  }
  curl_url_cleanup (u);
  return r;
}

static struct blob *
blob_new (struct blob_client *c)
{
  struct blob *b = calloc (1, sizeof *b);
  if (!b) {
    azp_error ("out of memory");
    return NULL;
  }
  b->c = c;
  pthread_mutex_init (&b->lock, NULL);
  return b;
}

struct blob *
blob_open_url (struct blob_client *c, const char *url)
{
  struct blob *b = blob_new (c);
  if (!b)
    return NULL;
  if (blob_set_url (b, url) == -1) {
    blob_close (b);
    return NULL;
  }
  if (!b->sas && !c->creds.key && !c->tokens) {
    azp_error ("%s: no credentials: give a SAS in the URL, or set "
               "AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT and "
               "AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN, or --credentials "
               "FILE, or sign in with Entra ID (AZPREP_AUTH)",
               b->url);
    blob_close (b);
    return NULL;
  }
  return b;
}

struct blob *
blob_open (struct blob_client *c, const char *container, const char *name)
{
  CLEANUP_FREE char *ec = NULL, *en = NULL, *url = NULL;

  if (!c->creds.endpoint) {
    azp_error ("no storage account: set AZURE_STORAGE_CONNECTION_STRING (or "
               "AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY; with Entra ID "
               "AZURE_STORAGE_ACCOUNT or AZURE_STORAGE_BLOB_ENDPOINT), use "
               "--credentials FILE, or give a full blob URL");
    return NULL;
  }
  ec = url_encode_keep (container, "/");
  en = name ? url_encode_keep (name, "/") : NULL;
  if (!ec || (name && !en))
    return NULL;
  url = name ? xasprintf ("%s/%s/%s", c->creds.endpoint, ec, en)
    : xasprintf ("%s/%s", c->creds.endpoint, ec);
  if (!url)
    return NULL;
  return blob_open_url (c, url);
}

void
blob_close (struct blob *b)
{
  if (!b)
    return;
  free (b->url);
  free (b->path);
  if (b->sas) {
    memset (b->sas, 0, strlen (b->sas));
    free (b->sas);
  }
  free (b->name);
  free (b->lease_id);
  pthread_mutex_destroy (&b->lock);
  free (b);
}

const char *
blob_name (const struct blob *b)
{
  return b->name;
}

void
blob_set_content_md5 (struct blob *b, bool send)
{
  b->no_md5 = !send;
}

bool
blob_has_sas (const struct blob *b)
{
  return b->sas != NULL;
}

int
blob_set_lease_id (struct blob *b, const char *lease_id)
{
  char *s = NULL;
  if (lease_id && !(s = xstrdup (lease_id)))
    return -1;
  pthread_mutex_lock (&b->lock);
  free (b->lease_id);
  b->lease_id = s;
  pthread_mutex_unlock (&b->lock);
  return 0;
}

void
blob_reply_free (struct blob_reply *reply)
{
  if (!reply->body_fixed)
    free (reply->body);
  free_string_list (reply->meta);
  reply->body = NULL;
  reply->meta = NULL;
}

/* RFC 1123 date, independent of the locale. */
static void
http_date (char out[64])
{
  static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
                                   "Sat" };
  static const char mons[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  snprintf (out, 64, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
            tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
            tm.tm_min, tm.tm_sec);
}

static void
hcopy (char *dst, size_t size, const char *v, size_t len)
{
  if (len >= size)
    len = size - 1;
  memcpy (dst, v, len);
  dst[len] = '\0';
}

static size_t
header_cb (char *buf, size_t size, size_t n, void *opaque)
{
  struct blob_reply *rp = opaque;
  size_t len = size * n, nl, vl;
  const char *colon = memchr (buf, ':', len), *v;

  if (!colon)
    return len;
  nl = colon - buf;
  v = colon + 1;
  while (v < buf + len && (*v == ' ' || *v == '\t'))
    v++;
  vl = buf + len - v;
  while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
    vl--;
#define H(name) (nl == strlen (name) && strncasecmp (buf, name, nl) == 0)
  if (H ("x-ms-error-code"))
    hcopy (rp->error_code, sizeof rp->error_code, v, vl);
  else if (H ("x-ms-snapshot"))
    hcopy (rp->snapshot, sizeof rp->snapshot, v, vl);
  else if (H ("x-ms-lease-id"))
    hcopy (rp->lease_id, sizeof rp->lease_id, v, vl);
  else if (H ("ETag"))
    hcopy (rp->etag, sizeof rp->etag, v, vl);
  else if (H ("x-ms-blob-type"))
    hcopy (rp->blob_type, sizeof rp->blob_type, v, vl);
  else if (H ("x-ms-lease-state"))
    hcopy (rp->lease_state, sizeof rp->lease_state, v, vl);
  else if (H ("x-ms-copy-status"))
    hcopy (rp->copy_status, sizeof rp->copy_status, v, vl);
  else if (H ("x-ms-copy-id"))
    hcopy (rp->copy_id, sizeof rp->copy_id, v, vl);
  else if (H ("Content-Length") || H ("x-ms-blob-content-length")) {
    char tmp[32];
    int64_t cl;
    hcopy (tmp, sizeof tmp, v, vl);
    if (parse_int64 (tmp, &cl) == 0 && cl >= 0 &&
        (H ("x-ms-blob-content-length") || !rp->have_content_length)) {
      rp->content_length = cl;
      rp->have_content_length = true;
    }
  }
  else if (H ("Retry-After")) {
    char tmp[32];
    int64_t ra;
    hcopy (tmp, sizeof tmp, v, vl);
    if (parse_int64 (tmp, &ra) == 0 && ra >= 0)
      rp->retry_after = ra > 300 ? 300 : ra;
  }
  else if (nl > 10 && strncasecmp (buf, "x-ms-meta-", 10) == 0 &&
           rp->nmeta < 256) {
    char **nm = realloc (rp->meta, (rp->nmeta + 2) * sizeof *nm);
    if (!nm)
      return 0;
    rp->meta = nm;
    nm[rp->nmeta] = strndup (buf + 10, nl - 10 + 1 + vl);
    if (!nm[rp->nmeta])
      return 0;
    nm[rp->nmeta][nl - 10] = '=';
    memcpy (nm[rp->nmeta] + nl - 10 + 1, v, vl);
    nm[rp->nmeta][nl - 10 + 1 + vl] = '\0';
    for (char *p = nm[rp->nmeta]; *p != '='; p++)
      *p = tolower ((unsigned char) *p);
    nm[++rp->nmeta] = NULL;
  }
#undef H
  return len;
}

static size_t
write_cb (char *buf, size_t size, size_t n, void *opaque)
{
  struct blob_reply *rp = opaque;
  size_t len = size * n;

  if (rp->body_len + len > rp->body_max) {
    rp->body_overflow = true;
    return 0;
  }
  if (!rp->body_fixed && rp->body_len + len + 1 > rp->body_cap) {
    size_t nc = (rp->body_len + len + 1) * 2;
    char *nb = realloc (rp->body, nc);
    if (!nb)
      return 0;
    rp->body = nb;
    rp->body_cap = nc;
  }
  memcpy (rp->body + rp->body_len, buf, len);
  rp->body_len += len;
  if (!rp->body_fixed)
    rp->body[rp->body_len] = '\0';
  return len;
}

struct upload { const char *p; size_t len, pos; };

static size_t
read_cb (char *buf, size_t size, size_t n, void *opaque)
{
  struct upload *u = opaque;
  size_t len = size * n;
  if (len > u->len - u->pos)
    len = u->len - u->pos;
  memcpy (buf, u->p + u->pos, len);
  u->pos += len;
  return len;
}

static int
seek_cb (void *opaque, curl_off_t off, int origin)
{
  struct upload *u = opaque;
  if (origin != SEEK_SET || off < 0 || (size_t) off > u->len)
    return CURL_SEEKFUNC_FAIL;
  u->pos = off;
  return CURL_SEEKFUNC_OK;
}

static bool
status_in (long s, const long *list)
{
  for (; list && *list; list++)
    if (*list == s)
      return true;
  return false;
}

static const char *
hint_for (long status, const char *code)
{
  static const struct { const char *code; const char *hint; } hints[] = {
    { "AuthenticationFailed", "check the account key or SAS token (and "
      "that this machine's clock is right)" },
    { "AuthorizationPermissionMismatch", "the SAS lacks a permission: "
      "replication needs r, c and w (and d to delete old recovery points)" },
    { "AuthorizationFailure", "check the account key or SAS token (its "
      "permissions and expiry), and the account's network rules" },
    { "AuthorizationResourceTypeMismatch", "the account SAS needs resource "
      "types s, c and o" },
    { "ContainerNotFound", "create the container first or check its name" },
    { "BlobNotFound", "check the blob name" },
    { "BlobAlreadyExists", "a blob of that name exists and azprep never "
      "overwrites one: choose another --name, or delete the blob" },
    { "LeaseAlreadyPresent", "another writer (another azprep?) holds a "
      "lease on this blob" },
    { "LeaseIdMissing", "the blob is leased by another writer" },
    { "LeaseIdMismatchWithBlobOperation", "the blob is leased by another "
      "writer" },
    { "LeaseNotPresentWithBlobOperation", "the lease was broken or expired" },
    { "SnapshotCountExceeded", "delete old snapshots (lower --keep)" },
    { "MemoryExtentStoreAtSizeLimit", "Azurite ran out of memory: start it "
      "with a larger --extentMemoryLimit or on disk" },
    { "InvalidHeaderValue", "perhaps the service does not support this "
      "x-ms-version: give an older one with --api-version (or "
      BLOB_VERSION_ENV "), e.g. for Azure Stack Hub; for Azurite, a newer "
      "Azurite or --skipApiVersionCheck" },
    { "Md5Mismatch", "data changed in transit" },
    { "InvalidPageRange", "the range is beyond the end of the blob" },
  };
  for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
    if (!strcmp (code, hints[i].code))
      return hints[i].hint;
  switch (status) {
  case 403: return "check the credentials and their permissions";
  case 404: return "check the container and blob names";
  case 409: return "the blob is in a conflicting state";
  case 412: return "a precondition failed (lease or concurrent writer)";
  default: return NULL;
  }
}

static bool
curl_retryable (CURLcode rc)
{
  switch (rc) {
  case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_OPERATION_TIMEDOUT: case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE:
  case CURLE_SSL_CONNECT_ERROR: case CURLE_HTTP2: case CURLE_HTTP2_STREAM:
  case CURLE_WEIRD_SERVER_REPLY:
    return true;
  default:
    return false;
  }
}

static bool
status_retryable (long s)
{
  return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

bool
blob_client_sleep (const struct blob_client *c, uint64_t ms)
{
  /* In slices, so that a stop is seen within 100 ms. */
  while (ms > 0 && !(c->opts.stop && *c->opts.stop)) {
    uint64_t n = ms < 100 ? ms : 100;
    struct timespec ts = { n / 1000, (n % 1000) * 1000000 };
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
      ;
    ms -= n;
  }
  return !(c->opts.stop && *c->opts.stop);
}

/* false if stopped meanwhile. */
static bool
backoff (const struct blob_client *c, int attempt, long retry_after)
{
  uint64_t cap =
    (uint64_t) c->opts.retry_base_ms << (attempt < 16 ? attempt : 16);
  uint32_t rnd = 0;
  uint64_t ms;

  if (cap > 30000)
    cap = 30000;
  if (getrandom (&rnd, sizeof rnd, 0) != sizeof rnd)
    rnd = (uint32_t) attempt * 2654435761u;
  ms = cap / 2 + rnd % (cap / 2 + 1);    /* "equal jitter" */
  if (retry_after >= 0 && (uint64_t) retry_after * 1000 > ms)
    ms = retry_after * 1000;
  return blob_client_sleep (c, ms);
}

/* The transfer's options: the URL, headers, timeouts, TLS checks, the
 * reply's callbacks and, for PUT, the body.
 */
static void
set_transfer (CURL *h, const struct blob_client *c,
              const struct blob_request *r, struct blob_reply *rp,
              struct upload *up, const char *url, struct curl_slist *hl)
{
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_SHARE, c->share);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 30L);
  /* A stalled transfer (no progress for 60 s) is a timeout; no total
   * limit since 4 MiB may take long on a slow link.
   */
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (h, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (c->opts.cacert)
    curl_easy_setopt (h, CURLOPT_CAINFO, c->opts.cacert);
  curl_easy_setopt (h, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (h, CURLOPT_HEADERDATA, rp);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, rp);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "azprep/" PACKAGE_VERSION);
  if (!strcmp (r->method, "PUT")) {
    curl_easy_setopt (h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt (h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) r->body_len);
    curl_easy_setopt (h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt (h, CURLOPT_READDATA, up);
    curl_easy_setopt (h, CURLOPT_SEEKFUNCTION, seek_cb);
    curl_easy_setopt (h, CURLOPT_SEEKDATA, up);
  }
  else if (!strcmp (r->method, "HEAD"))
    curl_easy_setopt (h, CURLOPT_NOBODY, 1L);
  else if (strcmp (r->method, "GET") != 0)
    curl_easy_setopt (h, CURLOPT_CUSTOMREQUEST, r->method);
}

/* Run one attempt; returns the CURLcode. */
static CURLcode
attempt (struct blob *b, CURL *h, const struct blob_request *r,
         struct blob_reply *rp, struct curl_slist **hl_out)
{
  struct blob_client *c = b->c;
  struct curl_slist *hl = NULL;
  CLEANUP_FREE char *url = NULL, *auth = NULL, *lease = NULL;
  CLEANUP_FREE_STRING_LIST char **hv = NULL;
  size_t nextra = count_strings ((char *const *) r->headers), n = 0;
  char date[64], dateh[96], verh[64], clh[64];
  struct upload up = { r->body, r->body_len, 0 };
  bool put = !strcmp (r->method, "PUT");
  const char *q = r->query && *r->query ? r->query : NULL;

  hv = calloc (nextra + 8, sizeof *hv);
  if (!hv)
    return CURLE_OUT_OF_MEMORY;
  http_date (date);
  snprintf (dateh, sizeof dateh, "x-ms-date: %s", date);
  snprintf (verh, sizeof verh, "x-ms-version: %s", c->opts.version);
  hv[n++] = xstrdup (dateh);
  hv[n++] = xstrdup (verh);
  if (put) {
    snprintf (clh, sizeof clh, "Content-Length: %zu", r->body_len);
    hv[n++] = xstrdup (clh);
  }
  pthread_mutex_lock (&b->lock);
  if (r->write && b->lease_id)
    lease = xasprintf ("x-ms-lease-id: %s", b->lease_id);
  pthread_mutex_unlock (&b->lock);
  if (lease)
    hv[n++] = xstrdup (lease);
  for (size_t i = 0; i < nextra; i++)
    hv[n++] = xstrdup (r->headers[i]);
  for (size_t i = 0; i < n; i++)
    if (!hv[i])
      return CURLE_OUT_OF_MEMORY;

  if (b->sas)
    url = q ? xasprintf ("%s?%s&%s", b->url, q, b->sas)
      : xasprintf ("%s?%s", b->url, b->sas);
  else {
    struct sign_request sr = { r->method, b->path, q,
                               (const char *const *) hv };
    if (c->tokens) {
      CLEANUP_FREE char *tok = token_source_get (c->tokens, NULL);
      if (!tok)
        return CURLE_ABORTED_BY_CALLBACK;
      auth = xasprintf ("Bearer %s", tok);
      memset (tok, 0, strlen (tok));
    }
    else
      auth = sharedkey_authorization (&sr, &c->creds);
    if (!auth)
      return CURLE_ABORTED_BY_CALLBACK;
    url = q ? xasprintf ("%s?%s", b->url, q) : xstrdup (b->url);
  }
  if (!url)
    return CURLE_OUT_OF_MEMORY;

  for (size_t i = 0; i < n; i++)
    hl = curl_slist_append (hl, hv[i]);
  if (auth) {
    CLEANUP_FREE char *ah = xasprintf ("Authorization: %s", auth);
    if (ah) {
      hl = curl_slist_append (hl, ah);
      memset (ah, 0, strlen (ah));
    }
    memset (auth, 0, strlen (auth));
  }
  hl = curl_slist_append (hl, "Expect:");
  hl = curl_slist_append (hl, "Accept:");
  *hl_out = hl;
  if (!hl)
    return CURLE_OUT_OF_MEMORY;

  set_transfer (h, c, r, rp, &up, url, hl);
  return curl_easy_perform (h);
}

/* The expiry (se=) of a SAS query, or 0 if it has none we can read. */
static time_t
sas_expiry (const char *sas)
{
  const char *p = sas;
  CLEANUP_FREE char *v = NULL;
  struct tm tm = { 0 };
  char *end;

  while (p && strncmp (p, "se=", 3) != 0) {
    p = strchr (p, '&');
    if (p)
      p++;
  }
  if (!p)
    return 0;
  v = url_decode (p + 3, strcspn (p + 3, "&"), 0);
  if (!v || !(end = strptime (v, "%Y-%m-%dT%H:%M", &tm)))
    return 0;
  if (*end == ':')
    strptime (end, ":%S", &tm);
  return timegm (&tm);
}

/* A request failed for good: report it once, with the storage error
 * code and a hint, and keep the status and code for blob_error_code().
 */
static void
report_failure (const struct blob *b, const struct blob_request *r,
                struct blob_reply *rp, CURLcode rc)
{
  CLEANUP_FREE char *code = NULL, *msg = NULL;
  const char *hint;

  if (rc != CURLE_OK) {
    last_status = 0;
    hcopy (last_code, sizeof last_code, "", 0);
    azp_error ("%s: %s failed: %s%s", b->name, r->method,
               curl_easy_strerror (rc),
               rc == CURLE_PEER_FAILED_VERIFICATION ||
               rc == CURLE_SSL_CACERT_BADFILE
               ? " (certificate not trusted: give its CA with --cacert)" : "");
    return;
  }
  if (!rp->error_code[0] && !rp->body_fixed && rp->body)
    storage_error_parse (rp->body, rp->body_len, &code, &msg);
  if (!rp->error_code[0] && code)
    hcopy (rp->error_code, sizeof rp->error_code, code, strlen (code));
  last_status = rp->status;
  hcopy (last_code, sizeof last_code, rp->error_code,
         strlen (rp->error_code));
  if (rp->status == 403 && b->sas && sas_expiry (b->sas) &&
      sas_expiry (b->sas) <= time (NULL)) {
    char when[32];
    time_t se = sas_expiry (b->sas);
    struct tm tm;
    gmtime_r (&se, &tm);
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    azp_error ("%s: %s: HTTP 403 %s: the SAS expired at %s: get a new one "
               "(for a managed disk a new 'az disk grant-access "
               "--access-level Write' URL; its disk stays in upload state) "
               "and run the same command again with the new URL: what "
               "was sent is kept and the copy resumes", b->name, r->method,
               rp->error_code[0] ? rp->error_code : "(no error code)", when);
    return;
  }
  if (!status_in (rp->status, r->quiet)) {
    hint = hint_for (rp->status, rp->error_code);
    azp_error ("%s: %s%s%s: HTTP %ld %s%s%s", b->name, r->method,
               r->query ? " ?" : "", r->query ? r->query : "", rp->status,
               rp->error_code[0] ? rp->error_code : "(no error code)",
               hint ? ": " : "", hint ? hint : "");
  }
}

int
blob_request (struct blob *b, const struct blob_request *r,
              struct blob_reply *rp)
{
  struct blob_client *c = b->c;
  CURL *h = handle_get (c);
  CURLcode rc = CURLE_OK;
  char *fixed = rp->body_fixed ? rp->body : NULL;
  int ret = -1;

  last_code[0] = '\0';
  last_status = 0;
  if (!h)
    return -1;
  if (c->opts.fence && *c->opts.fence && strcmp (r->method, "GET") &&
      strcmp (r->method, "HEAD")) {
    hcopy (last_code, sizeof last_code, "AzprepFenced", 12);
    azp_error ("%s: %s not sent: this worker no longer holds the job's "
               "lease in the state container", b->name, r->method);
    handle_put (c, h);
    return -1;
  }
  if (rp->body_max == 0)
    rp->body_max = 64 * 1024 * 1024;
  for (int att = 0; att < c->opts.max_tries; att++) {
    struct curl_slist *hl = NULL;
    char **meta = rp->meta;

    /* Fresh reply state for each attempt. */
    free_string_list (meta);
    if (!rp->body_fixed)
      free (rp->body);
    {
      struct blob_reply fresh = {
        .body = fixed, .body_cap = fixed ? rp->body_cap : 0,
        .body_max = rp->body_max,
        .body_fixed = rp->body_fixed, .retry_after = -1,
      };
      *rp = fresh;
    }
    rc = attempt (b, h, r, rp, &hl);
    curl_slist_free_all (hl);
    if (rc == CURLE_OK) {
      curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &rp->status);
      pthread_mutex_lock (&c->lock);
      c->requests++;
      if (rp->status < 300)
        c->bytes_sent += r->body_len;
      pthread_mutex_unlock (&c->lock);
      if (status_in (rp->status, r->ok) || status_in (rp->status, r->quiet)) {
        ret = 0;
        goto out;
      }
      if (!status_retryable (rp->status))
        break;
      azp_debug ("%s: %s: HTTP %ld %s, retrying (%d of %d)", b->name, r->method,
                 rp->status, rp->error_code, att + 1, c->opts.max_tries);
    }
    else if (rc == CURLE_ABORTED_BY_CALLBACK || rc == CURLE_OUT_OF_MEMORY)
      goto out;      /* already reported */
    else if (rp->body_overflow) {
      azp_error ("%s: the reply is larger than expected", b->name);
      goto out;
    }
    else if (!curl_retryable (rc))
      break;
    else {
      pthread_mutex_lock (&c->lock);
      c->requests++;
      pthread_mutex_unlock (&c->lock);
      azp_debug ("%s: %s: %s, retrying (%d of %d)", b->name, r->method,
                 curl_easy_strerror (rc), att + 1, c->opts.max_tries);
    }
    if (att + 1 < c->opts.max_tries &&
        !backoff (c, att, rp->retry_after)) {
      azp_error ("%s: %s: stopped (HTTP %ld %s, not retried)", b->name,
                 r->method, rp->status, rp->error_code);
      goto out;
    }
  }

  report_failure (b, r, rp, rc);
 out:
  if (ret == 0) {
    last_status = rp->status;
    hcopy (last_code, sizeof last_code, rp->error_code,
           strlen (rp->error_code));
  }
  handle_put (c, h);
  return ret;
}
