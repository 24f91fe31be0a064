/* The Azure VM definition: an ARM template and its parameters file that
 * create managed disks from hydrated page blobs (createOption Import), a
 * NIC in an existing VNet/subnet, and the VM.  azprep writes the files;
 * Azure (az deployment group create) deploys them.  Pure: no I/O except
 * arm_write().
 */
#ifndef AZPREP_ARM_H
#define AZPREP_ARM_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

struct arm_disk {
  const char *source_uri;     /* the hydrated blob, without any SAS */
  int64_t size;               /* blob size in bytes (virtual size + 512) */
};

struct arm_vm {
  const char *name;           /* the VM: "<vm>-Test" or "<vm>" */
  const char *location;       /* the storage account's region */
  const char *size;           /* e.g. Standard_D2s_v5 */
  bool windows;               /* osType Windows, else Linux */
  int generation;             /* 1 (BIOS) or 2 (UEFI) */
  const char *disk_sku;       /* Standard_LRS, StandardSSD_LRS, Premium_LRS */
  const char *storage_account;     /* account name of the blobs */
  const char *storage_account_id;  /* full resource id, or NULL */
  const char *storage_resource_group;  /* NULL: the deployment's */
  const char *vnet;           /* name, or full resource id of the VNet */
  const char *subnet;         /* name */
  const char *vnet_resource_group;  /* NULL: the deployment's */
  const char *availability_set;     /* name or resource id, or NULL */
  const char *license_type;   /* Windows_Server, RHEL_BYOS, ... or NULL */
  const struct arm_disk *disks;     /* disks[0] is the OS disk */
  size_t ndisks;
};

/* "standard", "standardssd", "premium" (or an exact SKU) to a disk SKU;
 * NULL if unknown. */
const char *arm_disk_sku (const char *type);

/* The template (deploymentTemplate 2019-04-01 schema) and its
 * parameters file.  NULL on error (reported). */
cJSON *arm_template (const struct arm_vm *vm);
cJSON *arm_parameters (const struct arm_vm *vm);

/* Write DIR/<name>.template.json and DIR/<name>.parameters.json
 * atomically; return their paths in *template_r, *params_r. */
int arm_write (const struct arm_vm *vm, const char *dir,
               char **template_r, char **params_r);

/* The exact command that deploys them (RESOURCE_GROUP when not given).
 * NULL if a path cannot be quoted (reported). */
char *arm_deploy_command (const struct arm_vm *vm, const char *resource_group,
                          const char *template_path, const char *params_path);

#endif
