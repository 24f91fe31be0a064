/* Inspection, Linux section: kernels and what their initramfs really
 * holds, the initramfs tool, the bootloader, the network configuration,
 * sshd and other hypervisors' tools.  The same distros/ code as the
 * fixups decides each answer, so inspect and fix never disagree. */
#include <string.h>

#include "prep/common/json.h"
#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"


static cJSON *
strv_json (char *const *v)
{
  cJSON *a = cJSON_CreateArray ();
  for (size_t i = 0; v && v[i]; i++)
    cJSON_AddItemToArray (a, cJSON_CreateString (v[i]));
  return a;
}

static int
kernels_json (struct guest *gs, struct distro_data *d, cJSON *l)
{
  static const char *const required[] = HV_REQUIRED_DRIVERS;
  cJSON *ka = cJSON_AddArrayToObject (l, "kernels");

  for (size_t i = 0; i < d->nkernels; i++) {
    const struct kernel *k = &d->kernels[i];
    CLEANUP_FREE_STRING_LIST char **missing = NULL;
    cJSON *ko = cJSON_CreateObject (), *hv;
    bool ready = true;

    cJSON_AddItemToArray (ka, ko);
    cJSON_AddStringToObject (ko, "version", k->version);
    cJSON_AddStringToObject (ko, "vmlinuz", k->vmlinuz);
    cJSON_AddStringToObject (ko, "initramfs", k->initrd);
    cJSON_AddBoolToObject (ko, "initramfs_exists", k->initrd_exists);
    missing = kernel_initrd_missing (gs, k);
    if (!missing)
      return -1;
    /* Per required driver: in the initramfs, built in, or absent. */
    hv = cJSON_AddObjectToObject (ko, "hyperv_drivers");
    for (size_t j = 0; required[j]; j++) {
      const char *st = strv_has (k->builtin, required[j]) ? "built-in"
        : strv_has (k->absent, required[j]) ? "not-in-kernel"
        : strv_has (missing, required[j]) ? "missing-from-initramfs"
        : "in-initramfs";
      if (strcmp (st, "in-initramfs") && strcmp (st, "built-in"))
        ready = false;
      cJSON_AddStringToObject (hv, required[j], st);
    }
    cJSON_AddItemToObject (ko, "initramfs_missing", strv_json (missing));
    cJSON_AddBoolToObject (ko, "hyperv_ready", ready);
  }
  return 0;
}

static void
bootloader_json (struct guest *gs, struct distro_data *d, cJSON *l)
{
  cJSON *b = cJSON_AddObjectToObject (l, "bootloader");
  json_add_str (b, "kind", d->grub == GRUB_BLS ? "grub2-bls"
           : d->grub == GRUB_MKCONFIG ? "grub2" : NULL);
  json_add_str (b, "config", d->grub_cfg);
  json_add_str (b, "regenerate_with", d->grub_tool);
  json_add_str (b, "grubby", d->grubby);
  json_add_str (b, "esp_efi", d->esp_efi);
}

static int
network_json (struct guest *gs, struct distro_data *d, cJSON *l)
{
  cJSON *n = cJSON_AddObjectToObject (l, "network");
  cJSON *st = cJSON_AddArrayToObject (n, "stacks");
  cJSON *ia = cJSON_AddArrayToObject (n, "interfaces");
  struct net_iface *ifs;
  size_t ni;

  if (net_scan_all (gs, &ifs, &ni) == -1)
    return -1;
  for (size_t i = 0; i < d->nnet; i++) {
    bool used = false;
    for (size_t j = 0; j < ni; j++)
      used = used || ifs[j].ops == d->net[i];
    if (used)
      cJSON_AddItemToArray (st, cJSON_CreateString (d->net[i]->name));
  }
  for (size_t j = 0; j < ni; j++) {
    cJSON *o = cJSON_CreateObject ();
    const char *why = ifs[j].ops->needs_fix (gs, &ifs[j], j);
    cJSON_AddItemToArray (ia, o);
    cJSON_AddStringToObject (o, "stack", ifs[j].ops->name);
    cJSON_AddStringToObject (o, "file", ifs[j].file);
    json_add_str (o, "name", ifs[j].name);
    cJSON_AddStringToObject (o, "mode", ifs[j].dhcp ? "dhcp" : "static");
    json_add_str (o, "mac_binding", ifs[j].mac);
    json_add_str (o, "azure_problem", why);
  }
  net_ifaces_free (ifs, ni);
  return 0;
}

static void
services_json (struct guest *gs, struct distro_data *d, cJSON *l)
{
  cJSON *s = cJSON_AddObjectToObject (l, "sshd");
  cJSON *v = cJSON_AddObjectToObject (l, "hypervisor_tools");
  cJSON *va = cJSON_AddArrayToObject (v, "services");
  const char *sshd = NULL;
  bool any = false;

  for (size_t i = 0; d->ops->sshd_units[i] && !sshd; i++)
    if (service_installed (gs, d->ops->sshd_units[i]))
      sshd = d->ops->sshd_units[i];
  json_add_str (s, "service", sshd);
  cJSON_AddBoolToObject (s, "installed", sshd != NULL);
  cJSON_AddBoolToObject (s, "enabled_at_boot",
                         sshd && service_enabled (gs, sshd));
  for (size_t i = 0; hypervisor_tools[i]; i++) {
    cJSON *o;
    if (!service_installed (gs, hypervisor_tools[i]))
      continue;
    any = true;
    o = cJSON_CreateObject ();
    cJSON_AddStringToObject (o, "service", hypervisor_tools[i]);
    cJSON_AddBoolToObject (o, "enabled_at_boot",
                           service_enabled (gs, hypervisor_tools[i]));
    cJSON_AddItemToArray (va, o);
  }
  cJSON_AddBoolToObject (v, "installed",
                         any || guest_exists (gs, "/usr/bin/vmtoolsd"));
}

int
inspect_linux_json (struct guest *gs, cJSON *j)
{
  struct distro_data *d = distro_get (gs);
  cJSON *l;

  if (!d)
    return -1;
  l = cJSON_AddObjectToObject (j, "linux");
  json_add_str (l, "family", d->ops ? d->ops->family : NULL);
  if (!d->ops) {
    json_add_str (l, "unsupported", d->unsupported);
    return 0;
  }
  json_add_str (l, "init", d->systemd ? "systemd" : "sysv");
  json_add_str (l, "initramfs_tool", d->initramfs ? d->initramfs->name : NULL);
  json_add_str (l, "initramfs_tool_path", d->initramfs_tool);
  if (kernels_json (gs, d, l) == -1)
    return -1;
  bootloader_json (gs, d, l);
  if (network_json (gs, d, l) == -1)
    return -1;
  services_json (gs, d, l);
  return 0;
}
