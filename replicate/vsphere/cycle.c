/* Replication cycles on a vSphere VM: a snapshot per cycle, the frozen
 * base disks read in place over NBD, the snapshot removed at the end
 * (and stale azprep snapshots removed at the start of the next run).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "prep/common/common.h"
#include "replicate/vsphere/vsphere.h"

struct cycle_disk {
  char *url;                  /* datastore URL of the flat extent */
  int64_t size;
  struct datastore_export *b;
  int key;                    /* device key (QueryChangedDiskAreas) */
  int64_t capacity;           /* capacityInBytes of the VM's config */
  char *change_id;            /* in the snapshot's config, or NULL */
};

struct vsphere_cycle {
  struct vsphere *v;
  char *vm_name, *vm_ref;
  char *snap_name, *snap_ref;
  struct cycle_disk *disks;
  size_t ndisks;
  bool cbt;                   /* CBT effective at the snapshot */
  /* The keep-alive: a thread renewing the SOAP session while the
   * engine reads (vCenter ends sessions idle for 30 min by default). */
  pthread_t ka;
  bool ka_running, ka_stop;
  pthread_mutex_t ka_lock;
  pthread_cond_t ka_cond;
  /* The guard: a child that removes the snapshot if azprep dies. */
  int guard_fd;
  pid_t guard_pid;
};

/* Fork the guard: it waits on a pipe; a byte means the cycle ends as it
 * should (azprep removes the snapshot); end of file without one means
 * azprep died (a signal, a crash): the guard removes the snapshot with
 * the session it inherited (logging in again if it expired). */
static void
guard_start (struct vsphere_cycle *c)
{
  int p[2];
  pid_t pid;

  c->guard_fd = -1;
  if (pipe2 (p, O_CLOEXEC) == -1) {
    azp_warning ("%s: no guard for snapshot %s: %m", c->vm_name,
                 c->snap_name);
    return;
  }
  fflush (stdout);
  fflush (stderr);
  pid = fork ();
  if (pid == 0) {
    char b;
    ssize_t r;
    CLEANUP_FREE char *what = NULL;
    signal (SIGINT, SIG_IGN);
    signal (SIGTERM, SIG_IGN);
    signal (SIGHUP, SIG_IGN);
    close (p[1]);
    do
      r = read (p[0], &b, 1);
    while (r == -1 && errno == EINTR);
    if (r == 1)
      _exit (0);
    what = xasprintf ("%s: remove snapshot %s (azprep was stopped)",
                      c->vm_name, c->snap_name);
    _exit (vsphere_remove_snapshot (c->v, c->snap_ref,
                                    what ? what : c->vm_name) == 0 ? 0 : 1);
  }
  close (p[0]);
  if (pid == -1) {
    azp_warning ("%s: no guard for snapshot %s: %m", c->vm_name,
                 c->snap_name);
    close (p[1]);
    return;
  }
  c->guard_fd = p[1];
  c->guard_pid = pid;
}

static void
guard_stop (struct vsphere_cycle *c)
{
  if (c->guard_fd == -1)
    return;
  if (write (c->guard_fd, "d", 1) != 1)
    azp_debug ("guard: %m");
  close (c->guard_fd);
  c->guard_fd = -1;
  waitpid (c->guard_pid, NULL, 0);
}

static void *
keepalive_thread (void *arg)
{
  struct vsphere_cycle *c = arg;
  struct timespec t;

  pthread_mutex_lock (&c->ka_lock);
  while (!c->ka_stop) {
    clock_gettime (CLOCK_REALTIME, &t);
    t.tv_sec += vsphere_tuning.keepalive;
    while (!c->ka_stop &&
           pthread_cond_timedwait (&c->ka_cond, &c->ka_lock, &t) != ETIMEDOUT)
      ;
    if (c->ka_stop)
      break;
    pthread_mutex_unlock (&c->ka_lock);
    if (vsphere_keepalive (c->v) == -1)
      azp_warning ("%s: the keep-alive failed; the next call logs in again",
                   c->vm_name);
    pthread_mutex_lock (&c->ka_lock);
  }
  pthread_mutex_unlock (&c->ka_lock);
  return NULL;
}

static void
keepalive_start (struct vsphere_cycle *c)
{
  pthread_mutex_init (&c->ka_lock, NULL);
  pthread_cond_init (&c->ka_cond, NULL);
  c->ka_running = pthread_create (&c->ka, NULL, keepalive_thread, c) == 0;
  if (!c->ka_running)
    azp_warning ("%s: no keep-alive thread: a session that expires is "
                 "renewed at the next call", c->vm_name);
}

static void
keepalive_stop (struct vsphere_cycle *c)
{
  if (!c->ka_running)
    return;
  pthread_mutex_lock (&c->ka_lock);
  c->ka_stop = true;
  pthread_cond_signal (&c->ka_cond);
  pthread_mutex_unlock (&c->ka_lock);
  pthread_join (c->ka, NULL);
  c->ka_running = false;
  pthread_mutex_destroy (&c->ka_lock);
  pthread_cond_destroy (&c->ka_cond);
}

size_t
vsphere_cycle_ndisks (const struct vsphere_cycle *c)
{
  return c->ndisks;
}

const char *
vsphere_cycle_nbd_uri (const struct vsphere_cycle *c, size_t i)
{
  return datastore_export_uri (c->disks[i].b);
}

const char *
vsphere_cycle_socket (const struct vsphere_cycle *c, size_t i)
{
  return datastore_export_socket (c->disks[i].b);
}

int64_t
vsphere_cycle_disk_size (const struct vsphere_cycle *c, size_t i)
{
  return c->disks[i].size;
}

const char *
vsphere_cycle_snapshot_name (const struct vsphere_cycle *c)
{
  return c->snap_name;
}

int
vsphere_check_final_cycle (const struct vsphere_vm *vm, bool source_shutdown)
{
  if (!vm->power_state || !strcmp (vm->power_state, "poweredOff"))
    return 0;
  if (source_shutdown)
    azp_error ("%s: --source-shutdown says the VM is shut down, but vCenter "
               "reports it %s: shut it down first, or the final cycle misses "
               "what it writes afterwards", vm->name, vm->power_state);
  else
    azp_error ("%s: the VM is %s: a final cycle of a running VM misses what it "
               "writes afterwards; shut it down and give --source-shutdown",
               vm->name, vm->power_state);
  return -1;
}

int
vsphere_check_final_cycle_uri (const char *uri, bool source_shutdown)
{
  struct vsphere_uri u;
  struct vsphere_opts o;
  struct vsphere *v = NULL;
  struct vsphere_inventory *inv = NULL;
  const struct vsphere_vm *vm;
  int ret = -1;

  if (vsphere_uri_parse (uri, &u) == -1)
    return -1;
  if (!u.vm) {
    azp_error ("%s: name the VM (vsphere://HOST/[DC/]VM/DISK) to check its "
               "power state", uri);
    vsphere_uri_free (&u);
    return -1;
  }
  if (vsphere_opts_from_uri (&u, &o) == 0 && (v = vsphere_connect (&o)) &&
      (inv = vsphere_get_inventory (v)) &&
      (vm = vsphere_find_vm (inv, u.dcpath, u.vm, vsphere_host (v))))
    ret = vsphere_check_final_cycle (vm, source_shutdown);
  vsphere_inventory_free (inv);
  vsphere_close (v);
  vsphere_opts_free (&o);
  vsphere_uri_free (&u);
  return ret;
}

/* What a cycle refuses, for every disk of the VM it reads. */
static int
check_vm (const struct vsphere_inventory *inv, const struct vsphere_vm *vm)
{
  size_t own = 0;

  for (size_t i = 0; i < vm->nsnapshots; i++)
    if (!vm->snapshots[i].name ||
        strncmp (vm->snapshots[i].name, VSPHERE_SNAPSHOT_PREFIX,
                 strlen (VSPHERE_SNAPSHOT_PREFIX)))
      own++;
  if (own) {
    azp_error ("%s: the VM has %zu snapshot%s of its own: its current state "
               "lives in delta disks that cannot be read in place, and its "
               "base "
               "disks hold the state at the first snapshot; delete or "
               "consolidate the snapshots before replicating", vm->name, own,
               own > 1 ? "s" : "");
    return -1;
  }
  for (size_t i = 0; i < vm->ndisks; i++) {
    const struct vsphere_disk *d = &vm->disks[i];
    if (d->mode && !strncmp (d->mode, "independent", 11)) {
      azp_error ("%s: disk %zu is independent (%s): a VM snapshot does not "
                 "freeze it, so it cannot be replicated consistently; make it "
                 "dependent (persistent) first", vm->name, i, d->mode);
      return -1;
    }
    if (vsphere_disk_readable (inv, vm, i) == -1)
      return -1;
  }
  return 0;
}

/* CBT off: turn it on (effective at the snapshot this cycle takes) if
 * asked, else say that every cycle compares whole disks. */
static int
prepare_cbt (struct vsphere_cycle *c, const struct vsphere_vm *vm,
             const struct vsphere_cycle_opts *co)
{
  c->cbt = vm->cbt;
  if (vm->cbt || !co->track)
    return 0;
  if (co->enable_cbt) {
    if (vsphere_enable_cbt (c->v, vm) == -1)
      return -1;
    c->cbt = true;
    return 0;
  }
  azp_warning ("%s: changed block tracking (CBT) is off: every cycle reads "
               "whole disks and compares digests; give --enable-cbt to turn "
               "it on (it takes effect at the next snapshot)", vm->name);
  return 0;
}

/* The changeId of each disk in the snapshot's config. */
static int
snapshot_change_ids (struct vsphere_cycle *c)
{
  struct vsphere_vm snap = { 0 };
  int r = vsphere_snapshot_devices (c->v, c->snap_ref, &snap);

  for (size_t i = 0; r == 0 && i < c->ndisks; i++)
    for (size_t k = 0; k < snap.ndisks; k++)
      if (snap.disks[k].key == c->disks[i].key && snap.disks[k].change_id &&
          *snap.disks[k].change_id) {
        c->disks[i].change_id = xstrdup (snap.disks[k].change_id);
        if (!c->disks[i].change_id)
          r = -1;
      }
  vsphere_vm_clear (&snap);
  return r;
}

const char *
vsphere_cycle_change_id (const struct vsphere_cycle *c, size_t i)
{
  return c->disks[i].change_id;
}

int
vsphere_cycle_changed (struct vsphere_cycle *c, size_t i, const char *since,
                       struct rangelist *out)
{
  struct cycle_disk *d = &c->disks[i];
  struct vsphere_fault f;
  CLEANUP_FREE char *what = xasprintf ("%s: disk %zu: changed areas",
                                       c->vm_name, i);
  int r;

  if (!d->change_id) {
    if (c->cbt)
      azp_warning ("%s: disk %zu has no changeId in snapshot %s (CBT not yet "
                   "effective): this cycle compares the whole disk",
                   c->vm_name, i, c->snap_name);
    return 1;
  }
  if (!since) {
    azp_warning ("%s: disk %zu: no changeId recorded with the last recovery "
                 "point: this cycle compares the whole disk; the next ones "
                 "read only what CBT reports", c->vm_name, i);
    return 1;
  }
  r = vsphere_query_changed (c->v, c->vm_ref, c->snap_ref, d->key,
                             d->capacity, since, what ? what : c->vm_name,
                             out, &f);
  if (r == -2) {
    /* VMware: a changeId that cannot be used (CBT reset by a storage
     * migration, a restore, a lost tracking file) faults; the remedy is
     * a full read and a new chain from the current snapshot. */
    azp_warning ("%s: disk %zu: vCenter rejects changeId %s (%s%s%s): the "
                 "CBT chain was reset; this cycle compares the whole disk "
                 "and starts a new chain at %s", c->vm_name, i, since,
                 f.type, f.message ? ": " : "", f.message ? f.message : "",
                 d->change_id);
    vsphere_fault_clear (&f);
    rangelist_free (out);
    return 1;
  }
  if (r == -1)
    return -1;
  azp_info ("%s: disk %zu: CBT reports %llu bytes %s since %s", c->vm_name,
            i, (unsigned long long) rangelist_bytes (out),
            strcmp (since, "*") ? "changed" : "allocated", since);
  return 0;
}

/* Parse the URIs: one vCenter, one VM; the disk indexes. */
static int
parse_uris (char *const *uris, size_t n, struct vsphere_uri *first,
            int *idx)
{
  for (size_t i = 0; i < n; i++) {
    struct vsphere_uri u;
    if (vsphere_uri_parse (uris[i], &u) == -1)
      return -1;
    if (!u.vm) {
      azp_error ("%s: replicate needs vsphere://HOST/[DC/]VM/DISKINDEX, to "
                 "snapshot the VM", uris[i]);
      vsphere_uri_free (&u);
      return -1;
    }
    if (i > 0 && (strcmp (u.host, first->host) || strcmp (u.vm, first->vm) ||
                  (!u.dcpath) != (!first->dcpath) ||
                  (u.dcpath && strcmp (u.dcpath, first->dcpath)))) {
      azp_error ("%s: all the disks of a cycle must belong to one VM (%s)",
                 uris[i], first->vm);
      vsphere_uri_free (&u);
      return -1;
    }
    idx[i] = u.disk;
    if (i == 0)
      *first = u;
    else
      vsphere_uri_free (&u);
  }
  return 0;
}

static void
cycle_free (struct vsphere_cycle *c)
{
  keepalive_stop (c);
  guard_stop (c);
  for (size_t i = 0; i < c->ndisks; i++) {
    datastore_export_stop (c->disks[i].b);
    free (c->disks[i].url);
    free (c->disks[i].change_id);
  }
  free (c->disks);
  vsphere_close (c->v);
  free (c->vm_name); free (c->vm_ref); free (c->snap_name); free (c->snap_ref);
  free (c);
}

struct vsphere_cycle *
vsphere_cycle_begin (char *const *uris, size_t n,
                     const struct vsphere_cycle_opts *co)
{
  struct vsphere_uri u = { 0 };
  struct vsphere_opts o = { 0 };
  struct vsphere_inventory *inv = NULL;
  const struct vsphere_vm *vm;
  struct vsphere_cycle *c = NULL;
  CLEANUP_FREE int *idx = calloc (n ? n : 1, sizeof *idx);

  if (!idx || n == 0) {
    azp_error (n ? "out of memory" : "no disk given");
    return NULL;
  }
  if (parse_uris (uris, n, &u, idx) == -1 ||
      vsphere_opts_from_uri (&u, &o) == -1)
    goto fail;
  c = calloc (1, sizeof *c);
  if (!c) {
    azp_error ("out of memory");
    goto fail;
  }
  c->guard_fd = -1;
  c->v = vsphere_connect (&o);
  if (!c->v)
    goto fail;
  inv = vsphere_get_inventory (c->v);
  if (!inv)
    goto fail;
  vm = vsphere_find_vm (inv, u.dcpath, u.vm, vsphere_host (c->v));
  if (!vm)
    goto fail;
  azp_debug ("%s: found in the inventory (%s)", vm->name, vm->ref);
  c->vm_name = xstrdup (vm->name);
  c->vm_ref = xstrdup (vm->ref);
  if (!c->vm_name || !c->vm_ref)
    goto fail;
  if (vsphere_remove_stale_snapshots (c->v, vm) == -1)
    goto fail;
  if (check_vm (inv, vm) == -1)
    goto fail;
  if (!vm->datacenter) {
    azp_error ("%s: cannot tell the VM's datacenter", vm->name);
    goto fail;
  }

  c->disks = calloc (n, sizeof *c->disks);
  if (!c->disks) {
    azp_error ("out of memory");
    goto fail;
  }
  /* The base of each disk now: what the snapshot freezes. */
  for (size_t i = 0; i < n; i++) {
    CLEANUP_FREE char *ds = NULL, *path = NULL, *flat = NULL;
    if ((size_t) idx[i] >= vm->ndisks) {
      azp_error ("%s: VM %s has %zu disk%s (indexes from 0)", uris[i], vm->name,
                 vm->ndisks, vm->ndisks == 1 ? "" : "s");
      goto fail;
    }
    if (vsphere_split_ds_path (vm->disks[idx[i]].base_file, &ds, &path) == -1
        || !(flat = vsphere_flat_name (path)))
      goto fail;
    c->disks[i].url = vsphere_datastore_url (vsphere_base (c->v),
                                             vm->datacenter, ds, flat);
    c->disks[i].key = vm->disks[idx[i]].key;
    c->disks[i].capacity = vm->disks[idx[i]].capacity;
    c->ndisks++;
    if (!c->disks[i].url)
      goto fail;
  }

  c->snap_name = xasprintf ("%s-%lld", VSPHERE_SNAPSHOT_PREFIX,
                            (long long) time (NULL));
  if (!c->snap_name)
    goto fail;
  if (prepare_cbt (c, vm, co) == -1)
    goto fail;
  /* The bridges start while vCenter takes the snapshot, a process
   * start-up off the cycle's path: nbdkit's curl plugin makes no request
   * until a client connects, and the engine connects only once the
   * snapshot exists (the live disk is never read). */
  for (size_t i = 0; i < c->ndisks; i++)
    if (!(c->disks[i].b = datastore_export_spawn (c->v, c->disks[i].url)))
      goto fail;
  c->snap_ref = vsphere_create_snapshot (c->v, vm, c->snap_name,
                                         co->quiesce || u.quiesce);
  if (!c->snap_ref)
    goto fail;
  azp_info ("%s: snapshot %s created", c->vm_name, c->snap_name);
  if (co->guard)
    guard_start (c);
  if (c->cbt && snapshot_change_ids (c) == -1)
    goto fail_snap;
  for (size_t i = 0; i < c->ndisks; i++)
    if (vsphere_probe_range (c->v, c->disks[i].url, &c->disks[i].size) == -1
        || datastore_export_ready (c->disks[i].b) == -1)
      goto fail_snap;
  keepalive_start (c);
  vsphere_inventory_free (inv);
  vsphere_uri_free (&u);
  vsphere_opts_free (&o);
  return c;

 fail_snap:
  vsphere_cycle_end (c);
  c = NULL;
 fail:
  if (c)
    cycle_free (c);
  vsphere_inventory_free (inv);
  vsphere_uri_free (&u);
  vsphere_opts_free (&o);
  return NULL;
}

int
vsphere_cycle_end (struct vsphere_cycle *c)
{
  int ret = 0;

  if (!c)
    return 0;
  keepalive_stop (c);
  guard_stop (c);
  /* Stop reading before the snapshot goes: its removal writes the
   * deltas back into the base. */
  for (size_t i = 0; i < c->ndisks; i++) {
    datastore_export_stop (c->disks[i].b);
    c->disks[i].b = NULL;
  }
  if (c->snap_ref) {
    CLEANUP_FREE char *what = xasprintf ("%s: remove snapshot %s",
                                         c->vm_name, c->snap_name);
    if (vsphere_remove_snapshot (c->v, c->snap_ref,
                                 what ? what : c->vm_name) == -1) {
      azp_error ("%s: snapshot %s is left behind; the next run removes it",
                 c->vm_name, c->snap_name);
      ret = -1;
    }
    else
      azp_info ("%s: snapshot %s removed", c->vm_name, c->snap_name);
  }
  cycle_free (c);
  return ret;
}
