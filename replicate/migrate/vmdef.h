/* The options that describe the Azure VM to define (template,
 * test-migrate, migrate share them) and their translation into an
 * arm_vm.
 */
#ifndef AZPREP_VMDEF_H
#define AZPREP_VMDEF_H

#include <getopt.h>
#include <stdbool.h>

#include "replicate/migrate/arm.h"

enum {
  OPT_VM_SIZE = 0x300, OPT_VM_DISK_TYPE, OPT_VM_VNET, OPT_VM_VNET_RG,
  OPT_VM_SUBNET, OPT_VM_AVSET, OPT_VM_HYBRID, OPT_VM_LICENSE,
  OPT_VM_LOCATION, OPT_VM_SA_ID, OPT_VM_SA_RG, OPT_VM_RG,
};

#define VMDEF_LONG_OPTIONS                                              \
  { "size", required_argument, NULL, OPT_VM_SIZE },                     \
  { "disk-type", required_argument, NULL, OPT_VM_DISK_TYPE },           \
  { "vnet", required_argument, NULL, OPT_VM_VNET },                     \
  { "vnet-resource-group", required_argument, NULL, OPT_VM_VNET_RG },   \
  { "subnet", required_argument, NULL, OPT_VM_SUBNET },                 \
  { "availability-set", required_argument, NULL, OPT_VM_AVSET },        \
  { "hybrid-benefit", no_argument, NULL, OPT_VM_HYBRID },               \
  { "license-type", required_argument, NULL, OPT_VM_LICENSE },          \
  { "location", required_argument, NULL, OPT_VM_LOCATION },             \
  { "storage-account-id", required_argument, NULL, OPT_VM_SA_ID },      \
  { "storage-resource-group", required_argument, NULL, OPT_VM_SA_RG },  \
  { "resource-group", required_argument, NULL, OPT_VM_RG }

#define VMDEF_USAGE                                                     \
  "VM definition (ARM template):\n"                                     \
  "  --size SIZE          VM size (default: the check suggestion)\n"   \
  "  --disk-type TYPE     standard (default), standardssd, premium\n"   \
  "  --vnet NAME|ID       existing virtual network for the NIC\n"       \
  "  --subnet NAME        its subnet (tests: a non-production one)\n"   \
  "  --vnet-resource-group RG  when the VNet is in another group\n"     \
  "  --availability-set NAME|ID  put the VM in this availability set\n" \
  "  --hybrid-benefit     Azure Hybrid Benefit (licenseType from the OS)\n" \
  "  --license-type TYPE  licenseType as given (Windows_Server, RHEL_BYOS,\n" \
  "                       SLES_BYOS, ...)\n"                            \
  "  --location REGION    the storage account's region (required: Azure\n" \
  "                       imports a blob into a managed disk only in\n" \
  "                       its storage account's region)\n"          \
  "  --storage-account-id ID   resource id of the blobs' account\n"    \
  "  --storage-resource-group RG  its group, if not the deployment's\n" \
  "  --resource-group RG  for the printed az command\n"

struct vmdef_opts {
  const char *size;
  const char *disk_type;
  const char *vnet, *vnet_rg, *subnet;
  const char *availability_set;
  bool hybrid_benefit;
  const char *license_type;
  const char *location;
  const char *storage_account_id, *storage_rg;
  const char *resource_group;
};

/* Handle one of VMDEF_LONG_OPTIONS: 1 if it was one, 0 if not, -1 on a
 * bad value (reported as a usage error). */
int vmdef_option (struct vmdef_opts *o, int c, const char *arg);

/* Check that what a definition needs is there (--vnet, --subnet). */
int vmdef_require (const struct vmdef_opts *o, const char *cmd);

/* licenseType for Azure Hybrid Benefit from the inspected OS: Windows
 * Server/Client, RHEL, SLES; NULL (reported) when there is none. */
const char *vmdef_license_type (bool windows, const char *distro,
                                const char *variant);

/* The storage account name in a blob URL: the first label of a DNS
 * host name (https://ACCOUNT.blob.core.windows.net/...,
 * ACCOUNT.privatelink.blob..., a custom DNS zone), or path-style the
 * first path segment where the host is an address or a single label
 * (Azurite: http://127.0.0.1:10000/ACCOUNT/...); NULL if none. */
char *vmdef_account_from_url (const char *url);

/* Fill vm from the options; vm->name, windows, generation, disks and
 * size (if not given) come from the caller.  0 or -1. */
int vmdef_fill (struct arm_vm *vm, const struct vmdef_opts *o);

/* Write the template and parameters into dir; add where and the az
 * command to json (if not NULL) as "vm_definition", print them if
 * print.  0 or -1. */
int vmdef_emit (const struct arm_vm *vm, const struct vmdef_opts *o,
                const char *dir, cJSON *json, bool print);

#endif
