/* vSphere SOAP client: the network side.  One libcurl handle per
 * session (keep-alive, the session cookie), TLS verified unless the user
 * asked otherwise.  Requests are never logged: Login carries the
 * password.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

#include "prep/common/common.h"
#include "prep/common/xml.h"
#include "replicate/vsphere/internal.h"

struct vsphere_tuning vsphere_tuning = { .task_timeout = 0,
                                         .keepalive = 300 };

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

void
vsphere_curl_failed (const char *what, CURLcode rc, const char *errbuf)
{
  const char *why = errbuf[0] ? errbuf : curl_easy_strerror (rc);

  switch (rc) {
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
    azp_error ("%s: the server's TLS certificate is not trusted (%s); give its "
               "CA with --cacert FILE, or --insecure to skip verification",
               what, why);
    break;
  case CURLE_UNSUPPORTED_PROTOCOL:
    azp_error ("%s: protocol not allowed (%s); plain http must be asked for "
               "with an http:// URL", what, why);
    break;
  default:
    azp_error ("%s: %s", what, why);
  }
}

void
vsphere_setup_curl (CURL *c, const struct vsphere_opts *o, bool http)
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
}

/* Parse the vCenter URL: https://HOST[:PORT][/sdk], or a bare host. */
static int
parse_url (struct vsphere *v, const char *url)
{
  CURLU *u = curl_url ();
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL;
  int ret = -1;

  if (!u) {
    azp_error ("out of memory");
    return -1;
  }
  if (curl_url_set (u, CURLUPART_URL, url, CURLU_DEFAULT_SCHEME) ||
      curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) ||
      curl_url_get (u, CURLUPART_HOST, &host, 0)) {
    azp_error ("%s: not a valid vCenter URL", url);
    goto out;
  }
  curl_url_get (u, CURLUPART_PORT, &port, 0);
  curl_url_get (u, CURLUPART_PATH, &path, 0);
  if (curl_url_get (u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
    azp_error ("%s: credentials do not belong in the URL; use VSPHERE_USER and "
               "VSPHERE_PASSWORD or --credentials FILE", host);
    goto out;
  }
  if (strcmp (scheme, "https") && strcmp (scheme, "http")) {
    azp_error ("%s: the vCenter URL must be https:// (or http:// if asked)",
               url);
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
  const char *eu = getenv ("VSPHERE_USER");
  const char *ep = secret_env ("VSPHERE_PASSWORD");
  char buf[VSPHERE_MAX_CREDENTIALS + 1];
  CLEANUP_CLOSE int fd = -1;
  struct stat st;
  ssize_t r;
  size_t len = 0;

  *user = *password = NULL;
  secrets_no_core ();
  if (!o->credentials) {
    if (!eu || !ep || !*eu) {
      azp_error ("vSphere credentials: set VSPHERE_USER and VSPHERE_PASSWORD, "
                 "or give --credentials FILE");
      return -1;
    }
    *user = xstrdup (eu);
    *password = xstrdup (ep);
    return *user && *password ? 0 : -1;
  }
  fd = open (o->credentials, O_RDONLY | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &st) == -1) {
    azp_error ("%s: %m", o->credentials);
    return -1;
  }
  if (!S_ISREG (st.st_mode)) {
    azp_error ("%s: the credentials file is not a regular file",
               o->credentials);
    return -1;
  }
  if (st.st_mode & 0077)
    azp_warning ("%s: the credentials file is readable by others (chmod 600)",
                 o->credentials);
  while (len < sizeof buf - 1 &&
         (r = read (fd, buf + len, sizeof buf - 1 - len)) > 0)
    len += r;
  if (len >= sizeof buf - 1) {
    azp_error ("%s: the credentials file is too large", o->credentials);
    explicit_bzero (buf, sizeof buf);
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
    azp_error ("%s: the credentials file needs lines \"user=NAME\" and "
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

static xmlDocPtr
call_once (struct vsphere *v, const char *body, const char *what,
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
    azp_error ("%s: %s: response larger than %d MiB", v->host, what,
               VSPHERE_MAX_RESPONSE >> 20);
    free (b.data);
    return NULL;
  }
  if (rc != CURLE_OK) {
    CLEANUP_FREE char *w = xasprintf ("%s: %s", v->host, what);
    vsphere_curl_failed (w ? w : what, rc, errbuf);
    free (b.data);
    return NULL;
  }
  if (!b.data) {
    azp_error ("%s: %s: empty response (HTTP %ld); is %s a vCenter SDK URL?",
               v->host, what, status, v->sdk);
    return NULL;
  }
  doc = vsphere_parse_xml (b.data, b.len, v->host);
  free (b.data);
  if (!doc) {
    if (status != 200)
      azp_error ("%s: %s: HTTP %ld; is %s a vCenter SDK URL?", v->host, what,
                 status, v->sdk);
    return NULL;
  }
  *ret = vsphere_body (doc, f);
  if (!*ret) {
    if (!f->type)
      azp_error ("%s: %s: not a SOAP response (HTTP %ld)", v->host, what,
                 status);
    xmlFreeDoc (doc);
    return NULL;
  }
  return doc;
}

static int login (struct vsphere *v);

/* A new session after vCenter ended ours: log in, give the bridges the
 * new cookie. */
static int
relogin (struct vsphere *v)
{
  int r;

  azp_info ("%s: the session expired (idle timeout): logging in again",
            v->host);
  v->relogging = true;
  r = login (v);
  v->relogging = false;
  for (size_t i = 0; r == 0 && i < v->ncookie_files; i++)
    r = vsphere_cookie_file_write (v, v->cookie_files[i]);
  return r;
}

xmlDocPtr
vsphere_call_fault (struct vsphere *v, const char *body, const char *what,
                    xmlNodePtr *ret, struct vsphere_fault *f)
{
  xmlDocPtr doc;

  pthread_mutex_lock (&v->lock);
  doc = call_once (v, body, what, ret, f);
  if (!doc && f->type && !strcmp (f->type, "NotAuthenticated") &&
      v->logged_in && !v->relogging) {
    vsphere_fault_clear (f);
    if (relogin (v) == 0)
      doc = call_once (v, body, what, ret, f);
  }
  pthread_mutex_unlock (&v->lock);
  return doc;
}

int
vsphere_keepalive (struct vsphere *v)
{
  xmlNodePtr rv;
  CLEANUP_XMLDOC xmlDoc *doc =
    vsphere_call (v, "<CurrentTime xmlns=\"urn:vim25\">"
                  "<_this type=\"ServiceInstance\">ServiceInstance</_this>"
                  "</CurrentTime>", "keep-alive", &rv);
  return doc ? 0 : -1;
}

int
vsphere_cookie_file_write (const struct vsphere *v, const char *path)
{
  CLEANUP_FREE char *tmp = xasprintf ("%s.new", path);
  size_t len = v->cookie ? strlen (v->cookie) : 0;
  int fd;

  if (!tmp || !v->cookie)
    return -1;
  unlink (tmp);
  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd == -1 || write (fd, v->cookie, len) != (ssize_t) len ||
      close (fd) == -1 || rename (tmp, path) == -1) {
    azp_error ("%s: %m", tmp);
    if (fd != -1)
      unlink (tmp);
    return -1;
  }
  return 0;
}

int
vsphere_cookie_file_add (struct vsphere *v, const char *path)
{
  char **n;
  int r = -1;

  pthread_mutex_lock (&v->lock);
  n = realloc (v->cookie_files, (v->ncookie_files + 1) * sizeof *n);
  if (n)
    v->cookie_files = n;
  if (!n || !(n[v->ncookie_files] = xstrdup (path)))
    azp_error ("out of memory");
  else {
    v->ncookie_files++;
    r = vsphere_cookie_file_write (v, path);
  }
  pthread_mutex_unlock (&v->lock);
  return r;
}

void
vsphere_cookie_file_remove (struct vsphere *v, const char *path)
{
  pthread_mutex_lock (&v->lock);
  for (size_t i = 0; i < v->ncookie_files; i++)
    if (!strcmp (v->cookie_files[i], path)) {
      free (v->cookie_files[i]);
      v->cookie_files[i] = v->cookie_files[--v->ncookie_files];
      break;
    }
  pthread_mutex_unlock (&v->lock);
}

xmlDocPtr
vsphere_call (struct vsphere *v, const char *body, const char *what,
              xmlNodePtr *ret)
{
  struct vsphere_fault f;
  xmlDocPtr doc = vsphere_call_fault (v, body, what, ret, &f);

  if (!doc && f.type) {
    CLEANUP_FREE char *msg = vsphere_fault_message (&f, what);
    azp_error ("%s", msg ? msg : what);
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
    azp_error ("the service content has no %s", name);
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
    azp_error ("%s: the login did not return a session cookie", v->host);
    return -1;
  }
  return 0;
}

static int
login (struct vsphere *v)
{
  CLEANUP_FREE char *body = NULL;
  char *user = NULL, *password = NULL, *eu = NULL, *ep = NULL;
  CLEANUP_XMLDOC xmlDoc *doc = NULL;
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
  azp_debug ("%s: logged in as %s", v->host, user);
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
    azp_error ("out of memory");
    return NULL;
  }
  {
    pthread_mutexattr_t a;
    pthread_mutexattr_init (&a);
    pthread_mutexattr_settype (&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init (&v->lock, &a);
    pthread_mutexattr_destroy (&a);
  }
  v->opts.url = xstrdup (o->url);
  v->opts.cacert = o->cacert ? xstrdup (o->cacert) : NULL;
  v->opts.credentials = o->credentials ? xstrdup (o->credentials) : NULL;
  v->opts.insecure = o->insecure;
  if (!v->opts.url || parse_url (v, o->url) == -1)
    goto fail;
  v->curl = curl_easy_init ();
  if (!v->curl) {
    azp_error ("cannot initialise libcurl");
    goto fail;
  }
  vsphere_setup_curl (v->curl, o, !strncmp (v->base, "http:", 5));
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
    CLEANUP_XMLDOC xmlDoc *doc =
      body ? vsphere_call (v, body, "logout", &rv) : NULL;
  }
  if (v->curl)
    curl_easy_cleanup (v->curl);
  free (v->opts.url); free (v->opts.cacert); free (v->opts.credentials);
  free (v->sdk); free (v->base); free (v->host);
  free_secret (v->cookie);
  free (v->root_folder); free (v->property_collector);
  free (v->view_manager); free (v->session_manager);
  for (size_t i = 0; i < v->ncookie_files; i++)
    free (v->cookie_files[i]);
  free (v->cookie_files);
  pthread_mutex_destroy (&v->lock);
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
