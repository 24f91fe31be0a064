/* Percent-encoding (RFC 3986): the one codec for Azure Blob URLs and
 * their signed queries, and for vsphere:// URIs and datastore URLs.
 */
#ifndef AZPREP_COMMON_URL_H
#define AZPREP_COMMON_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Percent-encode everything except the unreserved characters
 * (A-Z a-z 0-9 - . _ ~).  NULL (reported) if out of memory. */
char *url_encode (const char *s);
/* The same, also keeping the characters of keep (e.g. "/" for paths). */
char *url_encode_keep (const char *s, const char *keep);

enum {
  URL_PLUS_SPACE = 1,       /* '+' is a space (form-encoded queries) */
};
/* Percent-decode n bytes of s.  NULL, not reported, on a bad or
 * truncated %-sequence or an encoded NUL (%00), errno EINVAL; or out
 * of memory, errno ENOMEM. */
char *url_decode (const char *s, size_t n, int flags);

/* Whether host (as in a URL, IPv6 in brackets or not) names this
 * machine's loopback: "localhost", a numeric IPv4 address in 127/8 or
 * the IPv6 address ::1.  Names that merely begin with "127." are not. */
bool url_host_is_loopback (const char *host);

#endif /* AZPREP_COMMON_URL_H */
