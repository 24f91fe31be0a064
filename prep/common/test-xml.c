/* Unit tests for prep/common/xml.c: the safe parse refuses a DTD, an
 * entity, a document over the bound and bad XML, each in the caller's
 * words, and reads a good document. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "prep/common/xml.h"

static const struct xml_parse_opts opts = {
  .what = "doc.xml", .max_size = 256,
  .too_large = "too big", .not_xml = "bad XML", .reason = true,
  .has_dtd = "has a DTD",
};

static xmlDoc *
parse (const char *text)
{
  return xml_parse_safe (text, strlen (text), &opts);
}

static void
test_refused (void)
{
  char big[300];

  /* An entity bomb's first step, an external entity, a bare DOCTYPE. */
  CHECK (parse ("<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;&e;</a>") == NULL);
  CHECK_STR (log_last_error (), "doc.xml: has a DTD");
  CHECK (parse ("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                "<a>&x;</a>") == NULL);
  CHECK_STR (log_last_error (), "doc.xml: has a DTD");
  CHECK (parse ("<!DOCTYPE a SYSTEM \"http://127.0.0.1:1/a.dtd\"><a/>")
         == NULL);
  CHECK_STR (log_last_error (), "doc.xml: has a DTD");
  /* UTF-16 text hides "<!DOCTYPE" from the scan, not from the check
   * after parsing. */
  {
    const char *a = "<!DOCTYPE a><a/>";
    char u[2 + 2 * 16];
    u[0] = (char) 0xff;
    u[1] = (char) 0xfe;
    for (size_t i = 0; i < 16; i++) {
      u[2 + 2 * i] = a[i];
      u[3 + 2 * i] = 0;
    }
    CHECK (xml_parse_safe (u, sizeof u, &opts) == NULL);
    CHECK_STR (log_last_error (), "doc.xml: has a DTD");
  }
  /* An undeclared entity is not expanded: not well-formed. */
  CHECK (parse ("<a>&e;</a>") == NULL);
  CHECK (!strncmp (log_last_error (), "doc.xml: bad XML: ", 18));
  CHECK (parse ("<a>") == NULL);
  CHECK (!strncmp (log_last_error (), "doc.xml: bad XML", 16));

  /* The size bound: 256 bytes pass, 257 do not. */
  memset (big, ' ', sizeof big);
  memcpy (big, "<a/>", 4);
  {
    CLEANUP_XMLDOC xmlDoc *d = xml_parse_safe (big, 256, &opts);
    CHECK (d != NULL);
  }
  CHECK (xml_parse_safe (big, 257, &opts) == NULL);
  CHECK_STR (log_last_error (), "doc.xml: too big (257 bytes)");
}

static void
test_silent (void)
{
  const struct xml_parse_opts quiet = { .what = "q", .max_size = 64 };

  azp_error ("before");
  CHECK (xml_parse_safe ("<!DOCTYPE a><a/>", 16, &quiet) == NULL);
  CHECK (xml_parse_safe ("<a", 2, &quiet) == NULL);
  CHECK_STR (log_last_error (), "before");
}

static void
test_good (void)
{
  const char *text = "<?xml version=\"1.0\"?>\n"
    "<Envelope xmlns=\"urn:x\"><Body a=\"1 &amp; 2\"><![CDATA[<b>]]>"
    "</Body></Envelope>";
  CLEANUP_XMLDOC xmlDoc *d = parse (text);
  xmlNode *root = d ? xmlDocGetRootElement (d) : NULL;
  xmlNode *body = root ? xmlFirstElementChild (root) : NULL;
  CLEANUP_XMLFREE xmlChar *a = body ? xmlGetProp (body, BAD_CAST "a") : NULL;
  CLEANUP_XMLFREE xmlChar *c = body ? xmlNodeGetContent (body) : NULL;

  CHECK (root && !strcmp ((const char *) root->name, "Envelope"));
  CHECK_STR ((const char *) a, "1 & 2");
  CHECK_STR ((const char *) c, "<b>");
}

int
main (void)
{
  test_refused ();
  test_silent ();
  test_good ();
  return UNIT_RESULT ("test-xml");
}
