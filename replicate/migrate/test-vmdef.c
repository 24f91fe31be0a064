/* Unit tests: the storage account in a blob URL. */
#include <stdlib.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/migrate/vmdef.h"

static void
account (const char *url, const char *want)
{
  char *a = vmdef_account_from_url (url);
  if (want)
    CHECK_STR (a, want);
  else
    CHECK (a == NULL);
  free (a);
}

int
main (void)
{
  account ("https://acct.blob.core.windows.net/vms/d.vhd", "acct");
  /* Private endpoints, DNS zones, sovereign clouds, Azure Stack Hub, a
   * custom DNS zone: the account, never the container. */
  account ("https://acct.privatelink.blob.core.windows.net/vms/d.vhd",
           "acct");
  account ("https://acct.z01.blob.storage.azure.net/vms/d.vhd", "acct");
  account ("https://acct.blob.core.chinacloudapi.cn/vms/d.vhd", "acct");
  account ("https://acct.blob.local.azurestack.external/vms/d.vhd", "acct");
  account ("https://acct.storage.contoso.internal:8443/vms/d.vhd", "acct");
  /* Path style: Azurite and emulators. */
  account ("http://127.0.0.1:10000/devstoreaccount1/vms/d.vhd",
           "devstoreaccount1");
  account ("http://localhost:10000/devstoreaccount1/vms/d.vhd",
           "devstoreaccount1");
  account ("http://[::1]:10000/devstoreaccount1/vms/d.vhd",
           "devstoreaccount1");
  account ("http://azurite:10000/devstoreaccount1/vms/d.vhd",
           "devstoreaccount1");
  account ("http://127.0.0.1:10000/d.vhd", NULL);
  account ("https://.blob.core.windows.net/vms/d.vhd", NULL);
  account ("not a url", NULL);
  return UNIT_RESULT ("test-vmdef");
}
