/* vSphere client: the inventory through a ContainerView and the
 * PropertyCollector (only the properties azprep needs), tasks,
 * snapshots.
 */
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "prep/common/common.h"
#include "prep/common/xml.h"
#include "replicate/vsphere/internal.h"

/* The properties each type of object contributes. */
static const char inventory_spec[] =
  "<propSet><type>VirtualMachine</type>"
  "<pathSet>name</pathSet><pathSet>parent</pathSet>"
  "<pathSet>config.instanceUuid</pathSet><pathSet>config.uuid</pathSet>"
  "<pathSet>runtime.powerState</pathSet><pathSet>config.guestId</pathSet>"
  "<pathSet>config.firmware</pathSet><pathSet>config.hardware.numCPU</pathSet>"
  "<pathSet>config.hardware.memoryMB</pathSet>"
  "<pathSet>config.hardware.device</pathSet><pathSet>snapshot</pathSet>"
  "<pathSet>config.changeTrackingEnabled</pathSet>"
  "<pathSet>runtime.host</pathSet></propSet>"
  "<propSet><type>Datastore</type><pathSet>name</pathSet>"
  "<pathSet>summary</pathSet><pathSet>parent</pathSet></propSet>"
  "<propSet><type>Datacenter</type><pathSet>name</pathSet>"
  "<pathSet>parent</pathSet></propSet>"
  "<propSet><type>Folder</type><pathSet>name</pathSet>"
  "<pathSet>parent</pathSet></propSet>"
  "<propSet><type>HostSystem</type><pathSet>name</pathSet></propSet>"
  "<propSet><type>Network</type><pathSet>name</pathSet></propSet>";

struct vsphere_inventory *
vsphere_get_inventory (struct vsphere *v)
{
  struct vsphere_inventory *inv = NULL;
  CLEANUP_FREE char *body = NULL, *view = NULL, *token = NULL;
  xmlNodePtr rv;

  body = xasprintf ("<CreateContainerView xmlns=\"urn:vim25\">"
                    "<_this type=\"ViewManager\">%s</_this>"
                    "<container type=\"Folder\">%s</container>"
                    "<type>VirtualMachine</type><type>Datastore</type>"
                    "<type>Datacenter</type><type>Folder</type>"
                    "<type>HostSystem</type><type>Network</type>"
                    "<recursive>true</recursive></CreateContainerView>",
                    v->view_manager, v->root_folder);
  if (!body)
    return NULL;
  {
    CLEANUP_XMLDOC xmlDoc *doc =
      vsphere_call (v, body, "CreateContainerView", &rv);
    if (!doc)
      return NULL;
    view = vsphere_child_text (rv, "returnval");
  }
  if (!view)
    return NULL;
  inv = vsphere_inventory_new ();
  if (!inv)
    goto out;

  free (body);
  {
    CLEANUP_FREE char *ev = vsphere_xml_escape (view);
    body = ev ? xasprintf ("<RetrievePropertiesEx xmlns=\"urn:vim25\">"
                           "<_this type=\"PropertyCollector\">%s</_this>"
                           "<specSet>%s<objectSet>"
                           "<obj type=\"ContainerView\">%s</obj>"
                           "<skip>true</skip>"
                           "<selectSet xsi:type=\"TraversalSpec\">"
                           "<name>view</name><type>ContainerView</type>"
                           "<path>view</path><skip>false</skip></selectSet>"
                           "</objectSet></specSet>"
                           "<options><maxObjects>500</maxObjects></options>"
                           "</RetrievePropertiesEx>",
                           v->property_collector, inventory_spec, ev)
      : NULL;
  }
  for (int page = 0; body && page < 100000; page++) {
    CLEANUP_XMLDOC xmlDoc *doc =
      vsphere_call (v, body, "RetrievePropertiesEx", &rv);
    if (!doc)
      goto fail;
    free (token);
    if (vsphere_inventory_add (inv, vsphere_child (rv, "returnval"),
                               &token) == -1)
      goto fail;
    free (body);
    body = NULL;
    if (!token)
      break;
    {
      CLEANUP_FREE char *et = vsphere_xml_escape (token);
      body = et ? xasprintf ("<ContinueRetrievePropertiesEx "
                             "xmlns=\"urn:vim25\">"
                             "<_this type=\"PropertyCollector\">%s</_this>"
                             "<token>%s</token>"
                             "</ContinueRetrievePropertiesEx>",
                             v->property_collector, et) : NULL;
    }
    if (!body)
      goto fail;
  }
  vsphere_inventory_resolve (inv);
  goto out;

 fail:
  vsphere_inventory_free (inv);
  inv = NULL;
 out:
  free (body);
  {
    CLEANUP_FREE char *ev = vsphere_xml_escape (view);
    body = ev ? xasprintf ("<DestroyView xmlns=\"urn:vim25\">"
                           "<_this type=\"ContainerView\">%s</_this>"
                           "</DestroyView>", ev) : NULL;
  }
  if (body) {
    CLEANUP_XMLDOC xmlDoc *doc = vsphere_call (v, body, "DestroyView", &rv);
  }
  return inv;
}

/* Seconds on the monotonic clock. */
static double
mono_now (void)
{
  struct timespec t;

  clock_gettime (CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* TaskInfo.progress (percent) of a long task (a snapshot removal that
 * consolidates hours of writes), shown once it has run for 2 s, when it
 * changed, then at intervals of a third of its run time (2 s to 10 s):
 * a short task says it is moving, a long one does not flood the log.
 * Takes p. */
static void
show_progress (const char *what, char *p, double start, double *shown,
               char **last)
{
  double now = mono_now (), every = (now - start) / 3;

  if (every < 2)
    every = 2;
  if (every > 10)
    every = 10;
  if (p && now - start >= 2 && (*shown == 0 || now - *shown >= every) &&
      (!*last || strcmp (*last, p))) {
    azp_info ("%s: %s%% done after %.0f s", what, p, now - start);
    *shown = now;
    free (*last);
    *last = p;
    return;
  }
  free (p);
}

char *
vsphere_wait_task (struct vsphere *v, const char *task_ref, const char *what)
{
  CLEANUP_FREE char *etask = vsphere_xml_escape (task_ref);
  CLEANUP_FREE char *body = NULL;
  useconds_t delay = 100000;
  time_t start = time (NULL);
  double mstart = mono_now (), shown = 0;
  time_t deadline = vsphere_tuning.task_timeout > 0 ?
    start + vsphere_tuning.task_timeout : 0;
  CLEANUP_FREE char *last_progress = NULL;

  if (!etask)
    return NULL;
  body = xasprintf ("<RetrievePropertiesEx xmlns=\"urn:vim25\">"
                    "<_this type=\"PropertyCollector\">%s</_this>"
                    "<specSet><propSet><type>Task</type>"
                    "<pathSet>info.state</pathSet>"
                    "<pathSet>info.error</pathSet>"
                    "<pathSet>info.result</pathSet>"
                    "<pathSet>info.progress</pathSet></propSet>"
                    "<objectSet><obj type=\"Task\">%s</obj></objectSet>"
                    "</specSet><options/></RetrievePropertiesEx>",
                    v->property_collector, etask);
  if (!body)
    return NULL;
  while (!deadline || time (NULL) < deadline) {
    xmlNodePtr rv, objects;
    CLEANUP_FREE char *state = NULL;
    char *result = NULL;
    CLEANUP_XMLDOC xmlDoc *doc = vsphere_call (v, body, what, &rv);
    if (!doc)
      return NULL;
    objects = vsphere_child (vsphere_child (rv, "returnval"), "objects");
    for (xmlNodePtr p = objects ? objects->children : NULL; p; p = p->next) {
      CLEANUP_FREE char *name = NULL;
      if (p->type != XML_ELEMENT_NODE || strcmp ((const char *) p->name,
                                                 "propSet"))
        continue;
      name = vsphere_child_text (p, "name");
      if (!name)
        continue;
      if (!strcmp (name, "info.state"))
        state = vsphere_child_text (p, "val");
      else if (!strcmp (name, "info.progress"))
        show_progress (what, vsphere_child_text (p, "val"), mstart, &shown,
                       &last_progress);
      else if (!strcmp (name, "info.result")) {
        free (result);
        result = vsphere_child_text (p, "val");
      }
      else if (!strcmp (name, "info.error")) {
        struct vsphere_fault f = { 0 };
        CLEANUP_FREE char *msg = NULL;
        vsphere_fault_from_node (vsphere_child (p, "val"), &f);
        msg = vsphere_fault_message (&f, what);
        azp_error ("%s", msg ? msg : what);
        vsphere_fault_clear (&f);
        free (result);
        return NULL;
      }
    }
    if (!state) {
      azp_error ("%s: task %s has no state", what, task_ref);
      free (result);
      return NULL;
    }
    if (!strcmp (state, "success"))
      return result ? result : xstrdup ("");
    free (result);
    if (!strcmp (state, "error")) {
      azp_error ("%s: the task failed", what);
      return NULL;
    }
    usleep (delay);
    if (delay < 2000000)
      delay *= 2;
  }
  azp_error ("%s: task %s did not finish within %lld s (--task-timeout); "
             "it may still be running in vCenter", what, task_ref,
             (long long) vsphere_tuning.task_timeout);
  return NULL;
}

char *
vsphere_run_task (struct vsphere *v, const char *body, const char *what)
{
  xmlNodePtr rv;
  CLEANUP_XMLDOC xmlDoc *doc = vsphere_call (v, body, what, &rv);
  CLEANUP_FREE char *task = NULL;

  if (!doc)
    return NULL;
  task = vsphere_child_text (rv, "returnval");
  if (!task) {
    azp_error ("%s: no task returned", what);
    return NULL;
  }
  return vsphere_wait_task (v, task, what);
}

char *
vsphere_create_snapshot (struct vsphere *v, const struct vsphere_vm *vm,
                         const char *name, bool quiesce)
{
  CLEANUP_FREE char *ename = vsphere_xml_escape (name);
  CLEANUP_FREE char *eref = vsphere_xml_escape (vm->ref);
  CLEANUP_FREE char *body = NULL, *what = NULL;
  char *snap;

  if (!ename || !eref)
    return NULL;
  body = xasprintf ("<CreateSnapshot_Task xmlns=\"urn:vim25\">"
                    "<_this type=\"VirtualMachine\">%s</_this>"
                    "<name>%s</name>"
                    "<description>azprep replication cycle</description>"
                    "<memory>false</memory><quiesce>%s</quiesce>"
                    "</CreateSnapshot_Task>",
                    eref, ename, quiesce ? "true" : "false");
  what = xasprintf ("%s: create snapshot %s", vm->name, name);
  if (!body || !what)
    return NULL;
  snap = vsphere_run_task (v, body, what);
  if (snap && !*snap) {
    azp_error ("%s: no snapshot returned", what);
    free (snap);
    return NULL;
  }
  if (snap)
    azp_debug ("%s: snapshot %s (%s)", vm->name, name, snap);
  return snap;
}

int
vsphere_remove_snapshot (struct vsphere *v, const char *snap_ref,
                         const char *what)
{
  CLEANUP_FREE char *eref = vsphere_xml_escape (snap_ref);
  CLEANUP_FREE char *body = NULL;
  char *r;

  if (!eref)
    return -1;
  body = xasprintf ("<RemoveSnapshot_Task xmlns=\"urn:vim25\">"
                    "<_this type=\"VirtualMachineSnapshot\">%s</_this>"
                    "<removeChildren>false</removeChildren>"
                    "<consolidate>true</consolidate>"
                    "</RemoveSnapshot_Task>", eref);
  if (!body)
    return -1;
  r = vsphere_run_task (v, body, what);
  if (!r)
    return -1;
  free (r);
  return 0;
}

int
vsphere_remove_stale_snapshots (struct vsphere *v,
                                const struct vsphere_vm *vm)
{
  int n = 0;

  for (size_t i = 0; i < vm->nsnapshots; i++) {
    const struct vsphere_snapshot *s = &vm->snapshots[i];
    CLEANUP_FREE char *what = NULL;
    if (!s->name || !s->ref ||
        strncmp (s->name, VSPHERE_SNAPSHOT_PREFIX,
                 strlen (VSPHERE_SNAPSHOT_PREFIX)))
      continue;
    what = xasprintf ("%s: remove stale snapshot %s", vm->name, s->name);
    if (!what)
      return -1;
    azp_info ("%s: removing snapshot %s left by an interrupted run", vm->name,
              s->name);
    if (vsphere_remove_snapshot (v, s->ref, what) == -1)
      return -1;
    n++;
  }
  return n;
}
