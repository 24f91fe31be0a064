/* vSphere SOAP, the pure parts: envelopes, escaping, safe parsing,
 * faults, datastore paths and URLs.  No network here (unit tested by
 * replicate/vsphere/test-vsphere.c).
 */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/url.h"
#include "prep/common/xml.h"
#include "replicate/vsphere/vsphere.h"

#define SOAPENV_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

char *
vsphere_xml_escape (const char *s)
{
  size_t len = 0;
  char *r, *p;

  for (const char *q = s; *q; q++) {
    switch (*q) {
    case '&': len += 5; break;
    case '<': case '>': len += 4; break;
    case '"': case '\'': len += 6; break;
    default: len++;
    }
  }
  r = malloc (len + 1);
  if (!r) {
    azp_error ("out of memory");
    return NULL;
  }
  p = r;
  for (const char *q = s; *q; q++) {
    const char *e = NULL;
    switch (*q) {
    case '&': e = "&amp;"; break;
    case '<': e = "&lt;"; break;
    case '>': e = "&gt;"; break;
    case '"': e = "&quot;"; break;
    case '\'': e = "&apos;"; break;
    }
    if (e) {
      size_t n = strlen (e);
      memcpy (p, e, n);
      p += n;
    }
    else
      *p++ = *q;
  }
  *p = '\0';
  return r;
}

char *
vsphere_envelope (const char *body)
{
  return xasprintf ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<soapenv:Envelope"
                    " xmlns:soapenv=\"" SOAPENV_NS "\""
                    " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
                    " xmlns:xsi=\"" XSI_NS "\">"
                    "<soapenv:Body>%s</soapenv:Body></soapenv:Envelope>",
                    body);
}

xmlDocPtr
vsphere_parse_xml (const char *buf, size_t len, const char *what)
{
  const struct xml_parse_opts xo = {
    .what = what, .max_size = VSPHERE_MAX_RESPONSE,
    .too_large = "response too large",
    .not_xml = "the response is not well-formed XML",
    .has_dtd = "the response has a DTD; refused",
  };

  return xml_parse_safe (buf, len, &xo);
}

static bool
is_elem (xmlNodePtr n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE &&
    !strcmp ((const char *) n->name, name);
}

xmlNodePtr
vsphere_child (xmlNodePtr n, const char *name)
{
  if (!n)
    return NULL;
  for (xmlNodePtr c = n->children; c; c = c->next)
    if (is_elem (c, name))
      return c;
  return NULL;
}

char *
vsphere_child_text (xmlNodePtr n, const char *name)
{
  xmlNodePtr c = vsphere_child (n, name);
  CLEANUP_XMLFREE xmlChar *t = c ? xmlNodeGetContent (c) : NULL;

  if (!c)
    return NULL;
  return xstrdup (t ? (const char *) t : "");
}

char *
vsphere_xsi_type (xmlNodePtr n)
{
  CLEANUP_XMLFREE xmlChar *t =
    xmlGetNsProp (n, BAD_CAST "type", BAD_CAST XSI_NS);
  const char *s, *colon;

  if (!t)
    return NULL;
  /* Drop a namespace prefix ("xsd:string"). */
  s = (const char *) t;
  colon = strchr (s, ':');
  return xstrdup (colon ? colon + 1 : s);
}

void
vsphere_fault_clear (struct vsphere_fault *f)
{
  free (f->type);
  free (f->message);
  free (f->detail);
  memset (f, 0, sizeof *f);
}

/* The detail of the faults whose messages name something. */
static void
fault_detail (xmlNodePtr fault, struct vsphere_fault *f)
{
  char *priv = vsphere_child_text (fault, "privilegeId");
  xmlNodePtr obj = vsphere_child (fault, "object");
  if (!obj)
    obj = vsphere_child (fault, "obj");
  if (priv) {
    f->detail = priv;
    return;
  }
  if (obj) {
    CLEANUP_XMLFREE xmlChar *t = xmlNodeGetContent (obj);
    f->detail = xstrdup (t ? (const char *) t : "");
  }
}

/* The detail of fault node d (if any); the type "SystemError" when the
 * fault gave none. */
static void
fault_finish (xmlNodePtr d, struct vsphere_fault *f)
{
  if (d)
    fault_detail (d, f);
  if (!f->type)
    f->type = xstrdup ("SystemError");
}

/* <Fault><faultstring>..</faultstring><detail><XFault xsi:type="X"> */
static void
parse_soap_fault (xmlNodePtr fault, struct vsphere_fault *f)
{
  xmlNodePtr detail = vsphere_child (fault, "detail"), d = NULL;

  f->message = vsphere_child_text (fault, "faultstring");
  if (detail)
    for (d = detail->children; d && d->type != XML_ELEMENT_NODE; d = d->next)
      ;
  if (d) {
    f->type = vsphere_xsi_type (d);
    if (!f->type) {
      /* <InvalidLoginFault> without xsi:type: strip "Fault". */
      const char *n = (const char *) d->name;
      size_t len = strlen (n);
      if (len > 5 && !strcmp (n + len - 5, "Fault"))
        f->type = strndup (n, len - 5);
      else
        f->type = xstrdup (n);
    }
  }
  fault_finish (d, f);
}

void
vsphere_fault_from_node (xmlNodePtr n, struct vsphere_fault *f)
{
  xmlNodePtr inner = vsphere_child (n, "fault");

  f->message = vsphere_child_text (n, "localizedMessage");
  if (inner)
    f->type = vsphere_xsi_type (inner);
  fault_finish (inner, f);
}

xmlNodePtr
vsphere_body (xmlDocPtr doc, struct vsphere_fault *f)
{
  xmlNodePtr root = xmlDocGetRootElement (doc), body, c;

  memset (f, 0, sizeof *f);
  if (!is_elem (root, "Envelope"))
    return NULL;
  body = vsphere_child (root, "Body");
  if (!body)
    return NULL;
  for (c = body->children; c && c->type != XML_ELEMENT_NODE; c = c->next)
    ;
  if (!c)
    return NULL;
  if (is_elem (c, "Fault")) {
    parse_soap_fault (c, f);
    return NULL;
  }
  return c;
}

/* What each fault means for the user, and what to do. */
static const struct {
  const char *type;
  const char *text;
  const char *detail;         /* how to introduce f->detail */
} fault_messages[] = {
  { "InvalidLogin", "login failed: wrong user name or password (check "
    "VSPHERE_USER and VSPHERE_PASSWORD or the credentials file)", NULL },
  { "NoPermission", "permission denied: the vCenter user lacks a privilege",
    "privilege" },
  { "ManagedObjectNotFound",
    "the object no longer exists in vCenter (deleted or moved?)", "object" },
  { "NotFound", "not found in vCenter", NULL },
  { "NotAuthenticated",
    "the vCenter session is not authenticated (expired?)", NULL },
  { "TaskInProgress", "busy: another task is running on the VM; try "
    "again when it ends", NULL },
  { "ConcurrentAccess", "busy: the VM was changed concurrently; try again",
    NULL },
  { "InvalidState", "the VM is in a state that does not allow this", NULL },
  { "InvalidPowerState", "the VM's power state does not allow this", NULL },
  { "SnapshotDisabled", "snapshots are disabled for this VM", NULL },
  { "RequestCanceled", "the task was canceled in vCenter", NULL },
};

char *
vsphere_fault_message (const struct vsphere_fault *f, const char *what)
{
  const char *type = f->type ? f->type : "SystemError";
  const char *msg = f->message && *f->message ? f->message : NULL;

  for (size_t i = 0; i < sizeof fault_messages / sizeof fault_messages[0];
       i++) {
    const char *d = fault_messages[i].detail;
    if (strcmp (fault_messages[i].type, type))
      continue;
    if (d && f->detail)
      return xasprintf ("%s: %s (%s %s)", what, fault_messages[i].text, d,
                        f->detail);
    return xasprintf ("%s: %s", what, fault_messages[i].text);
  }
  return xasprintf ("%s: vCenter fault %s%s%s", what, type,
                    msg ? ": " : "", msg ? msg : "");
}

int
vsphere_split_ds_path (const char *s, char **ds, char **path)
{
  const char *close;

  *ds = *path = NULL;
  if (s[0] != '[' || !(close = strchr (s, ']')) || close == s + 1) {
    azp_error ("%s: not a datastore path (\"[DATASTORE] dir/file.vmdk\")", s);
    return -1;
  }
  *ds = strndup (s + 1, close - s - 1);
  close++;
  while (*close == ' ')
    close++;
  *path = strdup (close);
  if (!*ds || !*path) {
    free (*ds);
    free (*path);
    *ds = *path = NULL;
    azp_error ("out of memory");
    return -1;
  }
  return 0;
}

char *
vsphere_flat_name (const char *path)
{
  size_t len = strlen (path);

  if (len < 5 || strcmp (path + len - 5, ".vmdk")) {
    azp_error ("%s: not a .vmdk descriptor name", path);
    return NULL;
  }
  if (len >= 10 && !strcmp (path + len - 10, "-flat.vmdk"))
    return xstrdup (path);
  return xasprintf ("%.*s-flat.vmdk", (int) (len - 5), path);
}

char *
vsphere_datastore_url (const char *base, const char *dcpath,
                       const char *ds, const char *path)
{
  CLEANUP_FREE char *p = url_encode_keep (path, "/");
  CLEANUP_FREE char *dc = url_encode_keep (dcpath, "/");
  CLEANUP_FREE char *d = url_encode (ds);

  if (!p || !dc || !d)
    return NULL;
  return xasprintf ("%s/folder/%s?dcPath=%s&dsName=%s", base, p, dc, d);
}
