/* Internals shared by the vSphere client's files (not for other
 * modules: use vsphere.h). */
#ifndef AZPREP_VSPHERE_INTERNAL_H
#define AZPREP_VSPHERE_INTERNAL_H

#include <pthread.h>
#include <curl/curl.h>

#include "replicate/vsphere/vsphere.h"

struct vsphere {
  CURL *curl;
  struct vsphere_opts opts;
  char *sdk;                  /* https://HOST[:PORT]/sdk */
  char *base;                 /* https://HOST[:PORT] */
  char *host;                 /* HOST[:PORT], for messages */
  char *cookie;               /* vmware_soap_session=... */
  char *root_folder, *property_collector, *view_manager, *session_manager;
  bool logged_in;
  bool relogging;             /* inside a re-login: no second one */
  pthread_mutex_t lock;       /* one call at a time (the keep-alive) */
  char **cookie_files;        /* rewritten with each new session */
  size_t ncookie_files;
};

/* TLS, protocols (https only unless http), timeouts. */
void vsphere_setup_curl (CURL *c, const struct vsphere_opts *o, bool http);
/* Report a transport error clearly (untrusted certificate, ...). */
void vsphere_curl_failed (const char *what, CURLcode rc, const char *errbuf);

#endif
