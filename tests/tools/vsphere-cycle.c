/* Drives replication cycles on a simulated VM (tests/test-vsphere-cycle.sh):
 * a stale azprep snapshot is removed, each cycle creates its snapshot and
 * serves the frozen disk over NBD (its bytes are the image's), and the
 * snapshot is gone after the cycle; a VM with a snapshot of its own is
 * refused; a final cycle of a running VM needs --source-shutdown.
 *
 * Usage: vsphere-cycle URI IMAGE
 *        vsphere-cycle --open URI IMAGE   (read in place, as inspect and
 *                                          check do: compare the bytes)
 *        vsphere-cycle --open-hold URI IMAGE  (the same, then wait to be
 *                                          killed)
 */
#include <string.h>
#include <unistd.h>
#include <libnbd.h>

#include "prep/common/common.h"
#include "replicate/vsphere/vsphere.h"

#define FAIL(...) do { fprintf (stderr, "FAIL: " __VA_ARGS__); \
    fprintf (stderr, "\n"); exit (1); } while (0)

/* The VM's snapshots' names, joined by ",". */
static char *
snapshots (const struct vsphere_uri *u, struct vsphere *v,
           struct vsphere_vm **vmp, struct vsphere_inventory **invp)
{
  struct vsphere_inventory *inv = vsphere_get_inventory (v);
  const struct vsphere_vm *vm;
  char *s = xstrdup ("");

  if (!inv || !(vm = vsphere_find_vm (inv, u->dcpath, u->vm, "vcsim")))
    FAIL ("inventory");
  for (size_t i = 0; i < vm->nsnapshots; i++) {
    char *n = xasprintf ("%s%s%s", s, *s ? "," : "", vm->snapshots[i].name);
    free (s);
    s = n;
  }
  if (vmp) {
    *vmp = (struct vsphere_vm *) vm;
    *invp = inv;
  }
  else
    vsphere_inventory_free (inv);
  return s;
}

static void
compare (const char *nbd_uri, int64_t size, const char *image)
{
  struct nbd_handle *nbd = nbd_create ();
  static char a[1 << 20], b[1 << 20];
  FILE *fp = fopen (image, "r");
  const int64_t offsets[] = { 0, size / 2, size - (int64_t) sizeof a };

  if (!nbd || !fp || nbd_connect_uri (nbd, nbd_uri) == -1)
    FAIL ("connect %s: %s", nbd_uri, nbd_get_error ());
  if (nbd_get_size (nbd) != size || nbd_is_read_only (nbd) != 1)
    FAIL ("size %lld, read-only %d", (long long) nbd_get_size (nbd),
          nbd_is_read_only (nbd));
  for (size_t i = 0; i < 3; i++) {
    if (nbd_pread (nbd, a, sizeof a, offsets[i], 0) == -1)
      FAIL ("pread: %s", nbd_get_error ());
    if (fseeko (fp, offsets[i], SEEK_SET) == -1 ||
        fread (b, 1, sizeof b, fp) != sizeof b)
      FAIL ("read %s", image);
    if (memcmp (a, b, sizeof a))
      FAIL ("bytes at %lld differ", (long long) offsets[i]);
  }
  nbd_close (nbd);
  fclose (fp);
}

int
main (int argc, char **argv)
{
  struct vsphere_uri u;
  struct vsphere_opts o;
  struct vsphere *v;
  struct vsphere_vm *vm;
  struct vsphere_inventory *inv;
  struct vsphere_cycle *c;
  char *s, *snap;
  struct lowered low = { false, false };

  /* azprep's flags, first: --vsphere-allow-http, --vsphere-insecure. */
  while (argc > 1 && !strncmp (argv[1], "--vsphere-", 10)) {
    if (!strcmp (argv[1], "--vsphere-allow-http"))
      low.vsphere_allow_http = true;
    else if (!strcmp (argv[1], "--vsphere-insecure"))
      low.vsphere_insecure = true;
    else
      FAIL ("unknown option %s", argv[1]);
    argv++;
    argc--;
  }
  opt_lower (&low);

  if (argc == 4 && (!strcmp (argv[1], "--open") ||
                    !strcmp (argv[1], "--open-hold"))) {
    int64_t size;
    struct vsphere_source *src = vsphere_source_open (argv[2], &size);
    CLEANUP_FREE char *nbd_uri = NULL;
    if (!src)
      FAIL ("open %s", argv[2]);
    nbd_uri = xasprintf ("nbd+unix:///?socket=%s",
                         vsphere_source_socket (src));
    compare (nbd_uri, size, argv[3]);
    if (!strcmp (argv[1], "--open-hold")) {
      /* Killed here by the test: the guard removes the snapshot. */
      printf ("holding\n");
      fflush (stdout);
      pause ();
    }
    vsphere_source_close (src);
    printf ("ok\n");
    return 0;
  }
  if (argc != 3)
    FAIL ("usage: vsphere-cycle URI IMAGE");
  if (vsphere_uri_parse (argv[1], &u) == -1 ||
      vsphere_opts_from_uri (&u, &o) == -1 || !(v = vsphere_connect (&o)))
    FAIL ("connect");

  /* An interrupted run left a snapshot: the next cycle removes it. */
  free (snapshots (&u, v, &vm, &inv));
  snap = vsphere_create_snapshot (v, vm, VSPHERE_SNAPSHOT_PREFIX "-1", false);
  if (!snap)
    FAIL ("plant a stale snapshot");
  free (snap);
  vsphere_inventory_free (inv);

  for (int cycle = 0; cycle < 2; cycle++) {
    struct vsphere_cycle_opts co = { .quiesce = cycle == 1 };
    c = vsphere_cycle_begin (&argv[1], 1, &co);
    if (!c)
      FAIL ("cycle %d did not begin", cycle);
    s = snapshots (&u, v, NULL, NULL);
    printf ("cycle %d: snapshots during the cycle: %s\n", cycle, s);
    if (strcmp (s, vsphere_cycle_snapshot_name (c)))
      FAIL ("expected only %s", vsphere_cycle_snapshot_name (c));
    free (s);
    compare (vsphere_cycle_nbd_uri (c, 0), vsphere_cycle_disk_size (c, 0),
             argv[2]);
    if (vsphere_cycle_end (c) == -1)
      FAIL ("cycle %d did not end cleanly", cycle);
    s = snapshots (&u, v, NULL, NULL);
    printf ("cycle %d: snapshots after: '%s'\n", cycle, s);
    if (*s)
      FAIL ("snapshots left: %s", s);
    free (s);
  }

  /* A snapshot of the user's own: refused, and left alone. */
  free (snapshots (&u, v, &vm, &inv));
  snap = vsphere_create_snapshot (v, vm, "before upgrade", false);
  vsphere_inventory_free (inv);
  if (!snap)
    FAIL ("user snapshot");
  c = vsphere_cycle_begin (&argv[1], 1,
                           &(struct vsphere_cycle_opts) { 0 });
  if (c)
    FAIL ("a VM with its own snapshot was not refused");
  s = snapshots (&u, v, NULL, NULL);
  if (strcmp (s, "before upgrade"))
    FAIL ("the user's snapshot was touched: %s", s);
  free (s);
  if (vsphere_remove_snapshot (v, snap, "cleanup") == -1)
    FAIL ("remove the user's snapshot");
  free (snap);

  /* A final cycle needs the VM powered off, whatever the flag says. */
  if (vsphere_check_final_cycle_uri (argv[1], false) != -1 ||
      vsphere_check_final_cycle_uri (argv[1], true) != -1)
    FAIL ("final cycle of a powered-on VM");
  free (snapshots (&u, v, &vm, &inv));
  {
    CLEANUP_FREE char *body =
      xasprintf ("<PowerOffVM_Task xmlns=\"urn:vim25\">"
                 "<_this type=\"VirtualMachine\">%s</_this>"
                 "</PowerOffVM_Task>", vm->ref);
    xmlNodePtr rv;
    xmlDocPtr doc = vsphere_call (v, body, "power off", &rv);
    char *task = doc ? vsphere_child_text (rv, "returnval") : NULL;
    char *r = task ? vsphere_wait_task (v, task, "power off") : NULL;
    if (!r)
      FAIL ("power off");
    free (r);
    free (task);
    xmlFreeDoc (doc);
  }
  vsphere_inventory_free (inv);
  if (vsphere_check_final_cycle_uri (argv[1], true) != 0 ||
      vsphere_check_final_cycle_uri (argv[1], false) != 0)
    FAIL ("final cycle of a powered-off VM");

  vsphere_close (v);
  vsphere_uri_free (&u);
  vsphere_opts_free (&o);
  printf ("ok\n");
  return 0;
}
