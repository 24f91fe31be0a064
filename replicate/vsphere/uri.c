/* vsphere:// disk URIs: parsing and formatting (pure), and finding the
 * VM and disk they name in an inventory.
 *
 *   vsphere://HOST[:PORT]/[DCPATH/]VMNAME/DISKINDEX[?OPTIONS]
 *   vsphere://HOST[:PORT]/DCPATH/[DATASTORE] PATH/disk.vmdk[?OPTIONS]
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "prep/common/common.h"
#include "prep/common/url.h"
#include "replicate/vsphere/vsphere.h"

#define SCHEME "vsphere://"

bool
vsphere_uri_p (const char *s)
{
  return s && !strncmp (s, SCHEME, strlen (SCHEME));
}

/* Percent-decode n bytes of s.  NULL (reported) on a bad escape or an
 * encoded NUL. */
static char *
decode (const char *uri, const char *s, size_t n)
{
  char *r = url_decode (s, n, 0);

  if (!r && errno == ENOMEM)
    azp_error ("out of memory");
  else if (!r)
    azp_error ("%s: bad percent-encoding", uri);
  return r;
}

static int
parse_query (const char *uri, const char *q, struct vsphere_uri *u)
{
  while (q && *q) {
    const char *amp = strchr (q, '&'), *eq;
    size_t n = amp ? (size_t) (amp - q) : strlen (q);
    CLEANUP_FREE char *key = NULL, *val = NULL;

    eq = memchr (q, '=', n);
    if (!eq) {
      azp_error ("%s: option '%.*s' needs a value (KEY=VALUE)", uri, (int) n,
                 q);
      return -1;
    }
    key = decode (uri, q, eq - q);
    val = decode (uri, eq + 1, n - (eq + 1 - q));
    if (!key || !val)
      return -1;
    if (!strcmp (key, "cacert")) {
      free (u->cacert);
      u->cacert = val;
      val = NULL;
    }
    else if (!strcmp (key, "credentials")) {
      free (u->credentials);
      u->credentials = val;
      val = NULL;
    }
    else if (!strcmp (key, "insecure"))
      u->insecure = !strcmp (val, "1") || !strcmp (val, "true");
    else if (!strcmp (key, "http"))
      u->http = !strcmp (val, "1") || !strcmp (val, "true");
    else if (!strcmp (key, "quiesce"))
      u->quiesce = !strcmp (val, "1") || !strcmp (val, "true");
    else {
      azp_error ("%s: unknown option '%s' (cacert, credentials, insecure, "
                 "http, "
                 "quiesce)", uri, key);
      return -1;
    }
    q = amp ? amp + 1 : NULL;
  }
  return 0;
}

/* The path's segments (between '/'), decoded, into a NULL-terminated
 * list. */
static char **
split_path (const char *uri, const char *p, const char *end)
{
  char **seg = NULL;
  size_t nseg = 0;

  for (;;) {
    const char *slash = memchr (p, '/', end - p);
    size_t n = slash ? (size_t) (slash - p) : (size_t) (end - p);
    char **ns = realloc (seg, (nseg + 2) * sizeof *ns);
    if (!ns) {
      azp_error ("out of memory");
      goto fail;
    }
    seg = ns;
    seg[nseg] = decode (uri, p, n);
    seg[nseg + 1] = NULL;
    if (!seg[nseg])
      goto fail;
    if (!seg[nseg++][0]) {
      azp_error ("%s: empty path segment", uri);
      goto fail;
    }
    if (!slash)
      return seg;
    p = slash + 1;
  }
 fail:
  free_string_list (seg);
  return NULL;
}

/* seg[from..to) joined with '/'. */
static char *
join (char **seg, size_t from, size_t to)
{
  size_t len = 1;
  char *r, *q;

  for (size_t i = from; i < to; i++)
    len += strlen (seg[i]) + 1;
  r = q = malloc (len);
  if (!r) {
    azp_error ("out of memory");
    return NULL;
  }
  *q = '\0';
  for (size_t i = from; i < to; i++)
    q += snprintf (q, len - (q - r), "%s%s", i > from ? "/" : "", seg[i]);
  return r;
}

/* What the segments name: DCPATH/[DS] dir/file.vmdk, or
 * [DCPATH/]VM/DISKINDEX.  The datacenter path is what comes before. */
static int
parse_segments (const char *s, char **seg, struct vsphere_uri *u)
{
  size_t nseg = count_strings (seg), ndc, first_ds = nseg;
  int64_t idx;

  for (size_t i = 0; i < nseg && first_ds == nseg; i++)
    if (seg[i][0] == '[')
      first_ds = i;
  if (first_ds == 0) {
    azp_error ("%s: a datastore path needs the datacenter before it "
               "(vsphere://HOST/DC/[DS] dir/disk.vmdk)", s);
    return -1;
  }
  if (first_ds < nseg) {
    CLEANUP_FREE char *dsp = join (seg, first_ds, nseg);
    if (!dsp || vsphere_split_ds_path (dsp, &u->ds, &u->ds_path) == -1)
      return -1;
    ndc = first_ds;
  }
  else {
    if (nseg < 2 || parse_int64 (seg[nseg - 1], &idx) == -1 || idx < 0 ||
        idx > 10000) {
      azp_error ("%s: expected vsphere://HOST/[DC/]VM/DISKINDEX (the disk "
                 "index "
                 "counts from 0)", s);
      return -1;
    }
    u->disk = (int) idx;
    u->vm = xstrdup (seg[nseg - 2]);
    if (!u->vm)
      return -1;
    ndc = nseg - 2;
  }
  if (ndc > 0) {
    u->dcpath = join (seg, 0, ndc);
    if (!u->dcpath)
      return -1;
  }
  return 0;
}

int
vsphere_uri_parse (const char *s, struct vsphere_uri *u)
{
  const char *host, *path, *query;
  CLEANUP_FREE_STRING_LIST char **seg = NULL;

  memset (u, 0, sizeof *u);
  u->disk = -1;
  if (!vsphere_uri_p (s)) {
    azp_error ("%s: not a vsphere:// URI", s);
    return -1;
  }
  host = s + strlen (SCHEME);
  path = strchr (host, '/');
  query = strchr (host, '?');
  if (!path || (query && query < path) || path == host) {
    azp_error ("%s: expected vsphere://HOST/[DC/]VM/DISK", s);
    return -1;
  }
  if (memchr (host, '@', path - host)) {
    azp_error ("vsphere:// URIs must not carry credentials; use VSPHERE_USER "
               "and VSPHERE_PASSWORD or credentials=FILE");
    return -1;
  }
  u->host = strndup (host, path - host);
  if (!u->host || parse_query (s, query ? query + 1 : NULL, u) == -1)
    goto fail;
  seg = split_path (s, path + 1, query ? query : path + strlen (path));
  if (!seg || parse_segments (s, seg, u) == -1)
    goto fail;
  return 0;

 fail:
  vsphere_uri_free (u);
  return -1;
}

void
vsphere_uri_free (struct vsphere_uri *u)
{
  free (u->host); free (u->dcpath); free (u->vm); free (u->ds);
  free (u->ds_path); free (u->cacert); free (u->credentials);
  memset (u, 0, sizeof *u);
}

char *
vsphere_uri_format (const struct vsphere *v, const char *dcpath,
                    const char *vm, size_t disk)
{
  const struct vsphere_opts *o = vsphere_options (v);
  CLEANUP_FREE char *edc = url_encode_keep (dcpath ? dcpath : "", "/");
  CLEANUP_FREE char *evm = url_encode (vm);
  CLEANUP_FREE char *eca = o->cacert ? url_encode_keep (o->cacert, "/")
    : NULL;
  CLEANUP_FREE char *ecr = o->credentials
    ? url_encode_keep (o->credentials, "/") : NULL;
  bool http = !strncmp (vsphere_base (v), "http:", 5);
  /* Never insecure=1: only a command-line flag skips verification, for
   * the run that gives it (http=1 says what the endpoint is, and needs
   * --vsphere-allow-http to be used). */
  CLEANUP_FREE char *q = xasprintf ("%s%s%s%s%s",
                                    http ? "&http=1" : "",
                                    eca ? "&cacert=" : "", eca ? eca : "",
                                    ecr ? "&credentials=" : "",
                                    ecr ? ecr : "");

  if (!edc || !evm || !q)
    return NULL;
  /* q starts with '&' when not empty: it becomes '?'. */
  return xasprintf ("vsphere://%s/%s%s%s/%zu%s%s", vsphere_host (v), edc,
                    *edc ? "/" : "", evm, disk, *q ? "?" : "",
                    *q ? q + 1 : "");
}

int
vsphere_opts_from_uri (const struct vsphere_uri *u, struct vsphere_opts *o)
{
  const char *ca = u->cacert ? u->cacert : getenv ("VSPHERE_CACERT");
  const struct lowered *l = opt_lowered ();

  memset (o, 0, sizeof *o);
  /* A URI comes from a fleet file, a journal, someone else: it cannot
   * decide to send the vCenter password unencrypted or unverified. */
  if (u->http && !l->vsphere_allow_http) {
    azp_error ("vsphere://%s: http=1 in a URI is refused (the vCenter "
               "password would travel in clear text); to allow plain HTTP "
               "for this run, give --vsphere-allow-http", u->host);
    return -1;
  }
  if (u->insecure && !l->vsphere_insecure) {
    azp_error ("vsphere://%s: insecure=1 in a URI is refused (the vCenter "
               "password would go to a server whose certificate is not "
               "verified); to skip verification for this run, give "
               "--vsphere-insecure", u->host);
    return -1;
  }
  if (u->http)
    azp_warning ("vCenter %s: plain HTTP (--vsphere-allow-http): the "
                 "password and the disks travel unencrypted", u->host);
  else if (l->vsphere_insecure)
    azp_warning ("vCenter %s: TLS certificate not verified "
                 "(--vsphere-insecure): whoever answers gets the password",
                 u->host);
  o->url = xasprintf ("%s://%s/sdk", u->http ? "http" : "https", u->host);
  o->cacert = ca ? xstrdup (ca) : NULL;
  o->credentials = u->credentials ? xstrdup (u->credentials) : NULL;
  o->insecure = l->vsphere_insecure;
  if (!o->url || (ca && !o->cacert) || (u->credentials && !o->credentials)) {
    vsphere_opts_free (o);
    return -1;
  }
  return 0;
}

void
vsphere_opts_free (struct vsphere_opts *o)
{
  free (o->url);
  free (o->cacert);
  free (o->credentials);
  memset (o, 0, sizeof *o);
}

const struct vsphere_vm *
vsphere_find_vm (const struct vsphere_inventory *inv, const char *dcpath,
                 const char *name, const char *vcenter)
{
  const struct vsphere_vm *found = NULL;
  size_t n = 0;

  for (size_t i = 0; i < inv->nvms; i++) {
    const struct vsphere_vm *vm = &inv->vms[i];
    if (!vm->name || strcmp (vm->name, name))
      continue;
    if (dcpath && (!vm->datacenter || strcmp (vm->datacenter, dcpath)))
      continue;
    found = vm;
    n++;
  }
  if (n == 0) {
    azp_error ("%s: no VM named '%s'%s%s", vcenter, name,
               dcpath ? " in datacenter " : "", dcpath ? dcpath : "");
    return NULL;
  }
  if (n > 1) {
    azp_error ("%s: %zu VMs are named '%s'; give the datacenter "
               "(vsphere://HOST/DC/VM/DISK)", vcenter, n, name);
    return NULL;
  }
  return found;
}

char *
vsphere_disk_unreadable (const struct vsphere_inventory *inv,
                         const struct vsphere_vm *vm, size_t i)
{
  const struct vsphere_disk *d = &vm->disks[i];
  const struct vsphere_datastore *ds;

  if (!strcmp (d->backing, "rdm"))
    return xasprintf ("disk %zu (%s) is a raw device mapping (RDM): it has "
                      "no file on a datastore to read; migrate the LUN "
                      "separately", i, d->label ? d->label : "?");
  if (strcmp (d->backing, "flat"))
    return xasprintf ("disk %zu (%s) is a %s disk: only flat disks can be "
                      "read over the datastore endpoint", i,
                      d->label ? d->label : "?", d->backing);
  if (!d->base_file || !d->datastore)
    return xasprintf ("disk %zu has no datastore file", i);
  ds = vsphere_inventory_datastore (inv, vm->datacenter, d->datastore);
  if (ds && !ds->accessible)
    return xasprintf ("disk %zu is on datastore %s, which is not accessible",
                      i, d->datastore);
  /* vSAN and vVols keep disks as objects: no -flat.vmdk to GET. */
  if (ds && ds->type && (!strcasecmp (ds->type, "vsan") ||
                         !strcasecmp (ds->type, "VVOL")))
    return xasprintf ("disk %zu is on %s datastore %s, whose disks have no "
                      "flat file the datastore endpoint can serve; Storage "
                      "vMotion it to a VMFS or NFS datastore first", i,
                      ds->type, ds->name);
  return NULL;
}

int
vsphere_disk_readable (const struct vsphere_inventory *inv,
                       const struct vsphere_vm *vm, size_t i)
{
  CLEANUP_FREE char *why = vsphere_disk_unreadable (inv, vm, i);

  if (why) {
    azp_error ("%s: %s", vm->name, why);
    return -1;
  }
  return 0;
}
