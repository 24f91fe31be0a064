/* azprep discover: the VMs of a vCenter, what azprep needs to know about
 * them, and a VM list file for check --vms and replicate.
 */
#include <getopt.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "prep/azprep.h"
#include "prep/common/json.h"
#include "replicate/vsphere/vsphere.h"

static const char usage[] =
  "Usage: azprep discover --vcenter URL [OPTIONS] [--vm NAME]...\n"
  "List the VMs of a vCenter (or ESXi host) with what a migration needs:\n"
  "instance UUID, power state, guest OS, firmware, CPUs, memory, disks\n"
  "(capacity, datastore path, thin/thick, controller), NICs (MAC,\n"
  "network), snapshots, changed block tracking, host, datastore free\n"
  "space, and the vsphere:// URI of each disk.  Read-only.\n"
  "\n"
  "Credentials: VSPHERE_USER and VSPHERE_PASSWORD, or --credentials FILE\n"
  "(lines \"user=NAME\" and \"password=SECRET\"); never on the command line.\n"
  "\n"
  "Options:\n"
  "  --vcenter URL       https://HOST[:PORT] (the SDK path /sdk is added);\n"
  "                      http:// only if you really mean plain HTTP\n"
  "  --vm NAME           only this VM (repeatable); unknown names are errors\n"
  "  --vms-file FILE     also write the VM list for check --vms / replicate\n"
  "                      ([{\"name\": ..., \"disks\": [\"vsphere://...\"]}])\n"
  "  --cacert FILE       CA certificates (PEM) to verify vCenter's TLS\n"
  "  --insecure          do not verify vCenter's TLS certificate (this\n"
  "                      run only: the URIs do not carry it)\n"
  "  --credentials FILE  read the user name and password from FILE\n"
  "  --json              print JSON (schema in azprep(1))\n"
  "  -v, --verbose       debug messages\n"
  "  --help              this text\n"
  "\n"
  "Exit: 0 listed, 1 error (login, connection, unknown VM), 2 usage.\n";

enum {
  OPT_VCENTER = OPT_FIRST_COMMAND_SPECIFIC, OPT_VM, OPT_VMS_FILE, OPT_CACERT,
  OPT_INSECURE, OPT_CREDENTIALS,
};

static char *
human (int64_t bytes)
{
  static const char units[][4] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = bytes;
  size_t u = 0;

  if (bytes < 0)
    return xstrdup ("?");
  while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024;
    u++;
  }
  return u == 0 ? xasprintf ("%lld B", (long long) bytes)
    : xasprintf ("%.1f %s", v, units[u]);
}

/* Warnings about reading and replicating this VM. */
static cJSON *
vm_warnings (const struct vsphere_inventory *inv, const struct vsphere_vm *vm)
{
  cJSON *w = cJSON_CreateArray ();
  char *s;

#define ADD(...) do {                                           \
    s = xasprintf (__VA_ARGS__);                                \
    if (s) { cJSON_AddItemToArray (w, cJSON_CreateString (s)); free (s); } \
  } while (0)

  if (vm->nsnapshots > 0)
    ADD ("has %zu snapshot%s: reading in place shows the base disk (the "
         "state at the first snapshot); replicate adds its own snapshot on "
         "top and reads the current state only after consolidation",
         vm->nsnapshots, vm->nsnapshots > 1 ? "s" : "");
  for (size_t i = 0; i < vm->ndisks; i++) {
    const struct vsphere_disk *d = &vm->disks[i];
    char *why = vsphere_disk_unreadable (inv, vm, i);
    if (why)
      ADD ("%s", why);
    free (why);
    if (d->mode && !strncmp (d->mode, "independent", 11))
      ADD ("disk %zu is independent (%s): snapshots do not cover it", i,
           d->mode);
  }
#undef ADD
  return w;
}

static cJSON *
vm_json (struct vsphere *v, const struct vsphere_inventory *inv,
         const struct vsphere_vm *vm)
{
  cJSON *j = cJSON_CreateObject (), *a;

#define STR(k, val) cJSON_AddStringToObject (j, k, (val) ? (val) : "")
  STR ("name", vm->name);
  STR ("instance_uuid", vm->instance_uuid);
  STR ("bios_uuid", vm->bios_uuid);
  STR ("power_state", vm->power_state);
  STR ("guest_id", vm->guest_id);
  STR ("firmware", vm->firmware);
  cJSON_AddNumberToObject (j, "cpus", vm->cpus);
  cJSON_AddNumberToObject (j, "memory_mb", (double) vm->memory_mb);
  cJSON_AddBoolToObject (j, "cbt", vm->cbt);
  STR ("host", vm->host);
  STR ("datacenter", vm->datacenter);
#undef STR
  a = cJSON_AddArrayToObject (j, "disks");
  for (size_t i = 0; i < vm->ndisks; i++) {
    const struct vsphere_disk *d = &vm->disks[i];
    const struct vsphere_datastore *ds =
      vsphere_inventory_datastore (inv, vm->datacenter, d->datastore);
    cJSON *o = cJSON_CreateObject ();
    char *uri = vsphere_uri_format (v, vm->datacenter, vm->name, i);
    cJSON_AddNumberToObject (o, "index", i);
    cJSON_AddStringToObject (o, "label", d->label ? d->label : "");
    cJSON_AddNumberToObject (o, "capacity", (double) d->capacity);
    cJSON_AddStringToObject (o, "file", d->file ? d->file : "");
    cJSON_AddStringToObject (o, "base_file", d->base_file ? d->base_file : "");
    cJSON_AddStringToObject (o, "datastore", d->datastore ? d->datastore : "");
    if (ds)
      cJSON_AddNumberToObject (o, "datastore_free", (double) ds->free);
    cJSON_AddStringToObject (o, "backing", d->backing);
    cJSON_AddStringToObject (o, "provisioning", d->thin ? "thin" : "thick");
    cJSON_AddStringToObject (o, "mode", d->mode ? d->mode : "");
    cJSON_AddStringToObject (o, "controller",
                             d->controller ? d->controller : "");
    cJSON_AddBoolToObject (o, "cbt", d->change_id != NULL);
    if (uri)
      cJSON_AddStringToObject (o, "uri", uri);
    free (uri);
    cJSON_AddItemToArray (a, o);
  }
  a = cJSON_AddArrayToObject (j, "nics");
  for (size_t i = 0; i < vm->nnics; i++) {
    cJSON *o = cJSON_CreateObject ();
    cJSON_AddStringToObject (o, "type", vm->nics[i].type);
    cJSON_AddStringToObject (o, "mac", vm->nics[i].mac ? vm->nics[i].mac : "");
    cJSON_AddStringToObject (o, "network",
                             vm->nics[i].network ? vm->nics[i].network : "");
    cJSON_AddItemToArray (a, o);
  }
  a = cJSON_AddArrayToObject (j, "snapshots");
  for (size_t i = 0; i < vm->nsnapshots; i++) {
    cJSON *o = cJSON_CreateObject ();
    const struct vsphere_snapshot *s = &vm->snapshots[i];
    cJSON_AddStringToObject (o, "name", s->name ? s->name : "");
    cJSON_AddStringToObject (o, "created", s->created ? s->created : "");
    cJSON_AddBoolToObject (o, "quiesced", s->quiesced);
    cJSON_AddItemToArray (a, o);
  }
  cJSON_AddItemToObject (j, "warnings", vm_warnings (inv, vm));
  return j;
}

static void
print_text (FILE *fp, cJSON *vm)
{
#define N(o, k) (cJSON_GetNumberValue (cJSON_GetObjectItem (o, k)))
  cJSON *x;
  size_t i = 0;

  fprintf (fp, "%s\n", json_text (vm, "name"));
  fprintf (fp, "  instance uuid: %s\n", json_text (vm, "instance_uuid"));
  fprintf (fp, "  power state:   %s\n", json_text (vm, "power_state"));
  fprintf (fp, "  guest os:      %s\n", json_text (vm, "guest_id"));
  fprintf (fp, "  firmware:      %s\n", json_text (vm, "firmware"));
  fprintf (fp, "  cpus:          %.0f\n", N (vm, "cpus"));
  fprintf (fp, "  memory:        %.0f MiB\n", N (vm, "memory_mb"));
  fprintf (fp, "  cbt:           %s\n",
           cJSON_IsTrue (cJSON_GetObjectItem (vm, "cbt")) ? "on" : "off");
  fprintf (fp, "  host:          %s (datacenter %s)\n", json_text (vm, "host"),
           json_text (vm, "datacenter"));
  cJSON_ArrayForEach (x, cJSON_GetObjectItem (vm, "disks")) {
    CLEANUP_FREE char *cap = human ((int64_t) N (x, "capacity"));
    CLEANUP_FREE char *free_ = cJSON_GetObjectItem (x, "datastore_free")
      ? human ((int64_t) N (x, "datastore_free")) : xstrdup ("?");
    fprintf (fp, "  disk %zu:        %s %s %s on %s, %s\n", i++, cap,
             json_text (x, "provisioning"), json_text (x, "backing"),
             json_text (x, "controller"),
             json_text (x, "mode"));
    fprintf (fp, "    file:        %s\n", json_text (x, "file"));
    fprintf (fp, "    datastore:   %s (%s free)\n", json_text (x, "datastore"),
             free_ ? free_ : "?");
    fprintf (fp, "    uri:         %s\n", json_text (x, "uri"));
  }
  i = 0;
  cJSON_ArrayForEach (x, cJSON_GetObjectItem (vm, "nics"))
    fprintf (fp, "  nic %zu:         %s %s on %s\n", i++, json_text (x, "type"),
             json_text (x, "mac"), json_text (x, "network"));
  if (cJSON_GetArraySize (cJSON_GetObjectItem (vm, "snapshots")) == 0)
    fprintf (fp, "  snapshots:     none\n");
  cJSON_ArrayForEach (x, cJSON_GetObjectItem (vm, "snapshots"))
    fprintf (fp, "  snapshot:      %s (%s)\n", json_text (x, "name"),
             json_text (x, "created"));
  cJSON_ArrayForEach (x, cJSON_GetObjectItem (vm, "warnings"))
    fprintf (fp, "  warning:       %s\n", x->valuestring);
  fprintf (fp, "\n");
#undef N
}

/* The VM list check --vms and replicate read. */
static int
write_vms_file (const char *path, cJSON *vms)
{
  cJSON *list = cJSON_CreateArray (), *vm;
  char *s;
  int r;

  cJSON_ArrayForEach (vm, vms) {
    cJSON *o = cJSON_CreateObject (), *disks, *d;
    cJSON_AddStringToObject (o, "name", json_str (vm, "name"));
    disks = cJSON_AddArrayToObject (o, "disks");
    cJSON_ArrayForEach (d, cJSON_GetObjectItem (vm, "disks"))
      cJSON_AddItemToArray (disks, cJSON_CreateString (json_str (d, "uri")));
    cJSON_AddStringToObject (o, "format", "raw");
    /* The ESXi host: a fleet split by host for a per-host cap (Slurm
     * licenses, replicate/fleet/replicate.sbatch). */
    if (json_str (vm, "host") && *json_str (vm, "host"))
      cJSON_AddStringToObject (o, "host", json_str (vm, "host"));
    cJSON_AddItemToArray (list, o);
  }
  s = cJSON_Print (list);
  cJSON_Delete (list);
  if (!s) {
    azp_error ("out of memory");
    return -1;
  }
  r = write_file_atomic (path, s, strlen (s));
  free (s);
  return r;
}

static int
discover_run (int argc, char **argv)
{
  static const struct option longopts[] = {
    COMMON_LONG_OPTIONS,
    { "vcenter", required_argument, NULL, OPT_VCENTER },
    { "vm", required_argument, NULL, OPT_VM },
    { "vms-file", required_argument, NULL, OPT_VMS_FILE },
    { "cacert", required_argument, NULL, OPT_CACERT },
    { "insecure", no_argument, NULL, OPT_INSECURE },
    { "credentials", required_argument, NULL, OPT_CREDENTIALS },
    { NULL, 0, NULL, 0 }
  };
  struct common_opts co = { 0 };
  struct vsphere_opts o = { 0 };
  const char *vms_file = NULL;
  CLEANUP_FREE char **names = NULL;
  size_t nnames = 0;
  struct vsphere *v = NULL;
  struct vsphere_inventory *inv = NULL;
  cJSON *out = NULL, *vms;
  int c, ret = EXIT_ERROR;

  while ((c = getopt_long (argc, argv, COMMON_SHORT_OPTIONS, longopts,
                           NULL)) != -1) {
    if (common_option (&co, c, usage))
      continue;
    switch (c) {
    case OPT_VCENTER: o.url = optarg; break;
    case OPT_CACERT: o.cacert = optarg; break;
    case OPT_INSECURE: o.insecure = true; break;
    case OPT_CREDENTIALS: o.credentials = optarg; break;
    case OPT_VMS_FILE: vms_file = optarg; break;
    case OPT_VM: {
      char **nn = realloc (names, (nnames + 1) * sizeof *nn);
      if (!nn) {
        azp_error ("out of memory");
        return EXIT_ERROR;
      }
      names = nn;
      names[nnames++] = optarg;
      break;
    }
    default:
      return usage_error ("discover", "unknown option");
    }
  }
  if (optind < argc)
    return usage_error ("discover", "unexpected argument '%s'", argv[optind]);
  if (!o.url)
    return usage_error ("discover", "--vcenter URL is required");
  o.insecure = o.insecure || opt_lowered ()->vsphere_insecure;
  if (o.insecure && o.cacert)
    return usage_error ("discover", "--insecure and --cacert conflict");
  if (o.insecure)
    azp_warning ("vCenter %s: TLS certificate not verified (--insecure), "
                 "for this run only: the URIs written do not carry it "
                 "(give --vsphere-insecure where they are used)", o.url);

  v = vsphere_connect (&o);
  if (!v)
    return EXIT_ERROR;
  inv = vsphere_get_inventory (v);
  if (!inv)
    goto out;
  for (size_t i = 0; i < nnames; i++)
    if (!vsphere_find_vm (inv, NULL, names[i], vsphere_host (v)))
      goto out;

  out = cJSON_CreateObject ();
  cJSON_AddStringToObject (out, "vcenter", vsphere_host (v));
  vms = cJSON_AddArrayToObject (out, "vms");
  for (size_t i = 0; i < inv->nvms; i++) {
    const struct vsphere_vm *vm = &inv->vms[i];
    bool want = nnames == 0;
    for (size_t k = 0; k < nnames && vm->name; k++)
      want |= !strcmp (names[k], vm->name);
    if (want)
      cJSON_AddItemToArray (vms, vm_json (v, inv, vm));
  }
  if (vms_file && write_vms_file (vms_file, vms) == -1)
    goto out;
  if (co.json) {
    char *s = cJSON_Print (out);
    if (s)
      puts (s);
    free (s);
  }
  else {
    cJSON *vm;
    cJSON_ArrayForEach (vm, vms)
      print_text (stdout, vm);
  }
  ret = EXIT_OK;
 out:
  cJSON_Delete (out);
  vsphere_inventory_free (inv);
  vsphere_close (v);
  return ret;
}

static const struct command discover_cmd = {
  "discover", "list the VMs of a vCenter, their disks and vsphere:// URIs",
  discover_run,
};
COMMAND (discover_cmd);
