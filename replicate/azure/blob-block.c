/* Small block blobs (a job's journal in a state container), listing a
 * container by prefix, and breaking a lease at once: the calls the
 * state container needs beside the page blob operations of blob.c.
 */
#include <inttypes.h>
#include <string.h>

#include "prep/common/common.h"
#include "replicate/azure/blob-internal.h"

int
blob_put_block_blob (struct blob *b, const void *data, size_t len,
                     const char *const *metadata, bool create_only)
{
  static const long ok[] = { 201, 0 };
  CLEANUP_FREE_STRING_LIST char **mh = meta_headers (metadata, blob_name (b));
  CLEANUP_FREE_STRING_LIST char **h = NULL;
  struct blob_reply rp = { 0 };
  size_t nm, n = 0;
  int ret;

  if (!mh)
    return -1;
  nm = count_strings (mh);
  h = calloc (nm + 4, sizeof *h);
  if (!h) {
    azp_error ("out of memory");
    return -1;
  }
  h[n++] = xstrdup ("x-ms-blob-type: BlockBlob");
  /* A create_only that finds the blob (409 or 412) is success. */
  h[n++] = xstrdup ("Content-Type: application/octet-stream");
  if (create_only)
    h[n++] = xstrdup ("If-None-Match: *");
  for (size_t i = 0; i < nm; i++)
    h[n++] = xstrdup (mh[i]);
  for (size_t i = 0; i < n; i++)
    if (!h[i])
      return -1;
  {
    static const long quiet[] = { 409, 412, 0 };
    struct blob_request r = { "PUT", NULL, (const char *const *) h, data, len,
                              true, ok, create_only ? quiet : NULL };
    ret = blob_request (b, &r, &rp);
  }
  blob_reply_free (&rp);
  return ret;
}

int
blob_get_all (struct blob *b, size_t max, char **data, size_t *len)
{
  static const long ok[] = { 200, 0 };
  static const long quiet[] = { 404, 0 };
  struct blob_request r = { "GET", NULL, NULL, NULL, 0, false, ok, quiet };
  struct blob_reply rp = { .body_max = max };
  int ret = -1;

  *data = NULL;
  *len = 0;
  if (blob_request (b, &r, &rp) == -1)
    goto out;
  if (rp.status == 404) {
    ret = 1;
    goto out;
  }
  *data = malloc (rp.body_len + 1);
  if (!*data) {
    azp_error ("out of memory");
    goto out;
  }
  if (rp.body_len)
    memcpy (*data, rp.body, rp.body_len);
  (*data)[rp.body_len] = '\0';
  *len = rp.body_len;
  ret = 0;
 out:
  blob_reply_free (&rp);
  return ret;
}

int
blob_list_query (struct blob *container, const char *include,
                 const char *prefix, const char *name, size_t max,
                 struct blob_list *out)
{
  CLEANUP_FREE char *marker = NULL, *pe = url_encode (prefix);
  static const long ok[] = { 200, 0 };
  static const long quiet403[] = { 403, 0 };

  memset (out, 0, sizeof *out);
  if (!pe)
    return -1;
  do {
    CLEANUP_FREE char *me = marker ? url_encode (marker) : NULL;
    CLEANUP_FREE char *q =
      xasprintf ("restype=container&comp=list&include=%s&prefix=%s%s%s",
                 include, pe, me ? "&marker=" : "", me ? me : "");
    struct blob_request r = { "GET", q, NULL, NULL, 0, false, ok, quiet403 };
    struct blob_reply rp = { .body_max = 64 * 1024 * 1024 };
    int pr;

    free (marker);
    marker = NULL;
    if (!q || blob_request (container, &r, &rp) == -1 || rp.status == 403) {
      pr = q && rp.status == 403 ? -2 : -1;
      blob_reply_free (&rp);
      blob_list_free (out);
      return pr;
    }
    pr = bloblist_parse (rp.body ? rp.body : "", rp.body_len,
                         blob_name (container), name, max, out, &marker);
    blob_reply_free (&rp);
    if (pr == -1) {
      blob_list_free (out);
      return -1;
    }
  } while (marker);
  return 0;
}

int
blob_list_prefix (struct blob *container, const char *prefix,
                  struct blob_list *out)
{
  int r = blob_list_query (container, "metadata", prefix, NULL, 1000000, out);

  if (r == -2)
    azp_error ("%s: cannot list the container (HTTP 403: does the SAS allow "
               "list?)", blob_name (container));
  return r < 0 ? -1 : 0;
}

int
blob_lease_break_now (struct blob *b)
{
  static const long ok[] = { 202, 0 };
  static const long quiet[] = { 409, 0 };
  const char *h[] = { "x-ms-lease-action: break",
                      "x-ms-lease-break-period: 0", NULL };
  struct blob_request r = { "PUT", "comp=lease", h, NULL, 0, false, ok,
                            quiet };
  struct blob_reply rp = { 0 };
  int ret = blob_request (b, &r, &rp);

  /* 409 LeaseNotPresentWithLeaseOperation: nothing to break. */
  if (ret == 0 && rp.status == 409 &&
      strcmp (rp.error_code, "LeaseNotPresentWithLeaseOperation")) {
    azp_error ("%s: cannot break the lease: HTTP 409 %s", blob_name (b),
               rp.error_code);
    ret = -1;
  }
  blob_reply_free (&rp);
  return ret;
}

/* blob_lease_try, and blob_lease_try_present with absent true. */
static int
lease_try (struct blob *b, const char *id, int duration, bool absent)
{
  static const long ok[] = { 201, 0 };
  static const long quiet[] = { 409, 0 }, quiet_absent[] = { 409, 404, 0 };
  char durh[64], proph[128];
  const char *h[] = { "x-ms-lease-action: acquire", durh, proph, NULL };
  struct blob_request r = { "PUT", "comp=lease", h, NULL, 0, false, ok,
                            absent ? quiet_absent : quiet };
  struct blob_reply rp = { 0 };
  int ret;

  snprintf (durh, sizeof durh, "x-ms-lease-duration: %d", duration);
  snprintf (proph, sizeof proph, "x-ms-proposed-lease-id: %s", id);
  ret = blob_request (b, &r, &rp);
  if (ret == 0 && rp.status == 409) {
    if (strcmp (rp.error_code, "LeaseAlreadyPresent"))
      azp_error ("%s: cannot acquire its lease: HTTP 409 %s", blob_name (b),
                 rp.error_code);
    ret = -1;
  }
  else if (ret == 0 && rp.status == 404)
    ret = -1;
  blob_reply_free (&rp);
  return ret;
}

int
blob_lease_try (struct blob *b, const char *id, int duration)
{
  return lease_try (b, id, duration, false);
}

int
blob_lease_try_present (struct blob *b, const char *id, int duration)
{
  return lease_try (b, id, duration, true);
}
