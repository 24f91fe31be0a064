/* vSphere SOAP client: the network side.  One libcurl handle per
 * session (keep-alive, the session cookie), TLS verified unless the user
 * asked otherwise.  Requests are never logged: Login carries the
 * password.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "azprep.h"
#include "vsphere.h"

struct vsphere {
  CURL *curl;
  struct vsphere_opts opts;
  char *sdk;                  /* https://HOST[:PORT]/sdk */
  char *base;                 /* https://HOST[:PORT] */
  char *host;                 /* HOST[:PORT], for messages */
  char *cookie;               /* vmware_soap_session=... */
  char *root_folder, *property_collector, *view_manager, *session_manager;
  bool logged_in;
};

struct buf {
  char *data;
  size_t len, max;
  bool overflow;
};

static size_t
write_cb (char *ptr, size_t size, size_t n, void *opaque)
{
  struct buf *b = opaque;
  size_t len = size * n;
  char *nd;

  if (b->len + len > b->max) {
    b->overflow = true;
    return 0;
  }
  nd = realloc (b->data, b->len + len + 1);
  if (!nd)
    return 0;
  b->data = nd;
  memcpy (b->data + b->len, ptr, len);
  b->len += len;
  b->data[b->len] = '\0';
  return len;
}

/* A clear message for a transport error. */
static void
curl_failed (const char *what, CURLcode rc, const char *errbuf)
{
  const char *why = errbuf[0] ? errbuf : curl_easy_strerror (rc);

  switch (rc) {
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
    error ("%s: the server's TLS certificate is not trusted (%s); give its "
           "CA with --cacert FILE, or --insecure to skip verification",
           what, why);
    break;
  case CURLE_UNSUPPORTED_PROTOCOL:
    error ("%s: protocol not allowed (%s); plain http must be asked for "
           "with an http:// URL", what, why);
    break;
  default:
    error ("%s: %s", what, why);
  }
}

/* Options every request shares: TLS, protocols, timeouts. */
static int
setup_curl (CURL *c, const struct vsphere_opts *o, bool http)
{
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, http ? "http,https" : "https");
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 300L);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "azprep/" PACKAGE_VERSION);
  if (o->cacert)
    curl_easy_setopt (c, CURLOPT_CAINFO, o->cacert);
  if (o->insecure) {
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  return 0;
}

/* Parse the vCenter URL: https://HOST[:PORT][/sdk], or a bare host. */
static int
parse_url (struct vsphere *v, const char *url)
{
  CURLU *u = curl_url ();
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL;
  int ret = -1;

  if (!u) {
    error ("out of memory");
    return -1;
  }
  if (curl_url_set (u, CURLUPART_URL, url, CURLU_DEFAULT_SCHEME) ||
      curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) ||
      curl_url_get (u, CURLUPART_HOST, &host, 0)) {
    error ("%s: not a valid vCenter URL", url);
    goto out;
  }
  curl_url_get (u, CURLUPART_PORT, &port, 0);
  curl_url_get (u, CURLUPART_PATH, &path, 0);
  if (curl_url_get (u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    error ("%s: credentials do not belong in the URL; use VSPHERE_USER and "
           "VSPHERE_PASSWORD or --credentials FILE", host);
    goto out;
  }
  if (strcmp (scheme, "https") && strcmp (scheme, "http")) {
    error ("%s: the vCenter URL must be https:// (or http:// if asked)", url);
    goto out;
  }
  v->host = port ? xasprintf ("%s:%s", host, port) : xstrdup (host);
  v->base = v->host ? xasprintf ("%s://%s", scheme, v->host) : NULL;
  v->sdk = v->base ? xasprintf ("%s%s", v->base,
                                path && strcmp (path, "/") ? path : "/sdk")
    : NULL;
  if (v->sdk)
    ret = 0;
 out:
  curl_free (scheme); curl_free (host); curl_free (port); curl_free (path);
  curl_free (user);
  curl_url_cleanup (u);
  return ret;
}

static int
read_credentials (const struct vsphere_opts *o, char **user, char **password)
{
  const char *eu = getenv ("VSPHERE_USER"), *ep = getenv ("VSPHERE_PASSWORD");
  char buf[VSPHERE_MAX_CREDENTIALS + 1];
  CLEANUP_CLOSE int fd = -1;
  struct stat st;
  ssize_t r;
  size_t len = 0;

  *user = *password = NULL;
  if (!o->credentials) {
    if (!eu || !ep || !*eu) {
      error ("vSphere credentials: set VSPHERE_USER and VSPHERE_PASSWORD, "
             "or give --credentials FILE");
      return -1;
    }
    *user = xstrdup (eu);
    *password = xstrdup (ep);
    return *user && *password ? 0 : -1;
  }
  fd = open (o->credentials, O_RDONLY | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &st) == -1) {
    error ("%s: %m", o->credentials);
    return -1;
  }
  if (!S_ISREG (st.st_mode)) {
    error ("%s: the credentials file is not a regular file", o->credentials);
    return -1;
  }
  if (st.st_mode & 0077)
    warning ("%s: the credentials file is readable by others (chmod 600)",
             o->credentials);
  while (len < sizeof buf - 1 &&
         (r = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += r;
  if (len >= sizeof buf - 1) {
    error ("%s: the credentials file is too large", o->credentials);
    return -1;
  }
  buf[len] = '\0';
  for (char *line = buf, *next; line && *line; line = next) {
    char **dst = NULL;
    size_t n;
    next = strchr (line, '\n');
    if (next)
      *next++ = '\0';
    n = strlen (line);
    if (n && line[n - 1] == '\r')
      line[--n] = '\0';
    if (!strncmp (line, "user=", 5)) {
      dst = user;
      line += 5;
    }
    else if (!strncmp (line, "password=", 9)) {
      dst = password;
      line += 9;
    }
    if (dst) {
      free (*dst);
      *dst = xstrdup (line);
    }
  }
  explicit_bzero (buf, sizeof buf);
  if (!*user || !**user || !*password) {
    error ("%s: the credentials file needs lines \"user=NAME\" and "
           "\"password=SECRET\"", o->credentials);
    free (*user);
    free (*password);
    *user = *password = NULL;
    return -1;
  }
  return 0;
}

static void
free_secret (char *s)
{
  if (s) {
    explicit_bzero (s, strlen (s));
    free (s);
  }
}

xmlDocPtr
vsphere_call_fault (struct vsphere *v, const char *body, const char *what,
                    xmlNodePtr *ret, struct vsphere_fault *f)
{
  CLEANUP_FREE char *env = vsphere_envelope (body);
  struct buf b = { .max = VSPHERE_MAX_RESPONSE };
  struct curl_slist *hdrs = NULL;
  char errbuf[CURL_ERROR_SIZE] = "";
  CURLcode rc;
  long status = 0;
  xmlDocPtr doc;

  memset (f, 0, sizeof *f);
  *ret = NULL;
  if (!env)
    return NULL;
  hdrs = curl_slist_append (hdrs, "Content-Type: text/xml; charset=utf-8");
  hdrs = curl_slist_append (hdrs, "SOAPAction: \"urn:vim25/6.5\"");
  curl_easy_setopt (v->curl, CURLOPT_URL, v->sdk);
  curl_easy_setopt (v->curl, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt (v->curl, CURLOPT_POSTFIELDS, env);
  curl_easy_setopt (v->curl, CURLOPT_POSTFIELDSIZE, (long) strlen (env));
  curl_easy_setopt (v->curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt (v->curl, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt (v->curl, CURLOPT_ERRORBUFFER, errbuf);
  rc = curl_easy_perform (v->curl);
  curl_easy_getinfo (v->curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt (v->curl, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt (v->curl, CURLOPT_POSTFIELDS, NULL);
  curl_slist_free_all (hdrs);
  /* The request may hold the password: wipe it. */
  explicit_bzero (env, strlen (env));
  if (b.overflow) {
    error ("%s: %s: response larger than %d MiB", v->host, what,
           VSPHERE_MAX_RESPONSE >> 20);
    free (b.data);
    return NULL;
  }
  if (rc != CURLE_OK) {
    CLEANUP_FREE char *w = xasprintf ("%s: %s", v->host, what);
    curl_failed (w ? w : what, rc, errbuf);
    free (b.data);
    return NULL;
  }
  if (!b.data) {
    error ("%s: %s: empty response (HTTP %ld); is %s a vCenter SDK URL?",
           v->host, what, status, v->sdk);
    return NULL;
  }
  doc = vsphere_parse_xml (b.data, b.len, v->host);
  free (b.data);
  if (!doc) {
    if (status != 200)
      error ("%s: %s: HTTP %ld; is %s a vCenter SDK URL?", v->host, what,
             status, v->sdk);
    return NULL;
  }
  *ret = vsphere_body (doc, f);
  if (!*ret) {
    if (!f->type)
      error ("%s: %s: not a SOAP response (HTTP %ld)", v->host, what, status);
    xmlFreeDoc (doc);
    return NULL;
  }
  return doc;
}

xmlDocPtr
vsphere_call (struct vsphere *v, const char *body, const char *what,
              xmlNodePtr *ret)
{
  struct vsphere_fault f;
  xmlDocPtr doc = vsphere_call_fault (v, body, what, ret, &f);

  if (!doc && f.type) {
    CLEANUP_FREE char *msg = vsphere_fault_message (&f, what);
    error ("%s", msg ? msg : what);
  }
  vsphere_fault_clear (&f);
  return doc;
}

/* A moref child of the service content, as a new string. */
static char *
service_ref (xmlNodePtr rv, const char *name)
{
  char *r = vsphere_child_text (rv, name);
  if (!r)
    error ("the service content has no %s", name);
  return r;
}

static int
get_cookie (struct vsphere *v)
{
  struct curl_slist *cookies = NULL;

  curl_easy_getinfo (v->curl, CURLINFO_COOKIELIST, &cookies);
  for (struct curl_slist *c = cookies; c; c = c->next) {
    /* Netscape format: domain, flag, path, secure, expiry, name, value. */
    const char *f = c->data, *name, *value;
    for (int i = 0; i < 5 && f; i++) {
      f = strchr (f, '\t');
      if (f)
        f++;
    }
    if (!f || !(value = strchr (f, '\t')))
      continue;
    name = f;
    if ((size_t) (value - name) == strlen ("vmware_soap_session") &&
        !strncmp (name, "vmware_soap_session", value - name)) {
      free (v->cookie);
      v->cookie = xasprintf ("vmware_soap_session=%s", value + 1);
    }
  }
  curl_slist_free_all (cookies);
  if (!v->cookie) {
    error ("%s: the login did not return a session cookie", v->host);
    return -1;
  }
  return 0;
}

static int
login (struct vsphere *v)
{
  CLEANUP_FREE char *body = NULL;
  char *user = NULL, *password = NULL, *eu = NULL, *ep = NULL;
  xmlDocPtr doc;
  xmlNodePtr rv;

  if (read_credentials (&v->opts, &user, &password) == -1)
    return -1;
  eu = vsphere_xml_escape (user);
  ep = vsphere_xml_escape (password);
  if (eu && ep)
    body = xasprintf ("<Login xmlns=\"urn:vim25\">"
                      "<_this type=\"SessionManager\">%s</_this>"
                      "<userName>%s</userName><password>%s</password>"
                      "</Login>", v->session_manager, eu, ep);
  free (eu);
  free_secret (ep);
  free_secret (password);
  if (!body) {
    free (user);
    return -1;
  }
  doc = vsphere_call (v, body, v->host, &rv);
  explicit_bzero (body, strlen (body));
  if (!doc) {
    free (user);
    return -1;
  }
  xmlFreeDoc (doc);
  debug ("%s: logged in as %s", v->host, user);
  free (user);
  v->logged_in = true;
  return get_cookie (v);
}

struct vsphere *
vsphere_connect (const struct vsphere_opts *o)
{
  struct vsphere *v = calloc (1, sizeof *v);
  xmlDocPtr doc;
  xmlNodePtr rv;

  if (!v) {
    error ("out of memory");
    return NULL;
  }
  v->opts.url = xstrdup (o->url);
  v->opts.cacert = o->cacert ? xstrdup (o->cacert) : NULL;
  v->opts.credentials = o->credentials ? xstrdup (o->credentials) : NULL;
  v->opts.insecure = o->insecure;
  if (!v->opts.url || parse_url (v, o->url) == -1)
    goto fail;
  v->curl = curl_easy_init ();
  if (!v->curl) {
    error ("cannot initialise libcurl");
    goto fail;
  }
  setup_curl (v->curl, o, !strncmp (v->base, "http:", 5));
  curl_easy_setopt (v->curl, CURLOPT_COOKIEFILE, "");

  doc = vsphere_call (v, "<RetrieveServiceContent xmlns=\"urn:vim25\">"
                      "<_this type=\"ServiceInstance\">ServiceInstance"
                      "</_this></RetrieveServiceContent>",
                      "RetrieveServiceContent", &rv);
  if (!doc)
    goto fail;
  rv = vsphere_child (rv, "returnval");
  v->root_folder = service_ref (rv, "rootFolder");
  v->property_collector = service_ref (rv, "propertyCollector");
  v->view_manager = service_ref (rv, "viewManager");
  v->session_manager = service_ref (rv, "sessionManager");
  xmlFreeDoc (doc);
  if (!v->root_folder || !v->property_collector || !v->view_manager ||
      !v->session_manager)
    goto fail;
  if (login (v) == -1)
    goto fail;
  return v;

 fail:
  vsphere_close (v);
  return NULL;
}

void
vsphere_close (struct vsphere *v)
{
  if (!v)
    return;
  if (v->logged_in) {
    CLEANUP_FREE char *body =
      xasprintf ("<Logout xmlns=\"urn:vim25\">"
                 "<_this type=\"SessionManager\">%s</_this></Logout>",
                 v->session_manager);
    xmlNodePtr rv;
    xmlDocPtr doc = body ? vsphere_call (v, body, "logout", &rv) : NULL;
    xmlFreeDoc (doc);
  }
  if (v->curl)
    curl_easy_cleanup (v->curl);
  free (v->opts.url); free (v->opts.cacert); free (v->opts.credentials);
  free (v->sdk); free (v->base); free (v->host);
  free_secret (v->cookie);
  free (v->root_folder); free (v->property_collector);
  free (v->view_manager); free (v->session_manager);
  free (v);
}

const char *
vsphere_base (const struct vsphere *v)
{
  return v->base;
}

const char *
vsphere_host (const struct vsphere *v)
{
  return v->host;
}

const char *
vsphere_cookie (const struct vsphere *v)
{
  return v->cookie;
}

const struct vsphere_opts *
vsphere_options (const struct vsphere *v)
{
  return &v->opts;
}

/* The properties each type of object contributes. */
static const char inventory_spec[] =
  "<propSet><type>VirtualMachine</type>"
  "<pathSet>name</pathSet><pathSet>parent</pathSet>"
  "<pathSet>config.instanceUuid</pathSet><pathSet>config.uuid</pathSet>"
  "<pathSet>runtime.powerState</pathSet><pathSet>config.guestId</pathSet>"
  "<pathSet>config.firmware</pathSet><pathSet>config.hardware.numCPU</pathSet>"
  "<pathSet>config.hardware.memoryMB</pathSet>"
  "<pathSet>config.hardware.device</pathSet><pathSet>snapshot</pathSet>"
  "<pathSet>config.changeTrackingEnabled</pathSet>"
  "<pathSet>runtime.host</pathSet></propSet>"
  "<propSet><type>Datastore</type><pathSet>name</pathSet>"
  "<pathSet>summary</pathSet><pathSet>parent</pathSet></propSet>"
  "<propSet><type>Datacenter</type><pathSet>name</pathSet>"
  "<pathSet>parent</pathSet></propSet>"
  "<propSet><type>Folder</type><pathSet>name</pathSet>"
  "<pathSet>parent</pathSet></propSet>"
  "<propSet><type>HostSystem</type><pathSet>name</pathSet></propSet>"
  "<propSet><type>Network</type><pathSet>name</pathSet></propSet>";

struct vsphere_inventory *
vsphere_get_inventory (struct vsphere *v)
{
  struct vsphere_inventory *inv = NULL;
  CLEANUP_FREE char *body = NULL, *view = NULL, *token = NULL;
  xmlDocPtr doc;
  xmlNodePtr rv;

  body = xasprintf ("<CreateContainerView xmlns=\"urn:vim25\">"
                    "<_this type=\"ViewManager\">%s</_this>"
                    "<container type=\"Folder\">%s</container>"
                    "<type>VirtualMachine</type><type>Datastore</type>"
                    "<type>Datacenter</type><type>Folder</type>"
                    "<type>HostSystem</type><type>Network</type>"
                    "<recursive>true</recursive></CreateContainerView>",
                    v->view_manager, v->root_folder);
  if (!body)
    return NULL;
  doc = vsphere_call (v, body, "CreateContainerView", &rv);
  if (!doc)
    return NULL;
  view = vsphere_child_text (rv, "returnval");
  xmlFreeDoc (doc);
  if (!view)
    return NULL;
  inv = vsphere_inventory_new ();
  if (!inv)
    goto out;

  free (body);
  {
    CLEANUP_FREE char *ev = vsphere_xml_escape (view);
    body = ev ? xasprintf ("<RetrievePropertiesEx xmlns=\"urn:vim25\">"
                           "<_this type=\"PropertyCollector\">%s</_this>"
                           "<specSet>%s<objectSet>"
                           "<obj type=\"ContainerView\">%s</obj>"
                           "<skip>true</skip>"
                           "<selectSet xsi:type=\"TraversalSpec\">"
                           "<name>view</name><type>ContainerView</type>"
                           "<path>view</path><skip>false</skip></selectSet>"
                           "</objectSet></specSet>"
                           "<options><maxObjects>500</maxObjects></options>"
                           "</RetrievePropertiesEx>",
                           v->property_collector, inventory_spec, ev)
      : NULL;
  }
  for (int page = 0; body && page < 100000; page++) {
    doc = vsphere_call (v, body, "RetrievePropertiesEx", &rv);
    if (!doc)
      goto fail;
    free (token);
    if (vsphere_inventory_add (inv, vsphere_child (rv, "returnval"),
                               &token) == -1) {
      xmlFreeDoc (doc);
      goto fail;
    }
    xmlFreeDoc (doc);
    free (body);
    body = NULL;
    if (!token)
      break;
    {
      CLEANUP_FREE char *et = vsphere_xml_escape (token);
      body = et ? xasprintf ("<ContinueRetrievePropertiesEx "
                             "xmlns=\"urn:vim25\">"
                             "<_this type=\"PropertyCollector\">%s</_this>"
                             "<token>%s</token>"
                             "</ContinueRetrievePropertiesEx>",
                             v->property_collector, et) : NULL;
    }
    if (!body)
      goto fail;
  }
  vsphere_inventory_resolve (inv);
  goto out;

 fail:
  vsphere_inventory_free (inv);
  inv = NULL;
 out:
  free (body);
  {
    CLEANUP_FREE char *ev = vsphere_xml_escape (view);
    body = ev ? xasprintf ("<DestroyView xmlns=\"urn:vim25\">"
                           "<_this type=\"ContainerView\">%s</_this>"
                           "</DestroyView>", ev) : NULL;
  }
  if (body && (doc = vsphere_call (v, body, "DestroyView", &rv)))
    xmlFreeDoc (doc);
  return inv;
}

char *
vsphere_wait_task (struct vsphere *v, const char *task_ref, const char *what)
{
  CLEANUP_FREE char *etask = vsphere_xml_escape (task_ref);
  CLEANUP_FREE char *body = NULL;
  useconds_t delay = 100000;
  time_t deadline = time (NULL) + 3600;

  if (!etask)
    return NULL;
  body = xasprintf ("<RetrievePropertiesEx xmlns=\"urn:vim25\">"
                    "<_this type=\"PropertyCollector\">%s</_this>"
                    "<specSet><propSet><type>Task</type>"
                    "<pathSet>info.state</pathSet>"
                    "<pathSet>info.error</pathSet>"
                    "<pathSet>info.result</pathSet></propSet>"
                    "<objectSet><obj type=\"Task\">%s</obj></objectSet>"
                    "</specSet><options/></RetrievePropertiesEx>",
                    v->property_collector, etask);
  if (!body)
    return NULL;
  while (time (NULL) < deadline) {
    xmlNodePtr rv, objects;
    CLEANUP_FREE char *state = NULL;
    char *result = NULL;
    xmlDocPtr doc = vsphere_call (v, body, what, &rv);
    if (!doc)
      return NULL;
    objects = vsphere_child (vsphere_child (rv, "returnval"), "objects");
    for (xmlNodePtr p = objects ? objects->children : NULL; p; p = p->next) {
      CLEANUP_FREE char *name = NULL;
      if (p->type != XML_ELEMENT_NODE || strcmp ((const char *) p->name,
                                                 "propSet"))
        continue;
      name = vsphere_child_text (p, "name");
      if (!name)
        continue;
      if (!strcmp (name, "info.state"))
        state = vsphere_child_text (p, "val");
      else if (!strcmp (name, "info.result")) {
        free (result);
        result = vsphere_child_text (p, "val");
      }
      else if (!strcmp (name, "info.error")) {
        struct vsphere_fault f = { 0 };
        CLEANUP_FREE char *msg = NULL;
        vsphere_fault_from_node (vsphere_child (p, "val"), &f);
        msg = vsphere_fault_message (&f, what);
        error ("%s", msg ? msg : what);
        vsphere_fault_clear (&f);
        xmlFreeDoc (doc);
        free (result);
        return NULL;
      }
    }
    xmlFreeDoc (doc);
    if (!state) {
      error ("%s: task %s has no state", what, task_ref);
      free (result);
      return NULL;
    }
    if (!strcmp (state, "success"))
      return result ? result : xstrdup ("");
    free (result);
    if (!strcmp (state, "error")) {
      error ("%s: the task failed", what);
      return NULL;
    }
    usleep (delay);
    if (delay < 2000000)
      delay *= 2;
  }
  error ("%s: task %s did not finish within an hour", what, task_ref);
  return NULL;
}

/* Start a task: body returns <returnval type="Task">task-N</returnval>. */
static char *
run_task (struct vsphere *v, const char *body, const char *what)
{
  xmlNodePtr rv;
  xmlDocPtr doc = vsphere_call (v, body, what, &rv);
  CLEANUP_FREE char *task = NULL;

  if (!doc)
    return NULL;
  task = vsphere_child_text (rv, "returnval");
  xmlFreeDoc (doc);
  if (!task) {
    error ("%s: no task returned", what);
    return NULL;
  }
  return vsphere_wait_task (v, task, what);
}

char *
vsphere_create_snapshot (struct vsphere *v, const struct vsphere_vm *vm,
                         const char *name, bool quiesce)
{
  CLEANUP_FREE char *ename = vsphere_xml_escape (name);
  CLEANUP_FREE char *eref = vsphere_xml_escape (vm->ref);
  CLEANUP_FREE char *body = NULL, *what = NULL;
  char *snap;

  if (!ename || !eref)
    return NULL;
  body = xasprintf ("<CreateSnapshot_Task xmlns=\"urn:vim25\">"
                    "<_this type=\"VirtualMachine\">%s</_this>"
                    "<name>%s</name>"
                    "<description>azprep replication cycle</description>"
                    "<memory>false</memory><quiesce>%s</quiesce>"
                    "</CreateSnapshot_Task>",
                    eref, ename, quiesce ? "true" : "false");
  what = xasprintf ("%s: create snapshot %s", vm->name, name);
  if (!body || !what)
    return NULL;
  snap = run_task (v, body, what);
  if (snap && !*snap) {
    error ("%s: no snapshot returned", what);
    free (snap);
    return NULL;
  }
  if (snap)
    debug ("%s: snapshot %s (%s)", vm->name, name, snap);
  return snap;
}

int
vsphere_remove_snapshot (struct vsphere *v, const char *snap_ref,
                         const char *what)
{
  CLEANUP_FREE char *eref = vsphere_xml_escape (snap_ref);
  CLEANUP_FREE char *body = NULL;
  char *r;

  if (!eref)
    return -1;
  body = xasprintf ("<RemoveSnapshot_Task xmlns=\"urn:vim25\">"
                    "<_this type=\"VirtualMachineSnapshot\">%s</_this>"
                    "<removeChildren>false</removeChildren>"
                    "<consolidate>true</consolidate>"
                    "</RemoveSnapshot_Task>", eref);
  if (!body)
    return -1;
  r = run_task (v, body, what);
  if (!r)
    return -1;
  free (r);
  return 0;
}

int
vsphere_remove_stale_snapshots (struct vsphere *v,
                                const struct vsphere_vm *vm)
{
  int n = 0;

  for (size_t i = 0; i < vm->nsnapshots; i++) {
    const struct vsphere_snapshot *s = &vm->snapshots[i];
    CLEANUP_FREE char *what = NULL;
    if (!s->name || !s->ref ||
        strncmp (s->name, VSPHERE_SNAPSHOT_PREFIX,
                 strlen (VSPHERE_SNAPSHOT_PREFIX)))
      continue;
    what = xasprintf ("%s: remove stale snapshot %s", vm->name, s->name);
    if (!what)
      return -1;
    info ("%s: removing snapshot %s left by an interrupted run", vm->name,
          s->name);
    if (vsphere_remove_snapshot (v, s->ref, what) == -1)
      return -1;
    n++;
  }
  return n;
}

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
    error ("cannot initialise libcurl");
    return -1;
  }
  setup_curl (c, &v->opts, !strncmp (v->base, "http:", 5));
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
    curl_failed (url, rc, errbuf);
    return -1;
  }
  switch (p.status) {
  case 206:
    if (p.total < 0) {
      error ("%s: the server sent no Content-Range total", url);
      return -1;
    }
    *size = p.total;
    return 0;
  case 200:
    error ("%s: the server ignores HTTP Range requests (it answered with "
           "the whole file): the disk cannot be read in place; nothing was "
           "downloaded", url);
    return -1;
  case 401: case 403:
    error ("%s: access denied (HTTP %ld): the vCenter user needs the "
           "Datastore.Browse privilege", url, p.status);
    return -1;
  case 404:
    error ("%s: not found on the datastore (HTTP 404)", url);
    return -1;
  case 416:
    error ("%s: the disk file is empty", url);
    return -1;
  default:
    error ("%s: HTTP %ld", url, p.status);
    return -1;
  }
}
