/* Safe XML parsing and the libxml2 cleanups: see prep/common/xml.h. */
#include <limits.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/xml.h"

/* Entities are declared in a DTD: refuse one before libxml2 reads it,
 * so that no expansion limit of libxml2's is ever relied on. */
static bool
declares_dtd (const char *text, size_t len)
{
  return memmem (text, len, "<!DOCTYPE", 9) ||
    memmem (text, len, "<!ENTITY", 8);
}

static void
refuse (const struct xml_parse_opts *o, const char *msg)
{
  if (msg)
    azp_error ("%s: %s", o->what, msg);
}

static void
refuse_not_xml (const struct xml_parse_opts *o)
{
  const xmlError *e = o->reason ? xmlGetLastError () : NULL;
  CLEANUP_FREE char *why = e && e->message ? first_line (e->message) : NULL;

  if (o->not_xml)
    azp_error ("%s: %s%s%s", o->what, o->not_xml, why ? ": " : "",
               why ? why : "");
}

xmlDoc *
xml_parse_safe (const char *text, size_t len, const struct xml_parse_opts *o)
{
  xmlDoc *doc;

  if (len > o->max_size || len > INT_MAX) {
    if (o->too_large)
      azp_error ("%s: %s (%zu bytes)", o->what, o->too_large, len);
    return NULL;
  }
  if (declares_dtd (text, len)) {
    refuse (o, o->has_dtd);
    return NULL;
  }
  /* The base URL is only for libxml2's own messages. */
  doc = xmlReadMemory (text, (int) len, NULL, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR |
                       XML_PARSE_NOWARNING | o->flags);
  if (!doc) {
    refuse_not_xml (o);
    return NULL;
  }
  /* A DOCTYPE the scan above missed (UTF-16 text). */
  if (doc->intSubset || doc->extSubset) {
    refuse (o, o->has_dtd);
    xmlFreeDoc (doc);
    return NULL;
  }
  return doc;
}

void
cleanup_xmldoc (void *ptr)
{
  xmlFreeDoc (*(xmlDoc **) ptr);
}

void
cleanup_xmlxpathcontext (void *ptr)
{
  xmlXPathFreeContext (*(xmlXPathContext **) ptr);
}

void
cleanup_xmlxpathobject (void *ptr)
{
  xmlXPathFreeObject (*(xmlXPathObject **) ptr);
}

void
cleanup_xmlfree (void *ptr)
{
  void *p = *(void **) ptr;

  if (p)
    xmlFree (p);
}
