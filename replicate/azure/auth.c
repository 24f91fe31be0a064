/* Shared Key and SAS signing, base64, MD5, HMAC (pure functions). */
#include <ctype.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>

#include "prep/common/common.h"
#include "replicate/azure/auth.h"

static const char b64chars[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *
base64_encode (const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = malloc ((len + 2) / 3 * 4 + 1), *o = out;

  if (!out) {
    azp_error ("out of memory");
    return NULL;
  }
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t) p[i] << 16;
    if (i + 1 < len) v |= (uint32_t) p[i + 1] << 8;
    if (i + 2 < len) v |= p[i + 2];
    *o++ = b64chars[(v >> 18) & 63];
    *o++ = b64chars[(v >> 12) & 63];
    *o++ = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
    *o++ = i + 2 < len ? b64chars[v & 63] : '=';
  }
  *o = '\0';
  return out;
}

static int
b64val (int c)
{
  const char *p = c ? strchr (b64chars, c) : NULL;
  return p ? (int) (p - b64chars) : -1;
}

unsigned char *
base64_decode (const char *s, size_t *lenp)
{
  size_t n = strlen (s), pad = 0, o = 0;
  unsigned char *out;

  if (n == 0 || n % 4 != 0)
    return NULL;
  if (s[n - 1] == '=') pad++;
  if (s[n - 2] == '=') pad++;
  out = malloc (n / 4 * 3);
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i += 4) {
    int v[4];
    for (int k = 0; k < 4; k++) {
      v[k] = b64val (s[i + k]);
      if (v[k] < 0 && !(i + 4 == n && s[i + k] == '=' && k >= 4 - (int) pad)) {
        free (out);
        return NULL;
      }
      if (v[k] < 0)
        v[k] = 0;
    }
    uint32_t w = v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3];
    out[o++] = w >> 16;
    out[o++] = w >> 8;
    out[o++] = w;
  }
  *lenp = o - pad;
  return out;
}

void
md5_base64 (const void *data, size_t len, char out[25])
{
  unsigned char d[16];
  unsigned int dl = 0;
  EVP_Digest (data, len, d, &dl, EVP_md5 (), NULL);
  CLEANUP_FREE char *s = base64_encode (d, 16);
  if (s)
    memcpy (out, s, 25);
  else
    out[0] = '\0';
}

int
hmac_sha256_base64 (const unsigned char *key, size_t keylen,
                    const char *msg, size_t msglen, char out[45])
{
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dl = 0;

  if (!HMAC (EVP_sha256 (), key, (int) keylen,
             (const unsigned char *) msg, msglen, d, &dl) || dl != 32) {
    azp_error ("HMAC-SHA256 failed");
    return -1;
  }
  CLEANUP_FREE char *s = base64_encode (d, dl);
  if (!s)
    return -1;
  memcpy (out, s, 45);
  return 0;
}

uint64_t
crc64_nvme (uint64_t crc, const void *data, size_t len)
{
  static uint64_t table[256];
  static int init;
  const unsigned char *p = data;

  if (!__atomic_load_n (&init, __ATOMIC_ACQUIRE)) {
    for (int i = 0; i < 256; i++) {
      uint64_t c = i;
      for (int k = 0; k < 8; k++)
        c = c & 1 ? (c >> 1) ^ 0x9A6C9329AC4BC9B5ULL : c >> 1;
      table[i] = c;
    }
    __atomic_store_n (&init, 1, __ATOMIC_RELEASE);
  }
  crc = ~crc;
  while (len--)
    crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

void
crc64_nvme_base64 (const void *data, size_t len, char out[13])
{
  uint64_t c = crc64_nvme (0, data, len);
  unsigned char le[8];
  for (int i = 0; i < 8; i++)
    le[i] = c >> (8 * i);
  CLEANUP_FREE char *s = base64_encode (le, 8);
  if (s)
    memcpy (out, s, 13);
  else
    out[0] = '\0';
}

/* A growing string; after an allocation failure it stays NULL. */
struct sbuf { char *s; size_t len, cap; bool oom; };

static void
sb_add (struct sbuf *b, const char *p, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t ncap = (b->len + n + 1) * 2;
    char *ns = realloc (b->s, ncap);
    if (!ns) {
      free (b->s);
      b->s = NULL;
      b->oom = true;
      return;
    }
    b->s = ns;
    b->cap = ncap;
  }
  memcpy (b->s + b->len, p, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void
sb_str (struct sbuf *b, const char *p)
{
  sb_add (b, p, strlen (p));
}

/* The value of header name (case-insensitive) in headers, trimmed, or
 * "" if absent.  Points into the headers.
 */
static const char *
header_value (const char *const *headers, const char *name, size_t *len)
{
  size_t n = strlen (name);
  for (size_t i = 0; headers && headers[i]; i++) {
    const char *h = headers[i];
    if (strncasecmp (h, name, n) == 0 && h[n] == ':') {
      const char *v = h + n + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      size_t l = strlen (v);
      while (l > 0 && (v[l - 1] == ' ' || v[l - 1] == '\t'))
        l--;
      *len = l;
      return v;
    }
  }
  *len = 0;
  return "";
}

static int
cmp_strp (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* "name:value" with the name lowercased and whitespace runs collapsed. */
static char *
canonical_header (const char *h)
{
  const char *colon = strchr (h, ':');
  char *out = malloc (strlen (h) + 1), *o = out;
  const char *v;
  bool space = false;

  if (!out || !colon) {
    free (out);
    return NULL;
  }
  for (const char *p = h; p < colon; p++)
    *o++ = tolower ((unsigned char) *p);
  while (o > out && o[-1] == ' ')
    o--;
  *o++ = ':';
  for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
    ;
  for (; *v; v++) {
    if (*v == ' ' || *v == '\t')
      space = true;
    else {
      if (space)
        *o++ = ' ';
      space = false;
      *o++ = *v;
    }
  }
  *o = '\0';
  return out;
}

char *
sharedkey_string_to_sign (const struct sign_request *r, const char *account)
{
  static const char *const std_headers[] = {
    "Content-Encoding", "Content-Language", "Content-Length", "Content-MD5",
    "Content-Type", "Date", "If-Modified-Since", "If-Match",
    "If-None-Match", "If-Unmodified-Since", "Range",
  };
  struct sbuf b = { 0 };
  CLEANUP_FREE_STRING_LIST char **xms = NULL;
  CLEANUP_FREE_STRING_LIST char **params = NULL;
  size_t nx = 0, np = 0, nh = count_strings ((char *const *) r->headers);

  sb_str (&b, r->method);
  sb_str (&b, "\n");
  for (size_t i = 0; i < sizeof std_headers / sizeof std_headers[0]; i++) {
    size_t len;
    const char *v = header_value (r->headers, std_headers[i], &len);
    if (i == 2 && len == 1 && v[0] == '0')
      len = 0;     /* Content-Length 0 signs as "" (2015-02-21+) */
    sb_add (&b, v, len);
    sb_str (&b, "\n");
  }

  xms = calloc (nh + 1, sizeof *xms);
  if (!xms)
    goto oom;
  for (size_t i = 0; i < nh; i++)
    if (strncasecmp (r->headers[i], "x-ms-", 5) == 0) {
      xms[nx] = canonical_header (r->headers[i]);
      if (!xms[nx++])
        goto oom;
    }
  qsort (xms, nx, sizeof *xms, cmp_strp);
  for (size_t i = 0; i < nx; i++) {
    sb_str (&b, xms[i]);
    sb_str (&b, "\n");
  }

  sb_str (&b, "/");
  sb_str (&b, account);
  sb_str (&b, r->path);

  /* Query parameters: lowercased names, sorted, decoded values. */
  if (r->query && *r->query) {
    CLEANUP_FREE char *q = strdup (r->query);
    char *save = NULL;
    if (!q)
      goto oom;
    params = calloc (strlen (q) + 2, sizeof *params);
    if (!params)
      goto oom;
    for (char *t = strtok_r (q, "&", &save); t;
         t = strtok_r (NULL, "&", &save)) {
      char *eq = strchr (t, '=');
      CLEANUP_FREE char *name = NULL, *val = NULL;
      if (eq)
        *eq = '\0';
      const char *v = eq ? eq + 1 : "";
      name = url_decode (t, strlen (t), URL_PLUS_SPACE);
      val = url_decode (v, strlen (v), URL_PLUS_SPACE);
      if (!name || !val)
        goto oom;
      for (char *p = name; *p; p++)
        *p = tolower ((unsigned char) *p);
      params[np] = xasprintf ("%s:%s", name, val);
      if (!params[np++])
        goto oom;
    }
    qsort (params, np, sizeof *params, cmp_strp);
    for (size_t i = 0; i < np; i++) {
      /* Repeated names: "name:v1,v2" (values already sorted). */
      size_t nl = strchr (params[i], ':') - params[i] + 1;
      if (i > 0 && strncmp (params[i], params[i - 1], nl) == 0) {
        sb_str (&b, ",");
        sb_str (&b, params[i] + nl);
      }
      else {
        sb_str (&b, "\n");
        sb_str (&b, params[i]);
      }
    }
  }
  if (!b.s)
    goto oom;
  return b.s;

 oom:
  free (b.s);
  azp_error ("out of memory");
  return NULL;
}

char *
sharedkey_authorization (const struct sign_request *r, const struct creds *c)
{
  CLEANUP_FREE char *sts = NULL;
  char sig[45];

  if (!c->account || !c->key) {
    azp_error ("no storage account key to sign the request with");
    return NULL;
  }
  sts = sharedkey_string_to_sign (r, c->account);
  if (!sts)
    return NULL;
  if (hmac_sha256_base64 (c->key, c->keylen, sts, strlen (sts), sig) == -1)
    return NULL;
  return xasprintf ("SharedKey %s:%s", c->account, sig);
}

char *
sas_string_to_sign (const struct sas_params *p, const char *account,
                    const char *container, const char *blob)
{
  const char *v = p->version ? p->version : "2022-11-02";
  CLEANUP_FREE char *res =
    blob ? xasprintf ("/blob/%s/%s/%s", account, container, blob)
         : xasprintf ("/blob/%s/%s", account, container);

  if (!res)
    return NULL;
  if (strcmp (v, "2018-11-09") < 0) {
    azp_error ("SAS version %s is too old (2018-11-09 or later)", v);
    return NULL;
  }
  /* sp st se canonres si sip spr sv sr snapshot [ses] rscc rscd rsce
   * rscl rsct
   */
  return xasprintf ("%s\n%s\n%s\n%s\n\n\n%s\n%s\n%s\n\n%s\n\n\n\n",
                    p->permissions, p->start ? p->start : "", p->expiry,
                    res, p->protocol ? p->protocol : "", v,
                    blob ? "b" : "c",
                    strcmp (v, "2020-12-06") >= 0 ? "\n" : "");
}

char *
sas_service_blob (const struct sas_params *p, const struct creds *c,
                  const char *container, const char *blob)
{
  CLEANUP_FREE char *sts = NULL, *sig_enc = NULL, *se = NULL, *st = NULL;
  CLEANUP_FREE char *spr = NULL;
  char sig[45];

  if (!c->account || !c->key) {
    azp_error ("a SAS can only be made with the account key");
    return NULL;
  }
  sts = sas_string_to_sign (p, c->account, container, blob);
  if (!sts ||
      hmac_sha256_base64 (c->key, c->keylen, sts, strlen (sts), sig) == -1)
    return NULL;
  sig_enc = url_encode (sig);
  se = url_encode (p->expiry);
  st = p->start ? url_encode (p->start) : NULL;
  spr = p->protocol ? url_encode (p->protocol) : NULL;
  if (!sig_enc || !se || (p->start && !st) || (p->protocol && !spr))
    return NULL;
  return xasprintf ("sv=%s&sr=%s&sp=%s%s%s&se=%s%s%s&sig=%s",
                    p->version ? p->version : "2022-11-02",
                    blob ? "b" : "c", p->permissions,
                    st ? "&st=" : "", st ? st : "", se,
                    spr ? "&spr=" : "", spr ? spr : "", sig_enc);
}

char *
redact_url (const char *url)
{
  struct sbuf b = { 0 };
  const char *p = url;

  while (*p) {
    const char *s = strcasestr (p, "sig=");
    if (!s || (s > url && s[-1] != '?' && s[-1] != '&')) {
      if (!s) {
        sb_str (&b, p);
        break;
      }
      sb_add (&b, p, s + 4 - p);
      p = s + 4;
      continue;
    }
    sb_add (&b, p, s + 4 - p);
    sb_str (&b, "REDACTED");
    p = s + 4;
    while (*p && *p != '&' && *p != '#')
      p++;
  }
  if (!b.s)
    return xstrdup ("");
  return b.s;
}
