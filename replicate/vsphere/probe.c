/* The datastore endpoint: does it serve byte ranges?  One ranged GET of
 * one byte; a server that answers with the whole file is stopped at
 * once (nothing is downloaded).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/vsphere/internal.h"

/* Range probe: the status and Content-Range, and nothing of a 200. */
struct probe {
  CURL *curl;
  long status;
  int64_t total;
  size_t got;
  char body[512];             /* the start of an error reply */
  size_t nbody;
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

  size_t len = size * n;

  curl_easy_getinfo (p->curl, CURLINFO_RESPONSE_CODE, &p->status);
  p->got += len;
  /* An error's reason (ESXi's lock): its first bytes, for the message. */
  if (p->status >= 400 && p->got <= 4096) {
    size_t k = sizeof p->body - 1 - p->nbody;
    if (k > len)
      k = len;
    memcpy (p->body + p->nbody, ptr, k);
    p->nbody += k;
    p->body[p->nbody] = '\0';
    return len;
  }
  /* A server that ignores Range sends the whole disk: stop at once. */
  if (p->status != 206 || p->got > 4096)
    return 0;
  return len;
}

/* An error body as one printable line. */
static void
sanitize (char *s)
{
  char *end = s + strlen (s);
  for (char *q = s; *q; q++)
    if ((unsigned char) *q < ' ' || (unsigned char) *q > '~')
      *q = ' ';
  while (end > s && end[-1] == ' ')
    *--end = '\0';
}

/* One ranged GET: 0 (p filled), or -1 after a transport error (not
 * reported yet: errbuf, *rc). */
static int
probe_once (struct vsphere *v, const char *url, struct probe *p,
            char *errbuf, CURLcode *rc)
{
  CURL *c = curl_easy_init ();

  memset (p, 0, sizeof *p);
  p->curl = c;
  p->total = -1;
  if (!c) {
    azp_error ("cannot initialise libcurl");
    *rc = CURLE_FAILED_INIT;
    return -1;
  }
  vsphere_setup_curl (c, &v->opts, !strncmp (v->base, "http:", 5));
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_COOKIE, v->cookie);
  curl_easy_setopt (c, CURLOPT_RANGE, "0-0");
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, probe_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, p);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, probe_write);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, p);
  curl_easy_setopt (c, CURLOPT_ERRORBUFFER, errbuf);
  *rc = curl_easy_perform (c);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &p->status);
  curl_easy_cleanup (c);
  return *rc != CURLE_OK && *rc != CURLE_WRITE_ERROR ? -1 : 0;
}

/* Worth another try: a reset, a timeout, a 5xx that is not a lock. */
static bool
transient (int r, const struct probe *p)
{
  if (r == -1)
    return true;
  return (p->status == 500 && !strcasestr (p->body, "lock")) ||
    p->status == 502 || p->status == 503 || p->status == 504;
}

int
vsphere_probe_range (struct vsphere *v, const char *url, int64_t *size)
{
  struct probe p;
  char errbuf[CURL_ERROR_SIZE] = "";
  CURLcode rc = CURLE_OK;
  int r = -1;

  /* Bounded retries with backoff (1, 2, 4, 8 s), as the bridge does. */
  for (int attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) {
      azp_debug ("%s: retrying in %d s", url, 1 << (attempt - 1));
      sleep (1 << (attempt - 1));
    }
    errbuf[0] = '\0';
    r = probe_once (v, url, &p, errbuf, &rc);
    if (rc == CURLE_FAILED_INIT)
      return -1;
    if (!transient (r, &p))
      break;
  }
  /* The URL has no secret in it; the cookie travels in a header. */
  if (r == -1) {
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
    /* ESXi refuses a running VM's disk: "Unable to access file ...
     * since it is locked".  Name the lock and what to do. */
    sanitize (p.body);
    if (strcasestr (p.body, "lock"))
      azp_error ("%s: the host refuses the read (HTTP %ld: %s): ESXi holds "
                 "the disk's lock while its VM runs without a snapshot; name "
                 "the VM's disk (vsphere://HOST/DC/VM/INDEX) so that azprep "
                 "reads it from a snapshot, or shut the VM down", url,
                 p.status, p.body);
    else
      azp_error ("%s: HTTP %ld%s%s", url, p.status, *p.body ? ": " : "",
                 p.body);
    return -1;
  }
}
