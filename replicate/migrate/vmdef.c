/* VM definition options shared by template, test-migrate and migrate. */
#include <ctype.h>
#include <string.h>

#include "prep/common/common.h"
#include "replicate/migrate/vmdef.h"

int
vmdef_option (struct vmdef_opts *o, int c, const char *arg)
{
  switch (c) {
  case OPT_VM_SIZE: o->size = arg; return 1;
  case OPT_VM_DISK_TYPE:
    if (!arm_disk_sku (arg)) {
      usage_error (NULL, "--disk-type %s: use standard, standardssd or "
                   "premium", arg);
      return -1;
    }
    o->disk_type = arg;
    return 1;
  case OPT_VM_VNET: o->vnet = arg; return 1;
  case OPT_VM_VNET_RG: o->vnet_rg = arg; return 1;
  case OPT_VM_SUBNET: o->subnet = arg; return 1;
  case OPT_VM_AVSET: o->availability_set = arg; return 1;
  case OPT_VM_HYBRID: o->hybrid_benefit = true; return 1;
  case OPT_VM_LICENSE: o->license_type = arg; return 1;
  case OPT_VM_LOCATION: o->location = arg; return 1;
  case OPT_VM_SA_ID:
    if (arg[0] != '/') {
      usage_error (NULL, "--storage-account-id must be a resource id "
                   "(/subscriptions/...)");
      return -1;
    }
    o->storage_account_id = arg;
    return 1;
  case OPT_VM_SA_RG: o->storage_rg = arg; return 1;
  case OPT_VM_RG: o->resource_group = arg; return 1;
  default: return 0;
  }
}

int
vmdef_require (const struct vmdef_opts *o, const char *cmd)
{
  if (!o->vnet || !o->subnet)
    return usage_error (cmd, "--vnet and --subnet are needed for the VM "
                        "definition (a non-production network for tests)");
  /* Not the resource group's region: Azure imports a blob into a
   * managed disk only in the storage account's region, which a blob
   * URL does not tell. */
  if (!o->location)
    return usage_error (cmd, "--location REGION is needed: the region of "
                        "the storage account holding the blobs (an import "
                        "from a blob works only there; 'az storage account "
                        "show -n ACCOUNT --query location' tells it)");
  return 0;
}

const char *
vmdef_license_type (bool windows, const char *distro, const char *variant)
{
  if (windows)
    return variant && !strcmp (variant, "Client")
      ? "Windows_Client" : "Windows_Server";
  if (distro && (!strcmp (distro, "rhel") || !strcmp (distro, "redhat-based")))
    return "RHEL_BYOS";
  if (distro && (!strcmp (distro, "sles") || !strcmp (distro, "suse-based")))
    return "SLES_BYOS";
  azp_error ("--hybrid-benefit: Azure Hybrid Benefit covers Windows, RHEL and "
             "SLES, not %s (give --license-type to force one)",
             distro ? distro : "this guest");
  return NULL;
}

/* Is host (without a port) an address or a single-label name, where
 * emulators (Azurite) serve accounts path-style? */
static bool
host_is_path_style (const char *host, size_t len)
{
  if (len > 0 && host[0] == '[')
    return true;                          /* an IPv6 literal */
  if (memchr (host, '.', len) == NULL)
    return true;                          /* localhost, a short name */
  for (size_t i = 0; i < len; i++)
    if (!isdigit ((unsigned char) host[i]) && host[i] != '.')
      return false;
  return true;                            /* an IPv4 address */
}

char *
vmdef_account_from_url (const char *url)
{
  const char *p = strstr (url, "://"), *host, *slash, *end;

  if (!p)
    return NULL;
  host = p + 3;
  slash = strchr (host, '/');
  if (!slash)
    return NULL;
  end = memchr (host, ':', slash - host);
  if (!end || host[0] == '[')
    end = slash;
  /* A DNS name: the account is its first label, whatever the zone
   * (ACCOUNT.blob.core.windows.net, ACCOUNT.privatelink.blob...,
   * ACCOUNT.z01.blob.storage.azure.net, a sovereign cloud, Azure Stack
   * Hub or a custom DNS zone). */
  if (!host_is_path_style (host, end - host)) {
    const char *dot = memchr (host, '.', end - host);
    return dot > host ? strndup (host, dot - host) : NULL;
  }
  /* Path style (Azurite, emulators): the first path segment. */
  p = slash + 1;
  slash = strchr (p, '/');
  if (!slash || slash == p)
    return NULL;
  return strndup (p, slash - p);
}

int
vmdef_fill (struct arm_vm *vm, const struct vmdef_opts *o)
{
  if (o->size)
    vm->size = o->size;
  vm->disk_sku = arm_disk_sku (o->disk_type ? o->disk_type : "standard");
  vm->vnet = o->vnet;
  vm->subnet = o->subnet;
  vm->vnet_resource_group = o->vnet_rg;
  vm->availability_set = o->availability_set;
  vm->location = o->location;
  vm->storage_account_id = o->storage_account_id;
  vm->storage_resource_group = o->storage_rg;
  if (o->license_type)
    vm->license_type = o->license_type;
  if (!vm->size) {
    azp_error ("%s: no VM size: give --size", vm->name);
    return -1;
  }
  return 0;
}

int
vmdef_emit (const struct arm_vm *vm, const struct vmdef_opts *o,
            const char *dir, cJSON *json, bool print)
{
  CLEANUP_FREE char *tp = NULL, *pp = NULL, *cmd = NULL;

  if (arm_write (vm, dir, &tp, &pp) == -1)
    return -1;
  cmd = arm_deploy_command (vm, o->resource_group, tp, pp);
  if (!cmd)
    return -1;
  if (json) {
    cJSON *d = cJSON_AddObjectToObject (json, "vm_definition");
    cJSON_AddStringToObject (d, "vm", vm->name);
    cJSON_AddStringToObject (d, "template", tp);
    cJSON_AddStringToObject (d, "parameters", pp);
    cJSON_AddStringToObject (d, "deploy", cmd);
  }
  if (print) {
    printf ("VM definition for %s:\n  template:   %s\n  parameters: %s\n"
            "Deploy it with (azprep writes the template, Azure deploys "
            "it):\n  %s\n", vm->name, tp, pp, cmd);
  }
  return 0;
}
