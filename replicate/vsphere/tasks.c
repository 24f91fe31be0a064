/* vSphere client: the inventory through a ContainerView and the
 * PropertyCollector (only the properties azprep needs), tasks,
 * snapshots.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
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

/* What is known of a task being waited for. */
struct task_wait {
  const char *ref, *what;
  double start, shown, json_shown;
  char *state, *result, *progress;
  char *seen;                 /* info.progress in the last answer */
  char *error;                /* info.error, as a message */
};

static void
task_wait_clear (struct task_wait *t)
{
  free (t->state);
  free (t->result);
  free (t->progress);
  free (t->seen);
  free (t->error);
}

/* TaskInfo.progress (percent) of a long task (a snapshot removal that
 * consolidates hours of writes).  The log shows it once the task has run
 * for 2 s, when it changed, then at intervals of a third of its run time
 * (2 s to 10 s): a short task says it is moving, a long one does not
 * flood the log.  With --json each change is also an event on stdout, at
 * most one a second: {"event":"task-progress","task":REF,"what":WHAT,
 * "percent":N,"seconds":S}.  Takes p. */
static void
show_progress (struct task_wait *t, char *p)
{
  double now = mono_now (), every = (now - t->start) / 3;
  bool changed = p && (!t->progress || strcmp (t->progress, p));
  int64_t pct;

  if (every < 2)
    every = 2;
  if (every > 10)
    every = 10;
  if (changed && vsphere_tuning.json && now - t->json_shown >= 1 &&
      parse_int64 (p, &pct) == 0) {
    CLEANUP_CJSON cJSON *o = cJSON_CreateObject ();
    char *s;
    json_add_str (o, "event", "task-progress");
    json_add_str (o, "task", t->ref);
    json_add_str (o, "what", t->what);
    cJSON_AddNumberToObject (o, "percent", pct);
    cJSON_AddNumberToObject (o, "seconds",
                             (int64_t) ((now - t->start) * 10) / 10.0);
    s = o ? cJSON_PrintUnformatted (o) : NULL;
    if (s) {
      printf ("%s\n", s);
      fflush (stdout);
      t->json_shown = now;
    }
    free (s);
  }
  if (changed && now - t->start >= 2 &&
      (t->shown == 0 || now - t->shown >= every)) {
    azp_info ("%s: %s%% done after %.0f s", t->what, p, now - t->start);
    t->shown = now;
  }
  if (changed) {
    free (t->progress);
    t->progress = p;
    return;
  }
  free (p);
}

/* One property of the task: a propSet of RetrievePropertiesEx or a
 * changeSet of WaitForUpdatesEx (both name and val). */
static void
task_property (struct task_wait *t, xmlNodePtr p)
{
  CLEANUP_FREE char *name = vsphere_child_text (p, "name");
  xmlNodePtr val = vsphere_child (p, "val");

  if (!name)
    return;
  if (!strcmp (name, "info.state")) {
    free (t->state);
    t->state = vsphere_child_text (p, "val");
  }
  else if (!strcmp (name, "info.progress")) {
    free (t->seen);
    t->seen = vsphere_child_text (p, "val");
  }
  else if (!strcmp (name, "info.result")) {
    free (t->result);
    t->result = vsphere_child_text (p, "val");
  }
  else if (!strcmp (name, "info.error") && val) {
    struct vsphere_fault f = { 0 };
    vsphere_fault_from_node (val, &f);
    free (t->error);
    t->error = vsphere_fault_message (&f, t->what);
    vsphere_fault_clear (&f);
  }
}

/* The properties in the children named elem of n; the progress of a
 * task still running is shown (a task done at once shows none). */
static void
task_properties (struct task_wait *t, xmlNodePtr n, const char *elem)
{
  for (xmlNodePtr p = n ? n->children : NULL; p; p = p->next)
    if (p->type == XML_ELEMENT_NODE && !strcmp ((const char *) p->name, elem))
      task_property (t, p);
  if (t->seen && (!t->state || (strcmp (t->state, "success") &&
                                strcmp (t->state, "error")))) {
    show_progress (t, t->seen);
    t->seen = NULL;
  }
}

/* 1 when the task has ended (success: 0 returned after; error: reported,
 * -1 after), 0 while it runs. */
static int
task_ended (struct task_wait *t)
{
  if (!t->state || (strcmp (t->state, "success") &&
                    strcmp (t->state, "error")))
    return 0;
  if (!strcmp (t->state, "error")) {
    if (t->error)
      azp_error ("%s", t->error);
    else
      azp_error ("%s: the task failed", t->what);
  }
  return 1;
}

/* The task's result ("" if none) once it succeeded, else NULL. */
static char *
task_outcome (struct task_wait *t)
{
  char *r;

  if (!t->state || strcmp (t->state, "success"))
    return NULL;
  r = t->result ? t->result : xstrdup ("");
  t->result = NULL;
  azp_debug ("%s: task %s done after %.2f s", t->what, t->ref,
             mono_now () - t->start);
  return r;
}

static const char task_props[] =
  "<propSet><type>Task</type>"
  "<pathSet>info.state</pathSet><pathSet>info.error</pathSet>"
  "<pathSet>info.result</pathSet><pathSet>info.progress</pathSet>"
  "</propSet>";

/* One look at the task (RetrievePropertiesEx).  0, or -1 (reported). */
static int
task_poll (struct vsphere *v, struct task_wait *t, const char *etask)
{
  xmlNodePtr rv;
  CLEANUP_FREE char *body =
    xasprintf ("<RetrievePropertiesEx xmlns=\"urn:vim25\">"
               "<_this type=\"PropertyCollector\">%s</_this>"
               "<specSet>%s<objectSet><obj type=\"Task\">%s</obj>"
               "</objectSet></specSet><options/></RetrievePropertiesEx>",
               v->property_collector, task_props, etask);
  CLEANUP_XMLDOC xmlDoc *doc = body ?
    vsphere_call (v, body, t->what, &rv) : NULL;

  if (!doc)
    return -1;
  task_properties (t, vsphere_child (vsphere_child (rv, "returnval"),
                                     "objects"), "propSet");
  if (!t->state) {
    azp_error ("%s: task %s has no state", t->what, t->ref);
    return -1;
  }
  return 0;
}

/* Seconds left before --task-timeout (at least 1), or -1: no limit. */
static int64_t
time_left (const struct task_wait *t)
{
  double left = vsphere_tuning.task_timeout - (mono_now () - t->start);

  if (vsphere_tuning.task_timeout <= 0)
    return -1;
  return left < 1 ? 1 : (int64_t) left;
}

/* Watch the task with a PropertyCollector of our own (VMware's way to
 * wait for a task, as govmomi's task.Wait does: CreatePropertyCollector,
 * CreateFilter on the task's info, then WaitForUpdatesEx, which returns
 * as soon as a property changes or after maxWaitSeconds; vSphere Web
 * Services API, PropertyCollector): the end of the task is seen when it
 * happens, where polling sees it up to one poll interval late.  Each
 * wait is at most the keep-alive interval, so the session stays alive
 * through a long task.  1 ended, 0 timed out (--task-timeout), -1 the
 * server refused the watch (the caller polls instead; nothing reported),
 * -2 error (reported). */
static int
task_watch (struct vsphere *v, struct task_wait *t, const char *etask)
{
  xmlNodePtr rv;
  struct vsphere_fault f;
  CLEANUP_FREE char *pc = NULL, *body = NULL, *version = xstrdup ("");
  int r = -1;

  body = xasprintf ("<CreatePropertyCollector xmlns=\"urn:vim25\">"
                    "<_this type=\"PropertyCollector\">%s</_this>"
                    "</CreatePropertyCollector>", v->property_collector);
  {
    CLEANUP_XMLDOC xmlDoc *doc = body && version ?
      vsphere_call_fault (v, body, t->what, &rv, &f) : NULL;
    if (!doc) {
      azp_debug ("%s: no PropertyCollector of our own (%s): polling",
                 t->what, f.type ? f.type : "error");
      vsphere_fault_clear (&f);
      return -1;
    }
    pc = vsphere_child_text (rv, "returnval");
  }
  free (body);
  body = pc ? xasprintf ("<CreateFilter xmlns=\"urn:vim25\">"
                         "<_this type=\"PropertyCollector\">%s</_this>"
                         "<spec>%s<objectSet><obj type=\"Task\">%s</obj>"
                         "</objectSet></spec>"
                         "<partialUpdates>false</partialUpdates>"
                         "</CreateFilter>", pc, task_props, etask) : NULL;
  {
    CLEANUP_XMLDOC xmlDoc *doc = body ?
      vsphere_call_fault (v, body, t->what, &rv, &f) : NULL;
    if (!doc) {
      vsphere_fault_clear (&f);
      goto out;
    }
  }
  while (r == -1) {
    int64_t left = time_left (t), wait = vsphere_tuning.keepalive;
    xmlNodePtr set;
    if (left >= 0 && mono_now () - t->start >= vsphere_tuning.task_timeout) {
      r = 0;
      break;
    }
    if (wait > 60)
      wait = 60;
    if (left >= 0 && left < wait)
      wait = left;
    free (body);
    body = xasprintf ("<WaitForUpdatesEx xmlns=\"urn:vim25\">"
                      "<_this type=\"PropertyCollector\">%s</_this>"
                      "<version>%s</version><options>"
                      "<maxWaitSeconds>%" PRId64 "</maxWaitSeconds>"
                      "</options></WaitForUpdatesEx>", pc, version, wait);
    CLEANUP_XMLDOC xmlDoc *doc = body ?
      vsphere_call_fault (v, body, t->what, &rv, &f) : NULL;
    if (!doc) {
      vsphere_fault_clear (&f);
      break;
    }
    set = vsphere_child (rv, "returnval");
    if (!set)
      continue;               /* maxWaitSeconds passed: no change */
    free (version);
    version = vsphere_child_text (set, "version");
    if (!version) {
      r = -2;
      azp_error ("%s: WaitForUpdatesEx without a version", t->what);
      break;
    }
    for (xmlNodePtr fs = set->children; fs; fs = fs->next)
      if (fs->type == XML_ELEMENT_NODE &&
          !strcmp ((const char *) fs->name, "filterSet"))
        for (xmlNodePtr os = fs->children; os; os = os->next)
          if (os->type == XML_ELEMENT_NODE &&
              !strcmp ((const char *) os->name, "objectSet"))
            task_properties (t, os, "changeSet");
    if (task_ended (t))
      r = 1;
  }
 out:
  free (body);
  body = pc ? xasprintf ("<DestroyPropertyCollector xmlns=\"urn:vim25\">"
                         "<_this type=\"PropertyCollector\">%s</_this>"
                         "</DestroyPropertyCollector>", pc) : NULL;
  if (body) {
    CLEANUP_XMLDOC xmlDoc *doc = vsphere_call_fault (v, body, t->what, &rv,
                                                     &f);
    vsphere_fault_clear (&f);
  }
  return r;
}

/* Poll until the task ends (a server without WaitForUpdatesEx):
 * every 0.1 s, doubling up to 2 s.  1 ended, 0 timed out, -2 error. */
static int
task_poll_loop (struct vsphere *v, struct task_wait *t, const char *etask)
{
  useconds_t delay = 100000;

  while (vsphere_tuning.task_timeout <= 0 ||
         mono_now () - t->start < vsphere_tuning.task_timeout) {
    if (task_poll (v, t, etask) == -1)
      return -2;
    if (task_ended (t))
      return 1;
    usleep (delay);
    if (delay < 2000000)
      delay *= 2;
  }
  return 0;
}

char *
vsphere_wait_task (struct vsphere *v, const char *task_ref, const char *what)
{
  CLEANUP_FREE char *etask = vsphere_xml_escape (task_ref);
  struct task_wait t = { .ref = task_ref, .what = what,
                         .start = mono_now () };
  char *res = NULL;
  int r;

  if (!etask)
    return NULL;
  /* Most tasks (a snapshot of a quiet VM) are done at the first look. */
  if (task_poll (v, &t, etask) == -1) {
    task_wait_clear (&t);
    return NULL;
  }
  r = task_ended (&t);
  if (r == 0) {
    r = task_watch (v, &t, etask);
    if (r == -1)
      r = task_poll_loop (v, &t, etask);
  }
  if (r == 1)
    res = task_outcome (&t);
  else if (r == 0)
    azp_error ("%s: task %s did not finish within %lld s (--task-timeout); "
               "it may still be running in vCenter", what, task_ref,
               (long long) vsphere_tuning.task_timeout);
  task_wait_clear (&t);
  return res;
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
