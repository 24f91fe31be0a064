/* Fuzz what azprep reads of a vCenter's SOAP replies
 * (replicate/vsphere/soap.c, inventory.c): the safe parse, the Body or
 * its Fault and the fault's message, and a RetrievePropertiesEx result
 * added to an inventory and resolved. */
#include <stdlib.h>

#include "replicate/vsphere/vsphere.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  xmlDocPtr doc = vsphere_parse_xml ((const char *) data, size, "fuzz");
  struct vsphere_fault f = { 0 };
  struct vsphere_inventory *inv;
  xmlNodePtr body;
  char *token = NULL;

  if (!doc)
    return 0;
  body = vsphere_body (doc, &f);
  free (vsphere_fault_message (&f, "fuzz"));
  vsphere_fault_clear (&f);
  inv = vsphere_inventory_new ();
  if (body && inv) {
    xmlNodePtr rv = vsphere_child (body, "returnval");
    free (vsphere_xsi_type (body));
    free (vsphere_child_text (body, "returnval"));
    if (vsphere_inventory_add (inv, rv, &token) == 0)
      vsphere_inventory_resolve (inv);
    vsphere_fault_from_node (vsphere_child (rv, "error"), &f);
    vsphere_fault_clear (&f);
  }
  vsphere_inventory_free (inv);
  free (token);
  xmlFreeDoc (doc);
  return 0;
}
