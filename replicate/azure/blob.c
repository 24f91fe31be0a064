/* The blob client's operations: one function per REST call. */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "replicate/azure/blob-internal.h"

static const long ok200[] = { 200, 0 };
static const long ok201[] = { 201, 0 };
static const long ok_del[] = { 202, 0 };
static const long quiet404[] = { 404, 0 };

/* "x-ms-meta-name: value" header lines from "name=value" strings. */
char **
meta_headers (const char *const *metadata, const char *what)
{
  size_t n = count_strings ((char *const *) metadata);
  char **h = calloc (n + 1, sizeof *h);

  if (!h) {
    azp_error ("out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const char *eq = strchr (metadata[i], '=');
    if (!eq || eq == metadata[i] || strpbrk (metadata[i], "\r\n") ||
        strcspn (metadata[i], ":") < (size_t) (eq - metadata[i])) {
      azp_error ("%s: bad metadata \"%s\"", what, metadata[i]);
      free_string_list (h);
      return NULL;
    }
    h[i] = xasprintf ("x-ms-meta-%.*s: %s", (int) (eq - metadata[i]),
                      metadata[i], eq + 1);
    if (!h[i]) {
      free_string_list (h);
      return NULL;
    }
  }
  return h;
}

static char *
snapshot_query (const char *snapshot, const char *rest)
{
  CLEANUP_FREE char *e = NULL;
  if (!snapshot)
    return rest ? xstrdup (rest) : NULL;
  e = url_encode (snapshot);
  if (!e)
    return NULL;
  return rest ? xasprintf ("snapshot=%s&%s", e, rest)
    : xasprintf ("snapshot=%s", e);
}

int
blob_container_create (struct blob_client *c, const char *container)
{
  static const long ok[] = { 201, 0 };
  static const long quiet[] = { 409, 0 };
  struct blob *b = blob_open (c, container, NULL);
  struct blob_request r = { "PUT", "restype=container", NULL, NULL, 0,
                            false, ok, quiet };
  struct blob_reply rp = { 0 };
  int ret = -1;

  if (!b)
    return -1;
  if (blob_request (b, &r, &rp) == 0) {
    if (rp.status == 409 && strcmp (rp.error_code, "ContainerAlreadyExists")) {
      azp_error ("%s: cannot create the container: HTTP 409 %s", blob_name (b),
                 rp.error_code);
    }
    else
      ret = 0;
  }
  blob_reply_free (&rp);
  blob_close (b);
  return ret;
}

int
blob_get_properties (struct blob *b, const char *snapshot,
                     struct blob_props *p)
{
  CLEANUP_FREE char *q = snapshot_query (snapshot, NULL);
  struct blob_request r = { "HEAD", q, NULL, NULL, 0, false, ok200, quiet404 };
  struct blob_reply rp = { 0 };
  int ret = -1;

  memset (p, 0, sizeof *p);
  if (snapshot && !q)
    return -1;
  if (blob_request (b, &r, &rp) == -1)
    goto out;
  ret = 0;
  if (rp.status == 404)
    goto out;
  p->exists = true;
  p->size = rp.content_length;
  p->blob_type = xstrdup (rp.blob_type);
  p->etag = xstrdup (rp.etag);
  p->lease_state = xstrdup (rp.lease_state);
  p->copy_status = rp.copy_status[0] ? xstrdup (rp.copy_status) : NULL;
  p->metadata = rp.meta;
  rp.meta = NULL;
  if (!p->metadata)
    p->metadata = calloc (1, sizeof (char *));
  if (!p->blob_type || !p->etag || !p->lease_state || !p->metadata) {
    blob_props_free (p);
    ret = -1;
  }
 out:
  blob_reply_free (&rp);
  return ret;
}

void
blob_props_free (struct blob_props *p)
{
  free (p->blob_type);
  free (p->etag);
  free (p->lease_state);
  free (p->copy_status);
  free_string_list (p->metadata);
  memset (p, 0, sizeof *p);
}

const char *
blob_meta_get (char *const *metadata, const char *name)
{
  size_t n = strlen (name);
  for (size_t i = 0; metadata && metadata[i]; i++)
    if (strncasecmp (metadata[i], name, n) == 0 && metadata[i][n] == '=')
      return metadata[i] + n + 1;
  return NULL;
}

const char *
blob_props_meta (const struct blob_props *p, const char *name)
{
  return blob_meta_get (p->metadata, name);
}

int
blob_create_page_blob (struct blob *b, uint64_t size,
                       const char *const *metadata)
{
  CLEANUP_FREE_STRING_LIST char **h = NULL;
  CLEANUP_FREE_STRING_LIST char **mh = meta_headers (metadata, blob_name (b));
  struct blob_reply rp = { 0 };
  size_t nm, n = 0;
  int ret;

  if (!mh)
    return -1;
  if (size % BLOB_PAGE != 0) {
    azp_error ("%s: page blob size %" PRIu64 " is not a multiple of 512",
               blob_name (b), size);
    return -1;
  }
  nm = count_strings (mh);
  h = calloc (nm + 5, sizeof *h);
  if (!h)
    return -1;
  h[n++] = xstrdup ("x-ms-blob-type: PageBlob");
  h[n++] = xasprintf ("x-ms-blob-content-length: %" PRIu64, size);
  h[n++] = xstrdup ("x-ms-blob-sequence-number: 0");
  h[n++] = xstrdup ("If-None-Match: *");
  for (size_t i = 0; i < nm; i++) {
    h[n++] = mh[i];
    mh[i] = NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (!h[i])
      return -1;
  struct blob_request r = { "PUT", NULL, (const char *const *) h, NULL, 0,
                            false, ok201, NULL };
  ret = blob_request (b, &r, &rp);
  blob_reply_free (&rp);
  return ret;
}

static int
check_pages (struct blob *b, uint64_t offset, uint64_t len)
{
  if (offset % BLOB_PAGE != 0 || len % BLOB_PAGE != 0 || len == 0) {
    azp_error ("%s: page range %" PRIu64 "+%" PRIu64 " is not 512-aligned",
               blob_name (b), offset, len);
    return -1;
  }
  return 0;
}

int
blob_put_page (struct blob *b, uint64_t offset, const void *buf, size_t len)
{
  char md5[25], rangeh[80], md5h[48];
  const char *h[] = { "x-ms-page-write: update", rangeh,
                      b->no_md5 ? NULL : md5h, NULL };
  struct blob_request r = { "PUT", "comp=page", h, buf, len, true, ok201,
                            NULL };
  struct blob_reply rp = { 0 };
  uint64_t t0 = monotonic_ns (), t1;
  int ret;

  if (check_pages (b, offset, len) == -1)
    return -1;
  if (len > BLOB_MAX_PUT) {
    azp_error ("%s: Put Page of %zu bytes is over the 4 MiB limit",
               blob_name (b),
               len);
    return -1;
  }
  if (!b->no_md5)
    md5_base64 (buf, len, md5);
  t1 = monotonic_ns ();
  snprintf (rangeh, sizeof rangeh, "x-ms-range: bytes=%" PRIu64 "-%" PRIu64,
            offset, offset + len - 1);
  if (!b->no_md5)
    snprintf (md5h, sizeof md5h, "Content-MD5: %s", md5);
  ret = blob_request (b, &r, &rp);
  blob_reply_free (&rp);
  __atomic_add_fetch (&b->puts, 1, __ATOMIC_RELAXED);
  __atomic_add_fetch (&b->md5_ns, t1 - t0, __ATOMIC_RELAXED);
  __atomic_add_fetch (&b->put_ns, monotonic_ns () - t0, __ATOMIC_RELAXED);
  return ret;
}

int
blob_clear_pages (struct blob *b, uint64_t offset, uint64_t len)
{
  char rangeh[80];
  const char *h[] = { "x-ms-page-write: clear", rangeh, NULL };
  struct blob_request r = { "PUT", "comp=page", h, NULL, 0, true, ok201,
                            NULL };
  struct blob_reply rp = { 0 };
  int ret;

  if (check_pages (b, offset, len) == -1)
    return -1;
  snprintf (rangeh, sizeof rangeh, "x-ms-range: bytes=%" PRIu64 "-%" PRIu64,
            offset, offset + len - 1);
  ret = blob_request (b, &r, &rp);
  blob_reply_free (&rp);
  return ret;
}

int
blob_get_range (struct blob *b, const char *snapshot, uint64_t offset,
                void *buf, size_t len)
{
  static const long ok[] = { 206, 200, 0 };
  CLEANUP_FREE char *q = snapshot_query (snapshot, NULL);
  char rangeh[80];
  const char *h[] = { rangeh, NULL };
  struct blob_request r = { "GET", q, h, NULL, 0, false, ok, NULL };
  struct blob_reply rp = { .body = buf, .body_cap = len, .body_max = len,
                           .body_fixed = true };
  int ret;

  if (len == 0)
    return 0;
  if (snapshot && !q)
    return -1;
  snprintf (rangeh, sizeof rangeh, "x-ms-range: bytes=%" PRIu64 "-%" PRIu64,
            offset, offset + len - 1);
  ret = blob_request (b, &r, &rp);
  if (ret == 0 && rp.body_len != len) {
    azp_error ("%s: short read at %" PRIu64 ": %zu of %zu bytes", blob_name (b),
               offset, rp.body_len, len);
    ret = -1;
  }
  blob_reply_free (&rp);
  return ret;
}

int
blob_get_page_ranges (struct blob *b, const char *snapshot, uint64_t offset,
                      uint64_t len, struct rangelist *out)
{
  CLEANUP_FREE char *marker = NULL;
  char rangeh[80];
  const char *h[] = { rangeh, NULL };
  int ret = -1;

  snprintf (rangeh, sizeof rangeh, "x-ms-range: bytes=%" PRIu64 "-%" PRIu64,
            offset, offset + len - 1);
  do {
    CLEANUP_FREE char *me = marker ? url_encode (marker) : NULL;
    CLEANUP_FREE char *rest = me ? xasprintf ("comp=pagelist&marker=%s", me)
      : xstrdup ("comp=pagelist");
    CLEANUP_FREE char *q = rest ? snapshot_query (snapshot, rest) : NULL;
    struct blob_request r = { "GET", q, len ? h : NULL, NULL, 0, false, ok200,
                              NULL };
    struct blob_reply rp = { .body_max = 64 * 1024 * 1024 };
    int pr;

    if (!q)
      return -1;
    if (blob_request (b, &r, &rp) == -1) {
      blob_reply_free (&rp);
      return -1;
    }
    free (marker);
    marker = NULL;
    pr = pagelist_parse (rp.body ? rp.body : "", rp.body_len, blob_name (b),
                         4 * 1024 * 1024, out, NULL, &marker);
    blob_reply_free (&rp);
    if (pr == -1)
      return -1;
  } while (marker);
  ret = 0;
  return ret;
}

int
blob_snapshot (struct blob *b, const char *const *metadata, char **snapshot)
{
  CLEANUP_FREE_STRING_LIST char **mh = meta_headers (metadata, blob_name (b));
  struct blob_request r = { "PUT", "comp=snapshot",
                            (const char *const *) mh, NULL, 0, true, ok201,
                            NULL };
  struct blob_reply rp = { 0 };
  int ret = -1;

  *snapshot = NULL;
  if (!mh)
    return -1;
  if (blob_request (b, &r, &rp) == 0) {
    if (!rp.snapshot[0])
      azp_error ("%s: Snapshot Blob: no x-ms-snapshot in the reply",
                 blob_name (b));
    else if ((*snapshot = xstrdup (rp.snapshot)) != NULL)
      ret = 0;
  }
  blob_reply_free (&rp);
  return ret;
}

int
blob_list_snapshots (struct blob *container, const char *name,
                     struct blob_list *out)
{
  return blob_list_query (container, "snapshots,metadata", name, name,
                          100000, out);
}

int
blob_delete (struct blob *b, const char *snapshot, bool include_snapshots)
{
  CLEANUP_FREE char *q = snapshot_query (snapshot, NULL);
  const char *h[] = { "x-ms-delete-snapshots: include", NULL };
  struct blob_request r = { "DELETE", q, include_snapshots && !snapshot
                            ? h : NULL, NULL, 0, !snapshot, ok_del,
                            quiet404 };
  struct blob_reply rp = { 0 };
  int ret;

  if (snapshot && !q)
    return -1;
  ret = blob_request (b, &r, &rp);
  blob_reply_free (&rp);
  return ret;
}

int
blob_delete_breaking (struct blob *b)
{
  struct blob_props p = { 0 };
  int r = -1;

  if (blob_get_properties (b, NULL, &p) == -1)
    goto out;
  r = 0;
  if (!p.exists)
    goto out;
  if (p.lease_state && strcmp (p.lease_state, "available") &&
      strcmp (p.lease_state, "broken") && blob_lease_break_now (b) == -1)
    r = -1;
  else
    r = blob_delete (b, NULL, true);
 out:
  blob_props_free (&p);
  return r;
}

int
blob_copy_from (struct blob *b, struct blob *src, const char *snapshot)
{
  static const long ok[] = { 202, 201, 0 };
  CLEANUP_FREE char *se = snapshot ? url_encode (snapshot) : NULL;
  CLEANUP_FREE char *srcurl = NULL, *srch = NULL, *srca = NULL;
  struct blob_reply rp = { 0 };
  int ret = -1;

  if (snapshot && !se)
    return -1;
  if (src->sas)
    srcurl = se ? xasprintf ("%s?snapshot=%s&%s", src->url, se, src->sas)
      : xasprintf ("%s?%s", src->url, src->sas);
  else
    srcurl = se ? xasprintf ("%s?snapshot=%s", src->url, se)
      : xstrdup (src->url);
  if (!srcurl || !(srch = xasprintf ("x-ms-copy-source: %s", srcurl)))
    return -1;
  /* With Entra ID the source is authorized by a token too. */
  if (!src->sas && b->c->tokens) {
    CLEANUP_FREE char *tok = token_source_get (b->c->tokens, NULL);
    if (!tok)
      return -1;
    srca = xasprintf ("x-ms-copy-source-authorization: Bearer %s", tok);
    memset (tok, 0, strlen (tok));
    if (!srca)
      return -1;
  }
  {
    const char *h[] = { srch, srca, NULL };
    struct blob_request r = { "PUT", NULL, h, NULL, 0, false, ok, NULL };
    ret = blob_request (b, &r, &rp);
  }
  memset (srch, 0, strlen (srch));
  memset (srcurl, 0, strlen (srcurl));
  if (srca)
    memset (srca, 0, strlen (srca));
  if (ret == -1)
    goto out;
  /* Poll until the copy is no longer pending, within a deadline: waited
   * counts the seconds slept, each sleep ends at the deadline at most. */
  for (unsigned delay = 1, waited = 0, limit = b->c->opts.copy_timeout_s
         ? b->c->opts.copy_timeout_s : 4 * 3600;
       !strcmp (rp.copy_status, "pending"); ) {
    struct blob_props p;
    if (waited >= limit) {
      azp_error ("%s: the copy from %s is still pending after %u s: "
                 "stopped waiting (it may still complete; run the command "
                 "again)", blob_name (b), blob_name (src), waited);
      ret = -1;
      goto out;
    }
    if (delay > limit - waited)
      delay = limit - waited;
    if (!blob_client_sleep (b->c, delay * 1000ull)) {
      azp_error ("%s: stopped while the copy from %s was pending",
                 blob_name (b), blob_name (src));
      ret = -1;
      goto out;
    }
    waited += delay;
    if (delay < 10)
      delay *= 2;
    if (blob_get_properties (b, NULL, &p) == -1) {
      ret = -1;
      goto out;
    }
    snprintf (rp.copy_status, sizeof rp.copy_status, "%s",
              p.copy_status ? p.copy_status : "");
    blob_props_free (&p);
  }
  if (strcmp (rp.copy_status, "success") != 0) {
    azp_error ("%s: copy from %s: status %s", blob_name (b), blob_name (src),
               rp.copy_status[0] ? rp.copy_status : "unknown");
    ret = -1;
  }
 out:
  blob_reply_free (&rp);
  return ret;
}

int
blob_set_metadata (struct blob *b, const char *const *metadata)
{
  CLEANUP_FREE_STRING_LIST char **mh = meta_headers (metadata, blob_name (b));
  struct blob_request r = { "PUT", "comp=metadata",
                            (const char *const *) mh, NULL, 0, true, ok200,
                            NULL };
  struct blob_reply rp = { 0 };
  int ret;

  if (!mh)
    return -1;
  ret = blob_request (b, &r, &rp);
  blob_reply_free (&rp);
  return ret;
}

int
blob_lease_acquire (struct blob *b, const char *proposed_id, int duration,
                    char **lease_id)
{
  char durh[64], proph[128];
  const char *h[] = { "x-ms-lease-action: acquire", durh,
                      proposed_id ? proph : NULL, NULL };
  struct blob_request r = { "PUT", "comp=lease", h, NULL, 0, false, ok201,
                            NULL };
  struct blob_reply rp = { 0 };
  int ret = -1;

  *lease_id = NULL;
  snprintf (durh, sizeof durh, "x-ms-lease-duration: %d", duration);
  if (proposed_id)
    snprintf (proph, sizeof proph, "x-ms-proposed-lease-id: %s", proposed_id);
  if (blob_request (b, &r, &rp) == 0 &&
      (*lease_id = xstrdup (rp.lease_id)) != NULL &&
      blob_set_lease_id (b, rp.lease_id) == 0)
    ret = 0;
  blob_reply_free (&rp);
  return ret;
}

static int
lease_op (struct blob *b, const char *action, const long *ok)
{
  CLEANUP_FREE char *lease = NULL, *ah = xasprintf ("x-ms-lease-action: %s",
                                                     action);
  CLEANUP_FREE char *lh = NULL;
  struct blob_reply rp = { 0 };
  int ret;

  pthread_mutex_lock (&b->lock);
  lease = b->lease_id ? xstrdup (b->lease_id) : NULL;
  pthread_mutex_unlock (&b->lock);
  if (lease)
    lh = xasprintf ("x-ms-lease-id: %s", lease);
  const char *h[] = { ah, lh, NULL };
  struct blob_request r = { "PUT", "comp=lease", h, NULL, 0, false, ok,
                            NULL };
  if (!ah)
    return -1;
  ret = blob_request (b, &r, &rp);
  blob_reply_free (&rp);
  if (ret == 0 && strcmp (action, "renew") != 0)
    blob_set_lease_id (b, NULL);
  return ret;
}

int
blob_lease_renew (struct blob *b)
{
  return lease_op (b, "renew", ok200);
}

int
blob_lease_release (struct blob *b)
{
  return lease_op (b, "release", ok200);
}

int
blob_resize (struct blob *b, uint64_t size)
{
  char sizeh[80];
  const char *h[] = { sizeh, NULL };
  struct blob_request r = { "PUT", "comp=properties", h, NULL, 0, true,
                            ok200, NULL };
  struct blob_reply rp = { 0 };
  int ret;

  snprintf (sizeh, sizeof sizeh, "x-ms-blob-content-length: %" PRIu64, size);
  ret = blob_request (b, &r, &rp);
  blob_reply_free (&rp);
  return ret;
}
