/* Storage credentials: connection strings, environment, files.
 * Values are secrets: errors name the key and the origin, never values.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/azure/auth.h"

void
creds_free (struct creds *c)
{
  if (!c)
    return;
  free (c->account);
  if (c->key) {
    memset (c->key, 0, c->keylen);
    free (c->key);
  }
  if (c->sas) {
    memset (c->sas, 0, strlen (c->sas));
    free (c->sas);
  }
  free (c->endpoint);
  memset (c, 0, sizeof *c);
}

void
creds_cleanup (void *ptr)
{
  creds_free (ptr);
}

int
creds_set_key (struct creds *c, const char *b64)
{
  size_t len;
  unsigned char *k = base64_decode (b64, &len);

  if (!k || len == 0) {
    free (k);
    azp_error ("the storage account key is not valid base64");
    return -1;
  }
  if (c->key) {
    memset (c->key, 0, c->keylen);
    free (c->key);
  }
  c->key = k;
  c->keylen = len;
  secrets_no_core ();
  return 0;
}

static int
set_str (char **dst, const char *v, size_t len)
{
  char *s = strndup (v, len);
  if (!s) {
    azp_error ("out of memory");
    return -1;
  }
  free (*dst);
  *dst = s;
  return 0;
}

/* Keep a SAS without its leading '?'. */
static int
set_sas (struct creds *c, const char *v, size_t len)
{
  while (len > 0 && *v == '?') {
    v++;
    len--;
  }
  if (len == 0 || memmem (v, len, "sig=", 4) == NULL) {
    azp_error ("the SAS token has no signature (sig=)");
    return -1;
  }
  return set_str (&c->sas, v, len);
}

int
creds_parse_connection_string (struct creds *c, const char *s,
                               const char *what)
{
  CLEANUP_FREE char *proto = NULL, *suffix = NULL;
  const char *p = s;

  while (*p) {
    const char *end = strchr (p, ';'), *eq;
    size_t len;
    if (!end)
      end = p + strlen (p);
    /* Skip whitespace and empty parts ("a=b;;c=d", trailing ';'). */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
      p++;
    len = end - p;
    while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\n' ||
                       p[len - 1] == '\r' || p[len - 1] == '\t'))
      len--;
    if (len > 0) {
      size_t klen, vlen;
      const char *v;
      eq = memchr (p, '=', len);
      if (!eq) {
        azp_error ("%s: connection string part without '=' (expected "
                   "Key=Value)",
                   what);
        return -1;
      }
      klen = eq - p;
      v = eq + 1;
      vlen = len - klen - 1;
#define IS(k) (klen == strlen (k) && strncasecmp (p, k, klen) == 0)
      if (IS ("AccountName")) {
        if (set_str (&c->account, v, vlen) == -1) return -1;
      }
      else if (IS ("AccountKey")) {
        CLEANUP_FREE char *k = strndup (v, vlen);
        if (!k || creds_set_key (c, k) == -1) {
          azp_error ("%s: bad AccountKey", what);
          if (k) memset (k, 0, vlen);
          return -1;
        }
        memset (k, 0, vlen);
      }
      else if (IS ("BlobEndpoint")) {
        if (set_str (&c->endpoint, v, vlen) == -1) return -1;
        size_t l = strlen (c->endpoint);
        while (l > 0 && c->endpoint[l - 1] == '/')
          c->endpoint[--l] = '\0';
      }
      else if (IS ("SharedAccessSignature")) {
        if (set_sas (c, v, vlen) == -1) {
          azp_error ("%s: bad SharedAccessSignature", what);
          return -1;
        }
      }
      else if (IS ("DefaultEndpointsProtocol")) {
        if (set_str (&proto, v, vlen) == -1) return -1;
      }
      else if (IS ("EndpointSuffix")) {
        if (set_str (&suffix, v, vlen) == -1) return -1;
      }
      else if (IS ("UseDevelopmentStorage")) {
        azp_error ("%s: UseDevelopmentStorage is not supported; give "
                   "AccountName, AccountKey and BlobEndpoint", what);
        return -1;
      }
      /* Queue/Table/File endpoints and others: not ours, ignore. */
#undef IS
    }
    p = *end ? end + 1 : end;
  }
  if (!c->endpoint && c->account) {
    c->endpoint = xasprintf ("%s://%s.blob.%s", proto ? proto : "https",
                             c->account, suffix ? suffix : "core.windows.net");
    if (!c->endpoint)
      return -1;
  }
  if (!c->account && !c->sas) {
    azp_error ("%s: the connection string has neither AccountName nor "
               "SharedAccessSignature", what);
    return -1;
  }
  if (c->account && !c->key && !c->sas) {
    azp_error ("%s: the connection string has no AccountKey or "
               "SharedAccessSignature", what);
    return -1;
  }
  return 0;
}

/* Apply one VARIABLE=value assignment (from a file or the environment). */
static int
creds_apply (struct creds *c, const char *name, const char *v,
             const char *what)
{
  if (!strcmp (name, "AZURE_STORAGE_CONNECTION_STRING"))
    return creds_parse_connection_string (c, v, what);
  if (!strcmp (name, "AZURE_STORAGE_ACCOUNT"))
    return set_str (&c->account, v, strlen (v));
  if (!strcmp (name, "AZURE_STORAGE_KEY")) {
    if (creds_set_key (c, v) == -1) {
      azp_error ("%s: bad AZURE_STORAGE_KEY", what);
      return -1;
    }
    return 0;
  }
  if (!strcmp (name, "AZURE_STORAGE_SAS_TOKEN")) {
    if (set_sas (c, v, strlen (v)) == -1) {
      azp_error ("%s: bad AZURE_STORAGE_SAS_TOKEN", what);
      return -1;
    }
    return 0;
  }
  if (!strcmp (name, "AZURE_STORAGE_BLOB_ENDPOINT"))
    return set_str (&c->endpoint, v, strlen (v));
  return 0;
}

/* Read a file of secrets into buf (NUL-terminated, at most size - 1
 * bytes); what names it in messages ("credentials file").  On error
 * buf is wiped.  0 or -1 (reported). */
static int
read_secret_file (const char *file, const char *what, char *buf,
                  size_t size)
{
  CLEANUP_CLOSE int fd = open (file, O_RDONLY | O_CLOEXEC);
  size_t len = 0;
  struct stat st;

  if (fd == -1) {
    azp_error ("%s %s: %m", what, file);
    return -1;
  }
  if (fstat (fd, &st) == 0 && (st.st_mode & 0044))
    azp_warning ("%s %s is readable by others (chmod 600 it)", what, file);
  for (;;) {
    ssize_t n = read (fd, buf + len, size - 1 - len);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1) {
      azp_error ("%s %s: %m", what, file);
      memset (buf, 0, size);
      return -1;
    }
    if (n == 0)
      break;
    len += n;
    if (len == size - 1) {
      azp_error ("%s %s is too large (%zu KiB at most)", what, file,
                 size >> 10);
      memset (buf, 0, size);
      return -1;
    }
  }
  buf[len] = '\0';
  return 0;
}

static int
creds_from_file (struct creds *c, const char *file)
{
  char buf[65536];
  int r = -1;

  if (read_secret_file (file, "credentials file", buf, sizeof buf) == -1)
    return -1;

  if (strstr (buf, "AZURE_STORAGE_")) {
    /* Lines VAR=value; '#' comments; optional "export ". */
    char *save = NULL;
    for (char *l = strtok_r (buf, "\n", &save); l;
         l = strtok_r (NULL, "\n", &save)) {
      char *eq, *v;
      size_t vl;
      while (*l == ' ' || *l == '\t')
        l++;
      if (*l == '#' || *l == '\0' || *l == '\r')
        continue;
      if (!strncmp (l, "export ", 7))
        l += 7;
      eq = strchr (l, '=');
      if (!eq) {
        azp_error ("credentials file %s: a line without '='", file);
        goto out;
      }
      *eq = '\0';
      v = eq + 1;
      vl = strlen (v);
      while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
        v[--vl] = '\0';
      if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
        v[vl - 1] = '\0';
        v++;
      }
      if (creds_apply (c, l, v, file) == -1)
        goto out;
    }
  }
  else if (creds_parse_connection_string (c, buf, file) == -1)
    goto out;
  r = 0;
 out:
  memset (buf, 0, sizeof buf);
  return r;
}

int
creds_load (struct creds *c, const char *file)
{
  static const char *const vars[] = {
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_BLOB_ENDPOINT",
  };

  if (file) {
    if (creds_from_file (c, file) == -1)
      return -1;
  }
  else
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
      const char *v = secret_env (vars[i]);
      if (v && *v && creds_apply (c, vars[i], v, vars[i]) == -1)
        return -1;
    }
  /* The same default endpoint whether the lines came from a file or
   * from the environment. */
  if (c->account && !c->endpoint) {
    c->endpoint = xasprintf ("https://%s.blob.core.windows.net", c->account);
    if (!c->endpoint)
      return -1;
  }
  if (c->endpoint) {
    size_t l = strlen (c->endpoint);
    while (l > 0 && c->endpoint[l - 1] == '/')
      c->endpoint[--l] = '\0';
  }
  return 0;
}

bool
creds_url_has_sas (const char *url)
{
  const char *q = strchr (url, '?');
  return q && (strstr (q, "sig=") || strstr (q, "sig%3") ||
               strstr (q, "SIG="));
}

void
creds_urls_free (char **urls)
{
  if (!urls)
    return;
  for (size_t i = 0; urls[i]; i++) {
    memset (urls[i], 0, strlen (urls[i]));
    free (urls[i]);
  }
  free (urls);
}

char **
creds_read_urls (const char *file, size_t *n)
{
  char buf[65536], *save = NULL;
  char **urls = NULL;
  size_t cnt = 0;

  if (read_secret_file (file, "blob URL file", buf, sizeof buf) == -1)
    return NULL;
  for (char *l = strtok_r (buf, "\n", &save); l;
       l = strtok_r (NULL, "\n", &save)) {
    size_t ll;
    char **nu;
    while (*l == ' ' || *l == '\t')
      l++;
    ll = strlen (l);
    while (ll > 0 && (l[ll - 1] == '\r' || l[ll - 1] == ' ' ||
                      l[ll - 1] == '\t'))
      l[--ll] = '\0';
    if (*l == '#' || *l == '\0')
      continue;
    nu = realloc (urls, (cnt + 2) * sizeof *urls);
    if (!nu || !(nu[cnt] = strdup (l))) {
      azp_error ("out of memory");
      if (nu)
        urls = nu;
      goto fail;
    }
    urls = nu;
    urls[++cnt] = NULL;
  }
  memset (buf, 0, sizeof buf);
  if (cnt == 0) {
    azp_error ("blob URL file %s: no URL in it (one blob URL with its SAS "
               "a line, one line per disk)", file);
    return NULL;
  }
  *n = cnt;
  return urls;
 fail:
  memset (buf, 0, sizeof buf);
  if (urls)
    urls[cnt] = NULL;
  creds_urls_free (urls);
  return NULL;
}
