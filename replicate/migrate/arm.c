/* ARM template and parameters file for a VM made of hydrated blobs.
 *
 * The managed disks are imported from the page blobs (createOption
 * Import, sourceUri, storageAccountId; the OS disk with osType and
 * hyperVGeneration), then attached to the VM (createOption Attach: no
 * osProfile, the guest keeps its own identity).  Values an engineer may
 * want to change at deployment (location, size, network, disk type) are
 * template parameters whose values are in the parameters file.
 */
#include <ctype.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "replicate/migrate/arm.h"

#define SCHEMA_BASE "https://schema.management.azure.com/schemas/2019-04-01/"
#define SCHEMA SCHEMA_BASE "deploymentTemplate.json#"
#define PARAMS_SCHEMA SCHEMA_BASE "deploymentParameters.json#"
#define API_DISKS "2023-04-02"
#define API_NICS "2023-09-01"
#define API_VMS "2023-09-01"

static const struct { const char *type, *sku; } skus[] = {
  { "standard", "Standard_LRS" },
  { "standardssd", "StandardSSD_LRS" },
  { "premium", "Premium_LRS" },
  { "Standard_LRS", "Standard_LRS" },
  { "StandardSSD_LRS", "StandardSSD_LRS" },
  { "Premium_LRS", "Premium_LRS" },
};

const char *
arm_disk_sku (const char *type)
{
  for (size_t i = 0; i < sizeof skus / sizeof skus[0]; i++)
    if (!strcmp (type, skus[i].type))
      return skus[i].sku;
  return NULL;
}

/* Azure resource names: letters, digits, '-', '_', '.'; we also keep
 * them short enough for the "-datadisk-NN" suffixes. */
static bool
valid_name (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 60 || !isalnum ((unsigned char) s[0]))
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isalnum ((unsigned char) s[i]) && !strchr ("-_.", s[i]))
      return false;
  return true;
}

/* A value ARM will not take as an expression: no leading '['. */
static bool
valid_literal (const char *s)
{
  return s && *s && s[0] != '[' && !strpbrk (s, "'\r\n");
}

static char *
disk_name (const struct arm_vm *vm, size_t i)
{
  return i == 0 ? xasprintf ("%s-osdisk", vm->name)
    : xasprintf ("%s-datadisk-%zu", vm->name, i);
}

static void
add_param (cJSON *params, const char *name, const char *type,
           const char *description, const char *def)
{
  cJSON *p = cJSON_AddObjectToObject (params, name);
  cJSON *meta;
  cJSON_AddStringToObject (p, "type", type);
  if (def)
    cJSON_AddStringToObject (p, "defaultValue", def);
  meta = cJSON_AddObjectToObject (p, "metadata");
  cJSON_AddStringToObject (meta, "description", description);
}

static int
check_vm (const struct arm_vm *vm)
{
  if (!vm->name || !valid_name (vm->name)) {
    azp_error ("VM name '%s' is not a valid Azure resource name (letters, "
               "digits, '-', '_', '.', at most 60)", vm->name ? vm->name : "");
    return -1;
  }
  if (vm->ndisks == 0 || vm->ndisks > 64) {
    azp_error ("%s: %zu disks: a VM definition needs 1 to 64", vm->name,
               vm->ndisks);
    return -1;
  }
  if (vm->generation != 1 && vm->generation != 2) {
    azp_error ("%s: Hyper-V generation %d: must be 1 or 2", vm->name,
               vm->generation);
    return -1;
  }
  if (!valid_literal (vm->size) || !valid_literal (vm->disk_sku) ||
      !valid_literal (vm->storage_account) || !valid_literal (vm->vnet) ||
      !valid_literal (vm->subnet)) {
    azp_error ("%s: VM size, disk type, storage account, VNet and subnet are "
               "all needed (and may not start with '[' or contain quotes)",
               vm->name);
    return -1;
  }
  for (size_t i = 0; i < vm->ndisks; i++)
    if (!valid_literal (vm->disks[i].source_uri) ||
        strchr (vm->disks[i].source_uri, '?')) {
      azp_error ("%s: disk %zu: the source URI must be a plain blob URL "
                 "(no SAS, no snapshot)", vm->name, i);
      return -1;
    }
  return 0;
}

static cJSON *
disk_resource (const struct arm_vm *vm, size_t i)
{
  CLEANUP_FREE char *name = disk_name (vm, i);
  CLEANUP_FREE char *uri = xasprintf ("[parameters('disk%zuUri')]", i);
  cJSON *r = cJSON_CreateObject ();
  cJSON *sku, *props, *cd;

  cJSON_AddStringToObject (r, "type", "Microsoft.Compute/disks");
  cJSON_AddStringToObject (r, "apiVersion", API_DISKS);
  cJSON_AddStringToObject (r, "name", name);
  cJSON_AddStringToObject (r, "location", "[parameters('location')]");
  sku = cJSON_AddObjectToObject (r, "sku");
  cJSON_AddStringToObject (sku, "name", "[parameters('diskSku')]");
  props = cJSON_AddObjectToObject (r, "properties");
  if (i == 0) {
    cJSON_AddStringToObject (props, "osType",
                             vm->windows ? "Windows" : "Linux");
    cJSON_AddStringToObject (props, "hyperVGeneration",
                             vm->generation == 2 ? "V2" : "V1");
  }
  cd = cJSON_AddObjectToObject (props, "creationData");
  cJSON_AddStringToObject (cd, "createOption", "Import");
  cJSON_AddStringToObject (cd, "sourceUri", uri);
  cJSON_AddStringToObject (cd, "storageAccountId",
                           "[variables('storageAccountId')]");
  return r;
}

static cJSON *
nic_resource (const struct arm_vm *vm)
{
  CLEANUP_FREE char *name = xasprintf ("%s-nic", vm->name);
  cJSON *r = cJSON_CreateObject ();
  cJSON *props, *ipcs, *ipc, *ipp, *subnet;

  cJSON_AddStringToObject (r, "type", "Microsoft.Network/networkInterfaces");
  cJSON_AddStringToObject (r, "apiVersion", API_NICS);
  cJSON_AddStringToObject (r, "name", name);
  cJSON_AddStringToObject (r, "location", "[parameters('location')]");
  props = cJSON_AddObjectToObject (r, "properties");
  ipcs = cJSON_AddArrayToObject (props, "ipConfigurations");
  ipc = cJSON_CreateObject ();
  cJSON_AddItemToArray (ipcs, ipc);
  cJSON_AddStringToObject (ipc, "name", "ipconfig1");
  ipp = cJSON_AddObjectToObject (ipc, "properties");
  cJSON_AddStringToObject (ipp, "privateIPAllocationMethod", "Dynamic");
  subnet = cJSON_AddObjectToObject (ipp, "subnet");
  cJSON_AddStringToObject (subnet, "id", "[variables('subnetId')]");
  return r;
}

static cJSON *
vm_resource (const struct arm_vm *vm)
{
  CLEANUP_FREE char *nic = xasprintf ("%s-nic", vm->name);
  cJSON *r = cJSON_CreateObject ();
  cJSON *deps, *props, *hw, *sp, *osd, *md, *dds, *np, *nics, *ni, *diag, *bd;

  cJSON_AddStringToObject (r, "type", "Microsoft.Compute/virtualMachines");
  cJSON_AddStringToObject (r, "apiVersion", API_VMS);
  cJSON_AddStringToObject (r, "name", vm->name);
  cJSON_AddStringToObject (r, "location", "[parameters('location')]");
  deps = cJSON_AddArrayToObject (r, "dependsOn");
  {
    CLEANUP_FREE char *d = xasprintf ("[resourceId('Microsoft.Network/"
                                      "networkInterfaces', '%s')]", nic);
    cJSON_AddItemToArray (deps, cJSON_CreateString (d));
  }
  for (size_t i = 0; i < vm->ndisks; i++) {
    CLEANUP_FREE char *dn = disk_name (vm, i);
    CLEANUP_FREE char *d = xasprintf ("[resourceId('Microsoft.Compute/disks',"
                                      " '%s')]", dn);
    cJSON_AddItemToArray (deps, cJSON_CreateString (d));
  }

  props = cJSON_AddObjectToObject (r, "properties");
  hw = cJSON_AddObjectToObject (props, "hardwareProfile");
  cJSON_AddStringToObject (hw, "vmSize", "[parameters('vmSize')]");
  sp = cJSON_AddObjectToObject (props, "storageProfile");
  for (size_t i = 0; i < vm->ndisks; i++) {
    CLEANUP_FREE char *dn = disk_name (vm, i);
    CLEANUP_FREE char *id = xasprintf ("[resourceId('Microsoft.Compute/disks',"
                                       " '%s')]", dn);
    cJSON *d;
    if (i == 0) {
      d = osd = cJSON_AddObjectToObject (sp, "osDisk");
      cJSON_AddStringToObject (osd, "osType",
                               vm->windows ? "Windows" : "Linux");
      dds = vm->ndisks > 1 ? cJSON_AddArrayToObject (sp, "dataDisks") : NULL;
    }
    else {
      d = cJSON_CreateObject ();
      cJSON_AddNumberToObject (d, "lun", (double) (i - 1));
      cJSON_AddItemToArray (dds, d);
    }
    cJSON_AddStringToObject (d, "name", dn);
    cJSON_AddStringToObject (d, "createOption", "Attach");
    md = cJSON_AddObjectToObject (d, "managedDisk");
    cJSON_AddStringToObject (md, "id", id);
  }
  np = cJSON_AddObjectToObject (props, "networkProfile");
  nics = cJSON_AddArrayToObject (np, "networkInterfaces");
  ni = cJSON_CreateObject ();
  cJSON_AddItemToArray (nics, ni);
  {
    CLEANUP_FREE char *d = xasprintf ("[resourceId('Microsoft.Network/"
                                      "networkInterfaces', '%s')]", nic);
    cJSON_AddStringToObject (ni, "id", d);
  }
  /* The serial console needs boot diagnostics (managed storage). */
  diag = cJSON_AddObjectToObject (props, "diagnosticsProfile");
  bd = cJSON_AddObjectToObject (diag, "bootDiagnostics");
  cJSON_AddBoolToObject (bd, "enabled", 1);
  if (vm->availability_set) {
    cJSON *as = cJSON_AddObjectToObject (props, "availabilitySet");
    cJSON_AddStringToObject (as, "id", "[variables('availabilitySetId')]");
  }
  if (vm->license_type)
    cJSON_AddStringToObject (props, "licenseType", vm->license_type);
  return r;
}

cJSON *
arm_template (const struct arm_vm *vm)
{
  cJSON *t, *params, *vars, *res, *outs, *o;

  if (check_vm (vm) == -1)
    return NULL;
  t = cJSON_CreateObject ();
  cJSON_AddStringToObject (t, "$schema", SCHEMA);
  cJSON_AddStringToObject (t, "contentVersion", "1.0.0.0");
  o = cJSON_AddObjectToObject (t, "metadata");
  cJSON_AddStringToObject (o, "generator", "azprep " PACKAGE_VERSION);

  params = cJSON_AddObjectToObject (t, "parameters");
  add_param (params, "location", "string",
             "Region: the storage account's (a managed disk imports a blob "
             "only in the blob's region)", NULL);
  add_param (params, "vmSize", "string", "VM size", NULL);
  add_param (params, "diskSku", "string",
             "Managed disk type (Standard_LRS, StandardSSD_LRS, Premium_LRS)",
             NULL);
  if (!vm->storage_account_id) {
    add_param (params, "storageAccountName", "string",
               "Storage account holding the blobs", NULL);
    add_param (params, "storageAccountResourceGroup", "string",
               "Resource group of that account", "[resourceGroup().name]");
  }
  if (vm->vnet[0] != '/') {
    add_param (params, "vnetName", "string", "Existing virtual network",
               NULL);
    add_param (params, "vnetResourceGroup", "string",
               "Resource group of that network", "[resourceGroup().name]");
  }
  add_param (params, "subnetName", "string", "Subnet of that network", NULL);
  if (vm->availability_set && vm->availability_set[0] != '/')
    add_param (params, "availabilitySetName", "string",
               "Existing availability set", NULL);
  for (size_t i = 0; i < vm->ndisks; i++) {
    CLEANUP_FREE char *n = xasprintf ("disk%zuUri", i);
    CLEANUP_FREE char *d = xasprintf ("Hydrated page blob (fixed VHD) of %s "
                                      "disk %zu", i == 0 ? "the OS" : "data",
                                      i);
    add_param (params, n, "string", d, NULL);
  }

  /* Resource ids: given in full, or built by ARM from names (a
   * parameters file cannot hold expressions). */
  vars = cJSON_AddObjectToObject (t, "variables");
  if (vm->storage_account_id)
    cJSON_AddStringToObject (vars, "storageAccountId",
                             vm->storage_account_id);
  else
    cJSON_AddStringToObject (vars, "storageAccountId",
                             "[resourceId("
                             "parameters('storageAccountResourceGroup'), "
                             "'Microsoft.Storage/storageAccounts', "
                             "parameters('storageAccountName'))]");
  if (vm->vnet[0] == '/') {
    CLEANUP_FREE char *e = xasprintf ("[concat('%s', '/subnets/', "
                                      "parameters('subnetName'))]", vm->vnet);
    cJSON_AddStringToObject (vars, "subnetId", e);
  }
  else
    cJSON_AddStringToObject (vars, "subnetId",
                             "[resourceId(parameters('vnetResourceGroup'), "
                             "'Microsoft.Network/virtualNetworks/subnets', "
                             "parameters('vnetName'), "
                             "parameters('subnetName'))]");
  if (vm->availability_set && vm->availability_set[0] == '/')
    cJSON_AddStringToObject (vars, "availabilitySetId", vm->availability_set);
  else if (vm->availability_set)
    cJSON_AddStringToObject (vars, "availabilitySetId",
                             "[resourceId("
                             "'Microsoft.Compute/availabilitySets', "
                             "parameters('availabilitySetName'))]");

  res = cJSON_AddArrayToObject (t, "resources");
  for (size_t i = 0; i < vm->ndisks; i++)
    cJSON_AddItemToArray (res, disk_resource (vm, i));
  cJSON_AddItemToArray (res, nic_resource (vm));
  cJSON_AddItemToArray (res, vm_resource (vm));

  outs = cJSON_AddObjectToObject (t, "outputs");
  o = cJSON_AddObjectToObject (outs, "vmId");
  cJSON_AddStringToObject (o, "type", "string");
  {
    CLEANUP_FREE char *v = xasprintf ("[resourceId('Microsoft.Compute/"
                                      "virtualMachines', '%s')]", vm->name);
    cJSON_AddStringToObject (o, "value", v);
  }
  return t;
}

static void
add_value (cJSON *params, const char *name, const char *value)
{
  cJSON *p = cJSON_AddObjectToObject (params, name);
  cJSON_AddStringToObject (p, "value", value);
}

cJSON *
arm_parameters (const struct arm_vm *vm)
{
  cJSON *t, *params;

  if (check_vm (vm) == -1)
    return NULL;
  t = cJSON_CreateObject ();
  cJSON_AddStringToObject (t, "$schema", PARAMS_SCHEMA);
  cJSON_AddStringToObject (t, "contentVersion", "1.0.0.0");
  params = cJSON_AddObjectToObject (t, "parameters");
  if (vm->location)
    add_value (params, "location", vm->location);
  add_value (params, "vmSize", vm->size);
  add_value (params, "diskSku", vm->disk_sku);
  for (size_t i = 0; i < vm->ndisks; i++) {
    CLEANUP_FREE char *n = xasprintf ("disk%zuUri", i);
    add_value (params, n, vm->disks[i].source_uri);
  }
  if (!vm->storage_account_id) {
    add_value (params, "storageAccountName", vm->storage_account);
    if (vm->storage_resource_group)
      add_value (params, "storageAccountResourceGroup",
                 vm->storage_resource_group);
  }
  if (vm->vnet[0] != '/') {
    add_value (params, "vnetName", vm->vnet);
    if (vm->vnet_resource_group)
      add_value (params, "vnetResourceGroup", vm->vnet_resource_group);
  }
  add_value (params, "subnetName", vm->subnet);
  if (vm->availability_set && vm->availability_set[0] != '/')
    add_value (params, "availabilitySetName", vm->availability_set);
  return t;
}

static int
write_json (const char *path, const cJSON *j)
{
  CLEANUP_FREE char *s = cJSON_Print (j);
  CLEANUP_FREE char *nl = NULL;

  if (!s) {
    azp_error ("%s: out of memory", path);
    return -1;
  }
  nl = xasprintf ("%s\n", s);
  if (!nl)
    return -1;
  return write_file_atomic (path, nl, strlen (nl));
}

int
arm_write (const struct arm_vm *vm, const char *dir,
           char **template_r, char **params_r)
{
  CLEANUP_CJSON cJSON *t = arm_template (vm);
  CLEANUP_CJSON cJSON *p = NULL;
  CLEANUP_FREE char *tp = NULL, *pp = NULL;

  if (!t)
    return -1;
  p = arm_parameters (vm);
  tp = xasprintf ("%s/%s.template.json", dir, vm->name);
  pp = xasprintf ("%s/%s.parameters.json", dir, vm->name);
  if (!p || !tp || !pp || write_json (tp, t) == -1 ||
      write_json (pp, p) == -1)
    return -1;
  *template_r = tp;
  *params_r = pp;
  tp = pp = NULL;
  return 0;
}

char *
arm_deploy_command (const struct arm_vm *vm, const char *resource_group,
                    const char *template_path, const char *params_path)
{
  CLEANUP_FREE char *rg = NULL, *tp = NULL, *pp = NULL, *pa = NULL;

  rg = shell_quote (resource_group ? resource_group : "RESOURCE_GROUP");
  tp = shell_quote (template_path);
  pa = xasprintf ("@%s", params_path);
  pp = pa ? shell_quote (pa) : NULL;
  if (!rg || !tp || !pp) {
    return NULL;
  }
  return xasprintf ("az deployment group create --resource-group %s "
                    "--name azprep-%s --template-file %s --parameters %s",
                    rg, vm->name, tp, pp);
}
