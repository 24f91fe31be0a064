/* The datastore endpoint: does it serve byte ranges?  One ranged GET of
 * one byte; a server that answers with the whole file is stopped at
 * once (nothing is downloaded).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "prep/common/common.h"
#include "replicate/vsphere/internal.h"

/* Range probe: the status and Content-Range, and nothing of a 200. */
struct probe {
  CURL *curl;
  long status;
  int64_t total;
  size_t got;
};

static size_t
probe_header (char *ptr, size_t size, size_t n, void *opaque)
{
  struct probe *p = opaque;
  size_t len = size * n;
  static const char cr[] = "content-range:";
  char line[256];

  if (len < sizeof line && len > sizeof cr - 1 &&
      !strncasecmp (ptr, cr, sizeof cr - 1)) {
    const char *slash;
    memcpy (line, ptr, len);
    line[len] = '\0';
    slash = strchr (line, '/');
    if (slash) {
      char *end;
      long long t;
      errno = 0;
      t = strtoll (slash + 1, &end, 10);
      if (!errno && end != slash + 1 && t > 0)
        p->total = t;
    }
  }
  return len;
}

static size_t
probe_write (char *ptr, size_t size, size_t n, void *opaque)
{
  struct probe *p = opaque;

  curl_easy_getinfo (p->curl, CURLINFO_RESPONSE_CODE, &p->status);
  p->got += size * n;
  /* A server that ignores Range sends the whole disk: stop at once. */
  if (p->status != 206 || p->got > 4096)
    return 0;
  return size * n;
}

int
vsphere_probe_range (struct vsphere *v, const char *url, int64_t *size)
{
  CURL *c = curl_easy_init ();
  struct probe p = { .curl = c, .total = -1 };
  char errbuf[CURL_ERROR_SIZE] = "";
  CURLcode rc;

  if (!c) {
    azp_error ("cannot initialise libcurl");
    return -1;
  }
  vsphere_setup_curl (c, &v->opts, !strncmp (v->base, "http:", 5));
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_COOKIE, v->cookie);
  curl_easy_setopt (c, CURLOPT_RANGE, "0-0");
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, probe_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, &p);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, probe_write);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, &p);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf);
  rc = curl_easy_perform (c);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &p.status);
  curl_easy_cleanup (c);
  /* The URL has no secret in it; the cookie travels in a header. */
  if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR) {
    vsphere_curl_failed (url, rc, errbuf);
    return -1;
  }
  switch (p.status) {
  case 206:
    if (p.total < 0) {
      azp_error ("%s: the server sent no Content-Range total", url);
      return -1;
    }
    *size = p.total;
    return 0;
  case 200:
    azp_error ("%s: the server ignores HTTP Range requests (it answered with "
               "the whole file): the disk cannot be read in place; nothing was "
               "downloaded", url);
    return -1;
  case 401: case 403:
    azp_error ("%s: access denied (HTTP %ld): the vCenter user needs the "
               "Datastore.Browse privilege", url, p.status);
    return -1;
  case 404:
    azp_error ("%s: not found on the datastore (HTTP 404)", url);
    return -1;
  case 416:
    azp_error ("%s: the disk file is empty", url);
    return -1;
  default:
    azp_error ("%s: HTTP %ld", url, p.status);
    return -1;
  }
}
