/* Safe XML: the one way azprep parses XML from a file or the network
 * (OVF descriptors, vSphere SOAP replies, Azure page lists and error
 * bodies), and the libxml2 cleanups, as libguestfs has them.
 *
 * The rule: no network (XML_PARSE_NONET), no entity substitution (no
 * XML_PARSE_NOENT), no DTD loading, and any DOCTYPE or ENTITY
 * declaration refused (that is where entity bombs and external
 * entities live), at most a size the caller chooses.
 */
#ifndef AZPREP_COMMON_XML_H
#define AZPREP_COMMON_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

/* How to parse, and the caller's words for each refusal.  Each
 * message is printed as "WHAT: MESSAGE" with azp_error(); a NULL
 * message makes that refusal silent.
 */
struct xml_parse_opts {
  const char *what;         /* names the document: a file, a host, a blob */
  size_t max_size;          /* bigger documents are refused */
  int flags;                /* more XML_PARSE_* flags (NOBLANKS, NOCDATA) */
  const char *too_large;    /* followed by " (N bytes)" */
  const char *not_xml;      /* not well-formed */
  bool reason;              /* follow not_xml with ": libxml2's reason" */
  const char *has_dtd;      /* a DOCTYPE or ENTITY declaration */
};

/* Parse len bytes of text.  The document, or NULL (reported in the
 * caller's words) if it is too large, not well-formed or has a DTD.
 */
xmlDoc *xml_parse_safe (const char *text, size_t len,
                        const struct xml_parse_opts *o);

void cleanup_xmldoc (void *ptr);
void cleanup_xmlxpathcontext (void *ptr);
void cleanup_xmlxpathobject (void *ptr);
void cleanup_xmlfree (void *ptr);
#define CLEANUP_XMLDOC __attribute__((cleanup (cleanup_xmldoc)))
#define CLEANUP_XMLXPATHCONTEXT \
  __attribute__((cleanup (cleanup_xmlxpathcontext)))
#define CLEANUP_XMLXPATHOBJECT \
  __attribute__((cleanup (cleanup_xmlxpathobject)))
#define CLEANUP_XMLFREE __attribute__((cleanup (cleanup_xmlfree)))

#endif /* AZPREP_COMMON_XML_H */
