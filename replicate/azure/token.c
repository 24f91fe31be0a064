/* Entra ID access tokens for Blob Storage: see token.h.  The token
 * endpoints' replies and the JWTs are parsed here; the requests go out
 * with libcurl (or the Azure CLI as a child, without a shell).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "prep/common/url.h"
#include "replicate/azure/auth.h"
#include "replicate/azure/token.h"

#define IMDS_ENDPOINT "http://169.254.169.254/metadata/identity/oauth2/token"
#define DEFAULT_AUTHORITY "https://login.microsoftonline.com"

struct token_source {
  enum token_kind kind;
  char *tenant, *client_id, *secret, *cert_path, *file, *authority;
  pthread_mutex_t lock;
  char *token;               /* the current token, or NULL */
  time_t got, expires;       /* when it was obtained; its expiry (0: ?) */
  struct timespec file_mtime;
  off_t file_size;
};

static const char *const kind_names[] = {
  [TOKEN_AZCLI] = "AZCLI", [TOKEN_SPN] = "SPN", [TOKEN_MSI] = "MSI",
  [TOKEN_WORKLOAD] = "WORKLOAD", [TOKEN_FILE] = "TOKENFILE",
};

const char *
token_source_describe (const struct token_source *ts)
{
  switch (ts->kind) {
  case TOKEN_AZCLI: return "the Azure CLI (az account get-access-token)";
  case TOKEN_SPN: return "a service principal";
  case TOKEN_MSI: return "a managed identity";
  case TOKEN_WORKLOAD: return "workload identity (a federated token)";
  case TOKEN_FILE: return "an access token file";
  }
  return "?";
}

static void
wipe_free (char *s)
{
  if (s) {
    memset (s, 0, strlen (s));
    free (s);
  }
}

void
token_source_free (struct token_source *ts)
{
  if (!ts)
    return;
  wipe_free (ts->token);
  wipe_free (ts->secret);
  free (ts->tenant);
  free (ts->client_id);
  free (ts->cert_path);
  free (ts->file);
  free (ts->authority);
  pthread_mutex_destroy (&ts->lock);
  free (ts);
}

static struct token_source *
source_new (enum token_kind kind)
{
  struct token_source *ts = calloc (1, sizeof *ts);
  if (!ts) {
    azp_error ("out of memory");
    return NULL;
  }
  ts->kind = kind;
  pthread_mutex_init (&ts->lock, NULL);
  return ts;
}

struct token_source *
token_source_file (const char *path)
{
  struct token_source *ts = source_new (TOKEN_FILE);
  if (ts && !(ts->file = xstrdup (path))) {
    token_source_free (ts);
    return NULL;
  }
  return ts;
}

/* *dst = a copy of $name; an error naming why the variable is needed
 * when it is required and unset.
 */
static int
env_copy (char **dst, const char *name, bool required, const char *why)
{
  const char *v = secret_env (name);
  if (!v || !*v) {
    if (required)
      azp_error ("%s is not set (%s needs it)", name, why);
    return required ? -1 : 0;
  }
  *dst = xstrdup (v);
  return *dst ? 0 : -1;
}

/* The settings of kind from the environment. */
static int
source_env (struct token_source *ts, const char *how)
{
  switch (ts->kind) {
  case TOKEN_AZCLI:
    return 0;
  case TOKEN_SPN:
  case TOKEN_WORKLOAD:
    if (env_copy (&ts->tenant, "AZURE_TENANT_ID", true, how) == -1 ||
        env_copy (&ts->client_id, "AZURE_CLIENT_ID", true, how) == -1 ||
        env_copy (&ts->authority, "AZURE_AUTHORITY_HOST", false, how) == -1)
      return -1;
    if (ts->kind == TOKEN_WORKLOAD)
      return env_copy (&ts->file, "AZURE_FEDERATED_TOKEN_FILE", true, how);
    if (env_copy (&ts->secret, "AZURE_CLIENT_SECRET", false, how) == -1 ||
        env_copy (&ts->cert_path, "AZURE_CLIENT_CERTIFICATE_PATH", false,
                  how) == -1)
      return -1;
    if (!ts->secret && !ts->cert_path) {
      azp_error ("%s: set AZURE_CLIENT_SECRET or "
                 "AZURE_CLIENT_CERTIFICATE_PATH", how);
      return -1;
    }
    return 0;
  case TOKEN_MSI:
    return env_copy (&ts->client_id, "AZURE_CLIENT_ID", false, how);
  case TOKEN_FILE:
    return env_copy (&ts->file, "AZPREP_ACCESS_TOKEN_FILE", true, how);
  }
  return -1;
}

static bool
env_set (const char *name)
{
  const char *v = secret_env (name);
  return v && *v;
}

/* AUTO: DefaultAzureCredential's order, decided from the environment
 * alone (no probing of endpoints): a service principal, workload
 * identity, a managed identity's endpoint, the Azure CLI if az is on
 * PATH, else the instance metadata service.
 */
static enum token_kind
auto_kind (void)
{
  const char *path = getenv ("PATH");
  CLEANUP_FREE char *copy = path ? xstrdup (path) : NULL;
  char *save = NULL;

  if (env_set ("AZURE_TENANT_ID") && env_set ("AZURE_CLIENT_ID") &&
      (env_set ("AZURE_CLIENT_SECRET") ||
       env_set ("AZURE_CLIENT_CERTIFICATE_PATH")))
    return TOKEN_SPN;
  if (env_set ("AZURE_TENANT_ID") && env_set ("AZURE_CLIENT_ID") &&
      env_set ("AZURE_FEDERATED_TOKEN_FILE"))
    return TOKEN_WORKLOAD;
  if (env_set ("IDENTITY_ENDPOINT") || env_set ("MSI_ENDPOINT"))
    return TOKEN_MSI;
  for (char *d = copy ? strtok_r (copy, ":", &save) : NULL; d;
       d = strtok_r (NULL, ":", &save)) {
    CLEANUP_FREE char *az = xasprintf ("%s/az", d);
    if (az && access (az, X_OK) == 0)
      return TOKEN_AZCLI;
  }
  return TOKEN_MSI;
}

int
token_source_from_env (struct token_source **out)
{
  const char *var = "AZPREP_AUTH", *v = getenv (var);
  struct token_source *ts;
  CLEANUP_FREE char *how = NULL;
  size_t k;

  *out = NULL;
  if (!v || !*v) {
    var = "AZCOPY_AUTO_LOGIN_TYPE";
    v = getenv (var);
  }
  if (!v || !*v)
    return 0;
  for (k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
    if (!strcasecmp (v, kind_names[k]))
      break;
  if (!strcasecmp (v, "AUTO"))
    k = auto_kind ();
  else if (k == sizeof kind_names / sizeof kind_names[0]) {
    azp_error ("%s=%s: unknown sign-in method (AZCLI, SPN, MSI, WORKLOAD, "
               "TOKENFILE or AUTO)", var, v);
    return -1;
  }
  ts = source_new (k);
  how = xasprintf ("%s=%s", var, kind_names[k]);
  if (!ts || !how || source_env (ts, how) == -1) {
    token_source_free (ts);
    return -1;
  }
  *out = ts;
  return 0;
}

time_t
token_refresh_margin (time_t got, time_t exp)
{
  time_t life = exp - got;
  if (life <= 0)
    return 0;
  return life / 2 < 300 ? life / 2 : 300;
}

/* base64url (no padding) of data, malloc'd. */
static char *
b64url_encode (const void *data, size_t len)
{
  char *s = base64_encode (data, len);
  size_t n;

  if (!s)
    return NULL;
  for (char *p = s; *p; p++)
    *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
  n = strlen (s);
  while (n > 0 && s[n - 1] == '=')
    s[--n] = '\0';
  return s;
}

time_t
jwt_expiry (const char *jwt)
{
  const char *p = strchr (jwt, '.'), *q;
  CLEANUP_FREE char *b64 = NULL;
  CLEANUP_FREE unsigned char *payload = NULL;
  size_t n, len;
  cJSON *j, *exp;
  time_t r = 0;

  if (!p || !(q = strchr (p + 1, '.')) || q - p - 1 > 16384)
    return 0;
  n = q - p - 1;
  b64 = malloc (n + 4);
  if (!b64)
    return 0;
  for (size_t i = 0; i < n; i++)
    b64[i] = p[1 + i] == '-' ? '+' : p[1 + i] == '_' ? '/' : p[1 + i];
  while (n % 4)
    b64[n++] = '=';
  b64[n] = '\0';
  payload = base64_decode (b64, &len);
  if (!payload)
    return 0;
  j = cJSON_ParseWithLength ((const char *) payload, len);
  exp = cJSON_GetObjectItemCaseSensitive (j, "exp");
  if (cJSON_IsNumber (exp) && exp->valuedouble > 0)
    r = (time_t) exp->valuedouble;
  cJSON_Delete (j);
  return r;
}

/* A number of seconds given as a JSON number or a decimal string. */
static bool
json_seconds (const cJSON *v, int64_t *out)
{
  if (cJSON_IsNumber (v)) {
    *out = (int64_t) v->valuedouble;
    return true;
  }
  return cJSON_IsString (v) && parse_int64 (v->valuestring, out) == 0;
}

int
token_parse_reply (const char *json, time_t now, char **token,
                   time_t *expires, char **error)
{
  cJSON *j = cJSON_Parse (json), *t, *e;
  int64_t secs;

  *token = *error = NULL;
  *expires = 0;
  if (!cJSON_IsObject (j)) {
    cJSON_Delete (j);
    *error = xstrdup ("the reply is not a JSON object");
    return -1;
  }
  t = cJSON_GetObjectItemCaseSensitive (j, "access_token");
  if (!t)
    t = cJSON_GetObjectItemCaseSensitive (j, "accessToken");
  if (!cJSON_IsString (t) || !*t->valuestring ||
      strpbrk (t->valuestring, " \r\n\t")) {
    /* An OAuth error: its code and description carry no secret. */
    e = cJSON_GetObjectItemCaseSensitive (j, "error");
    t = cJSON_GetObjectItemCaseSensitive (j, "error_description");
    *error = xasprintf ("%s%s%.300s",
                        cJSON_IsString (e) ? e->valuestring
                        : "the reply has no access token",
                        cJSON_IsString (t) ? ": " : "",
                        cJSON_IsString (t) ? t->valuestring : "");
    cJSON_Delete (j);
    return -1;
  }
  *token = xstrdup (t->valuestring);
  if (json_seconds (cJSON_GetObjectItemCaseSensitive (j, "expires_on"), &secs)
      && secs > 0)
    *expires = secs;
  else if (json_seconds (cJSON_GetObjectItemCaseSensitive (j, "expires_in"),
                         &secs) && secs > 0)
    *expires = now + secs;
  else
    *expires = *token ? jwt_expiry (*token) : 0;
  cJSON_Delete (j);
  if (!*token)
    return -1;
  if (*expires == 0) {
    wipe_free (*token);
    *token = NULL;
    *error = xstrdup ("the reply does not say when the token expires");
    return -1;
  }
  return 0;
}

/* Token endpoints: https, or http to loopback or the metadata service
 * (which is plain http, on a link-local address, by design).
 */
static bool
endpoint_allowed (const char *url)
{
  static const char *const ok[] = {
    "https://", "http://127.", "http://localhost", "http://[::1]",
    "http://169.254.169.254/",
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (!strncasecmp (url, ok[i], strlen (ok[i])))
      return true;
  return false;
}

static size_t
collect (char *buf, size_t size, size_t n, void *opaque)
{
  char **s = opaque;
  size_t len = size * n, old = *s ? strlen (*s) : 0;
  char *ns;

  if (old + len > 256 * 1024)
    return 0;
  ns = realloc (*s, old + len + 1);
  if (!ns)
    return 0;
  memcpy (ns + old, buf, len);
  ns[old + len] = '\0';
  *s = ns;
  return len;
}

/* GET (post NULL) or POST a form to url with one extra header; the
 * reply body in *body.  The HTTP status, or -1 (reported).
 */
static long
http_token (const char *url, const char *post, const char *header,
            char **body)
{
  CURL *h;
  struct curl_slist *hl = NULL;
  CURLcode rc;
  long status = -1;

  *body = NULL;
  if (!endpoint_allowed (url)) {
    azp_error ("%s: a token endpoint must be https:// (or http:// on this "
               "machine)", url);
    return -1;
  }
  h = curl_easy_init ();
  if (!h) {
    azp_error ("curl_easy_init failed");
    return -1;
  }
  if (header)
    hl = curl_slist_append (hl, header);
  hl = curl_slist_append (hl, "Accept: application/json");
  curl_easy_setopt (h, CURLOPT_URL, url);
  curl_easy_setopt (h, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt (h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt (h, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt (h, CURLOPT_USERAGENT, "azprep/" PACKAGE_VERSION);
  curl_easy_setopt (h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (h, CURLOPT_WRITEDATA, body);
  if (post)
    curl_easy_setopt (h, CURLOPT_POSTFIELDS, post);
  rc = curl_easy_perform (h);
  if (rc != CURLE_OK)
    azp_error ("%s: %s", url, curl_easy_strerror (rc));
  else
    curl_easy_getinfo (h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all (hl);
  curl_easy_cleanup (h);
  if (status == -1) {
    free (*body);
    *body = NULL;
  }
  return status;
}

/* Read a small file (a token, a federated token) into a string with
 * the trailing white space cut.  NULL (reported).
 */
static char *
read_small (const char *path, struct stat *st)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  char *buf;
  ssize_t n;

  if (fd == -1 || fstat (fd, st) == -1) {
    azp_error ("%s: %m", path);
    return NULL;
  }
  if (st->st_size > 64 * 1024) {
    azp_error ("%s: too large for a token (64 KiB at most)", path);
    return NULL;
  }
  buf = malloc (st->st_size + 1);
  if (!buf) {
    azp_error ("out of memory");
    return NULL;
  }
  do
    n = pread (fd, buf, st->st_size, 0);
  while (n == -1 && errno == EINTR);
  if (n < 0) {
    azp_error ("%s: %m", path);
    free (buf);
    return NULL;
  }
  while (n > 0 && strchr (" \t\r\n", buf[n - 1]))
    n--;
  buf[n] = '\0';
  if (n == 0 || strpbrk (buf, " \t\r\n")) {
    azp_error ("%s: not one token (empty, or white space inside)", path);
    wipe_free (buf);
    return NULL;
  }
  return buf;
}

/* Turn an endpoint's reply into ts's token; who names it. */
static int
take_reply (struct token_source *ts, long status, char *body,
            const char *who)
{
  CLEANUP_FREE char *err = NULL;
  char *tok = NULL;
  time_t exp, now = time (NULL);
  int r = -1;

  if (status == -1)
    return -1;
  if (token_parse_reply (body ? body : "", now, &tok, &exp, &err) == 0 &&
      status == 200) {
    wipe_free (ts->token);
    ts->token = tok;
    ts->got = now;
    ts->expires = exp;
    r = 0;
  }
  else {
    wipe_free (tok);
    azp_error ("%s: no access token for Blob Storage (HTTP %ld): %s", who,
               status, err ? err : "the reply has no access token");
  }
  wipe_free (body);
  return r;
}

static int
fetch_azcli (struct token_source *ts)
{
  const char *argv[] = { "az", "account", "get-access-token", "--resource",
                         TOKEN_RESOURCE, "-o", "json", NULL };
  char *out = NULL;
  CLEANUP_FREE char *err = NULL, *line = NULL;
  int st = run_command_full (&out, &err, argv);

  if (st != 0) {
    wipe_free (out);
    line = first_line (err && *err ? err : "");
    azp_error ("az account get-access-token failed (%s%s%s): sign in with "
               "'az login', or choose another AZPREP_AUTH",
               st == 127 ? "az is not installed"
               : st == -1 ? "could not run it" : "exit status",
               st == 127 || st == -1 ? "" : " ",
               st == 127 || st == -1 ? "" : (line && *line ? line : "?"));
    return -1;
  }
  return take_reply (ts, 200, out, "az account get-access-token");
}

static int
fetch_msi (struct token_source *ts)
{
  const char *ie = getenv ("IDENTITY_ENDPOINT"), *ih = getenv
    ("IDENTITY_HEADER"), *me = getenv ("MSI_ENDPOINT"),
    *ms = getenv ("MSI_SECRET");
  CLEANUP_FREE char *res = url_encode (TOKEN_RESOURCE), *cid = NULL,
    *url = NULL, *hdr = NULL;
  char *body;
  long st;

  if (ts->client_id && !(cid = url_encode (ts->client_id)))
    return -1;
  if (ie && *ie && ih && *ih) {
    url = xasprintf ("%s?api-version=2019-08-01&resource=%s%s%s", ie, res,
                     cid ? "&client_id=" : "", cid ? cid : "");
    hdr = xasprintf ("X-IDENTITY-HEADER: %s", ih);
  }
  else if (me && *me) {
    url = xasprintf ("%s?api-version=2017-09-01&resource=%s%s%s", me, res,
                     cid ? "&clientid=" : "", cid ? cid : "");
    hdr = ms ? xasprintf ("secret: %s", ms) : xstrdup ("Metadata: true");
  }
  else {
    url = xasprintf ("%s?api-version=2018-02-01&resource=%s%s%s",
                     IMDS_ENDPOINT, res, cid ? "&client_id=" : "",
                     cid ? cid : "");
    hdr = xstrdup ("Metadata: true");
  }
  if (!url || !hdr)
    return -1;
  st = http_token (url, NULL, hdr, &body);
  memset (hdr, 0, strlen (hdr));
  return take_reply (ts, st, body, "managed identity");
}

/* A client assertion for the certificate in ts->cert_path (PEM with
 * the certificate and its private key): a JWT signed RS256 whose
 * header names the certificate by its SHA-1 thumbprint (x5t).
 */
static char *
cert_assertion (const struct token_source *ts, const char *aud)
{
  CLEANUP_FCLOSE FILE *fp = fopen (ts->cert_path, "re");
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  EVP_MD_CTX *md = NULL;
  unsigned char thumb[20], sig[1024], rnd[16];
  unsigned int tl = 0;
  size_t sl = sizeof sig;
  CLEANUP_FREE char *x5t = NULL, *hdr = NULL, *pay = NULL, *h64 = NULL,
    *p64 = NULL, *input = NULL, *s64 = NULL, *jti = NULL;
  char *r = NULL;
  time_t now = time (NULL);

  if (!fp) {
    azp_error ("AZURE_CLIENT_CERTIFICATE_PATH %s: %m", ts->cert_path);
    return NULL;
  }
  cert = PEM_read_X509 (fp, NULL, NULL, NULL);
  rewind (fp);
  key = PEM_read_PrivateKey (fp, NULL, NULL, NULL);
  if (!cert || !key || !X509_digest (cert, EVP_sha1 (), thumb, &tl) ||
      getentropy (rnd, sizeof rnd) == -1) {
    azp_error ("AZURE_CLIENT_CERTIFICATE_PATH %s: needs a PEM certificate "
               "and its unencrypted private key", ts->cert_path);
    goto out;
  }
  x5t = b64url_encode (thumb, tl);
  jti = b64url_encode (rnd, sizeof rnd);
  if (!x5t || !jti)
    goto out;
  hdr = xasprintf ("{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\"}", x5t);
  pay = xasprintf ("{\"aud\":\"%s\",\"iss\":\"%s\",\"sub\":\"%s\","
                   "\"jti\":\"%s\",\"nbf\":%lld,\"exp\":%lld}", aud,
                   ts->client_id, ts->client_id, jti, (long long) now,
                   (long long) now + 600);
  if (!hdr || !pay || !(h64 = b64url_encode (hdr, strlen (hdr))) ||
      !(p64 = b64url_encode (pay, strlen (pay))) ||
      !(input = xasprintf ("%s.%s", h64, p64)))
    goto out;
  md = EVP_MD_CTX_new ();
  if (!md || EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, key) != 1 ||
      EVP_DigestSign (md, sig, &sl, (unsigned char *) input,
                      strlen (input)) != 1) {
    azp_error ("AZURE_CLIENT_CERTIFICATE_PATH %s: cannot sign with its key "
               "(an RSA key is needed)", ts->cert_path);
    goto out;
  }
  if ((s64 = b64url_encode (sig, sl)))
    r = xasprintf ("%s.%s", input, s64);
 out:
  EVP_MD_CTX_free (md);
  EVP_PKEY_free (key);
  X509_free (cert);
  return r;
}

/* The client-credentials grant (service principal, workload identity)
 * at AUTHORITY/TENANT/oauth2/v2.0/token.
 */
static int
fetch_client_credentials (struct token_source *ts)
{
  CLEANUP_FREE char *url = NULL, *tenant = url_encode (ts->tenant),
    *cid = url_encode (ts->client_id), *scope = NULL;
  char *cred = NULL, *enc = NULL, *form = NULL, *body = NULL;
  const char *auth = ts->authority ? ts->authority : DEFAULT_AUTHORITY;
  struct stat st;
  long status;
  size_t al = strlen (auth);

  while (al > 0 && auth[al - 1] == '/')
    al--;
  if (!tenant || !cid)
    return -1;
  url = xasprintf ("%.*s/%s/oauth2/v2.0/token", (int) al, auth, tenant);
  scope = url_encode (TOKEN_RESOURCE ".default");
  if (!url || !scope)
    return -1;
  if (ts->kind == TOKEN_WORKLOAD)
    cred = read_small (ts->file, &st);
  else if (ts->secret)
    cred = xstrdup (ts->secret);
  else
    cred = cert_assertion (ts, url);
  if (!cred || !(enc = url_encode (cred))) {
    wipe_free (cred);
    return -1;
  }
  form = xasprintf ("grant_type=client_credentials&client_id=%s&scope=%s&%s"
                    "%s", cid, scope, ts->secret && ts->kind == TOKEN_SPN
                    ? "client_secret=" : "client_assertion_type=urn%3Aietf"
                    "%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                    "&client_assertion=", enc);
  wipe_free (cred);
  wipe_free (enc);
  if (!form)
    return -1;
  status = http_token (url, form, "Content-Type: "
                       "application/x-www-form-urlencoded", &body);
  wipe_free (form);
  return take_reply (ts, status, body, ts->kind == TOKEN_SPN
                     ? "service principal sign-in"
                     : "workload identity sign-in");
}

/* The token file: re-read when it changed; its expiry from the JWT. */
static int
fetch_file (struct token_source *ts)
{
  struct stat st;
  char *tok;

  if (ts->token && stat (ts->file, &st) == 0 &&
      st.st_mtim.tv_sec == ts->file_mtime.tv_sec &&
      st.st_mtim.tv_nsec == ts->file_mtime.tv_nsec &&
      st.st_size == ts->file_size)
    return 0;
  tok = read_small (ts->file, &st);
  if (!tok)
    return -1;
  wipe_free (ts->token);
  ts->token = tok;
  ts->got = time (NULL);
  ts->expires = jwt_expiry (tok);
  ts->file_mtime = st.st_mtim;
  ts->file_size = st.st_size;
  return 0;
}

static int
fetch (struct token_source *ts)
{
  switch (ts->kind) {
  case TOKEN_AZCLI: return fetch_azcli (ts);
  case TOKEN_SPN: case TOKEN_WORKLOAD: return fetch_client_credentials (ts);
  case TOKEN_MSI: return fetch_msi (ts);
  case TOKEN_FILE: return fetch_file (ts);
  }
  return -1;
}

char *
token_source_get (struct token_source *ts, time_t *expires)
{
  char *r = NULL;
  time_t now = time (NULL);

  pthread_mutex_lock (&ts->lock);
  if (ts->kind == TOKEN_FILE ||
      !ts->token || (ts->expires &&
                     now >= ts->expires - token_refresh_margin (ts->got,
                                                                ts->expires))) {
    if (fetch (ts) == -1)
      goto out;
    if (ts->kind != TOKEN_FILE)
      azp_debug ("Entra ID: a token from %s, valid for %lld s",
               token_source_describe (ts),
               (long long) (ts->expires - time (NULL)));
  }
  if (ts->expires && time (NULL) >= ts->expires) {
    char when[32];
    struct tm tm;
    gmtime_r (&ts->expires, &tm);
    strftime (when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    azp_error ("the access token from %s expired at %s%s%s%s",
               token_source_describe (ts), when,
               ts->kind == TOKEN_FILE ? " (" : "",
               ts->kind == TOKEN_FILE ? ts->file : "",
               ts->kind == TOKEN_FILE ? " was not renewed)" : "");
    goto out;
  }
  r = xstrdup (ts->token);
  if (r && expires)
    *expires = ts->expires;
 out:
  pthread_mutex_unlock (&ts->lock);
  return r;
}
