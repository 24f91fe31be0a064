/* Unit tests: range lists, Get Page Ranges and List Blobs XML (hostile
 * inputs). */
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/azure/ranges.h"


static int
parse (const char *xml, struct rangelist *p, struct rangelist *c, char **m)
{
  return pagelist_parse (xml, strlen (xml), "test", 100, p, c, m);
}

static int
blparse (const char *xml, size_t max, struct blob_list *out, char **m)
{
  return bloblist_parse (xml, strlen (xml), "test", "vm-disk0.vhd", max,
                         out, m);
}

static void
test_bloblist (void)
{
  struct blob_list l = { 0 };
  char *m = NULL;
  const char *ok =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults "
    "ContainerName=\"vms\"><Prefix>vm-disk0.vhd</Prefix><Blobs>"
    "<Blob><Name>vm-disk0.vhd</Name><Snapshot>2026-12-06T05:00:00.1Z"
    "</Snapshot><Properties><BlobType>PageBlob</BlobType></Properties>"
    "<Metadata><azprep_job>vm</azprep_job><azprep_point>3</azprep_point>"
    "<empty/></Metadata></Blob>"
    "<Blob><Name>vm-disk0.vhd.old</Name><Snapshot>2026-12-06T05:00:00.2Z"
    "</Snapshot></Blob>"
    "<Blob><Name>vm-disk0.vhd</Name><Properties/></Blob>"
    "</Blobs><NextMarker>m1</NextMarker></EnumerationResults>";

  /* Only the blob named exactly so; its snapshot and metadata. */
  CHECK (blparse (ok, 10, &l, &m) == 0);
  CHECK (l.n == 2 && l.items[0].snapshot && !l.items[1].snapshot);
  CHECK (!strcmp (l.items[0].snapshot, "2026-12-06T05:00:00.1Z"));
  CHECK (count_strings (l.items[0].metadata) == 3);
  CHECK (!strcmp (l.items[0].metadata[1], "azprep_point=3"));
  CHECK (!strcmp (l.items[0].metadata[2], "empty="));
  CHECK (l.items[1].metadata && !l.items[1].metadata[0]);
  CHECK (m && !strcmp (m, "m1"));
  free (m);
  /* Appends across pages; the limit counts them all. */
  CHECK (blparse (ok, 3, &l, &m) == -1);
  free (m);
  blob_list_free (&l);
  CHECK (l.n == 0 && !l.items);
  /* Hostile: not the reply, a Blob with no Name, a snapshot that would
   * change a URL's query, a DTD, not XML. */
  CHECK (blparse ("<PageList/>", 10, &l, &m) == -1);
  CHECK (blparse ("<EnumerationResults><Blobs><Blob/></Blobs>"
                  "</EnumerationResults>", 10, &l, &m) == -1);
  CHECK (blparse ("<EnumerationResults><Blobs><Blob><Name>vm-disk0.vhd"
                  "</Name><Snapshot>x&amp;comp=lease</Snapshot></Blob>"
                  "</Blobs></EnumerationResults>", 10, &l, &m) == -1);
  CHECK (blparse ("<!DOCTYPE x [<!ENTITY a \"b\">]><EnumerationResults/>",
                  10, &l, &m) == -1);
  CHECK (blparse ("<EnumerationResults>", 10, &l, &m) == -1);
  CHECK (blparse ("<EnumerationResults/>", 10, &l, &m) == 0 && l.n == 0 &&
         !m);
  blob_list_free (&l);
}

int
main (void)
{
  CLEANUP_RANGELIST struct rangelist p = { 0 }, c = { 0 }, l = { 0 };
  CLEANUP_FREE char *marker = NULL;
  char *code, *msg;

  CHECK (parse ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<PageList>"
                "<PageRange><Start>4194304</Start><End>4194815</End>"
                "</PageRange>"
                "<PageRange><Start>0</Start><End>4194303</End></PageRange>"
                "<ClearRange><Start>8388608</Start><End>8389119</End>"
                "</ClearRange>"
                "<PageRange><Start>10485760</Start><End>10486271</End>"
                "</PageRange>"
                "<NextMarker>abc</NextMarker></PageList>", &p, &c,
                &marker) == 0);
  CHECK (p.n == 2 && p.r[0].start == 0 && p.r[0].end == 4194816);
  CHECK (p.r[1].start == 10485760 && p.r[1].end == 10486272);
  CHECK (c.n == 1 && c.r[0].start == 8388608);
  CHECK (marker && strcmp (marker, "abc") == 0);
  CHECK (rangelist_bytes (&p) == 4194816 + 512);
  CHECK (rangelist_covers (&p, 512, 4096));
  CHECK (!rangelist_covers (&p, 4194304, 4194817 + 512));
  rangelist_free (&p);

  /* Empty list. */
  CHECK (parse ("<PageList/>", &p, NULL, NULL) == 0 && p.n == 0);
  /* Hostile or malformed. */
  CHECK (parse ("<PageList><PageRange><Start>1</Start><End>511</End>"
                "</PageRange></PageList>", &p, NULL, NULL) == -1);
  CHECK (parse ("<PageList><PageRange><Start>512</Start><End>-1</End>"
                "</PageRange></PageList>", &p, NULL, NULL) == -1);
  CHECK (parse ("<PageList><PageRange><Start>1024</Start><End>511</End>"
                "</PageRange></PageList>", &p, NULL, NULL) == -1);
  CHECK (parse ("<PageList><PageRange><Start>0</Start></PageRange></PageList>",
                &p, NULL, NULL) == -1);
  CHECK (parse ("<Other/>", &p, NULL, NULL) == -1);
  CHECK (parse ("<PageList>", &p, NULL, NULL) == -1);
  CHECK (parse ("<!DOCTYPE PageList [<!ENTITY e \"0\">]><PageList><PageRange>"
                "<Start>&e;</Start><End>511</End></PageRange></PageList>",
                &p, NULL, NULL) == -1);
  CHECK (parse ("<!DOCTYPE PageList SYSTEM \"http://127.0.0.1:1/x.dtd\">"
                "<PageList/>", &p, NULL, NULL) == -1);
  {
    /* More ranges than allowed. */
    char buf[20000];
    size_t n = snprintf (buf, sizeof buf, "<PageList>");
    for (int i = 0; i < 101; i++)
      n += snprintf (buf + n, sizeof buf - n, "<PageRange><Start>%d</Start>"
                     "<End>%d</End></PageRange>", i * 1024, i * 1024 + 511);
    snprintf (buf + n, sizeof buf - n, "</PageList>");
    CHECK (parse (buf, &p, NULL, NULL) == -1);
  }
  rangelist_free (&p);

  /* Range list operations. */
  CHECK (rangelist_add (&l, 100, 200) == 0);
  CHECK (rangelist_add (&l, 200, 300) == 0 && l.n == 1);
  CHECK (rangelist_add (&l, 0, 50) == 0);
  CHECK (rangelist_add (&l, 40, 120) == 0);
  rangelist_normalize (&l);
  CHECK (l.n == 1 && l.r[0].start == 0 && l.r[0].end == 300);
  CHECK (rangelist_add (&l, 400, 500) == 0);
  CHECK (rangelist_overlaps (&l, 299, 301));
  CHECK (!rangelist_overlaps (&l, 300, 400));
  CHECK (rangelist_overlaps (&l, 350, 401));
  CHECK (!rangelist_overlaps (&l, 500, 600));

  {
    const char *e = "<?xml version=\"1.0\"?><Error><Code>AuthenticationFailed"
      "</Code><Message>Server failed\nto auth</Message></Error>";
    storage_error_parse (e, strlen (e), &code, &msg);
  }
  CHECK (code && strcmp (code, "AuthenticationFailed") == 0);
  CHECK (msg && strcmp (msg, "Server failed to auth") == 0);
  free (code);
  free (msg);

  test_bloblist ();
  return UNIT_RESULT ("test-ranges");
}
