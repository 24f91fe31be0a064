/* Fuzz the network stacks' readers and writers on bytes
 * (distros/net/): NetworkManager keyfiles, netplan YAML, RHEL ifcfg,
 * SUSE wicked ifcfg and ifupdown interfaces files, as linux-network
 * calls them: the interfaces a file configures, what is wrong with
 * each, the file's new text, and that text read back and fixed again.
 * The first input byte picks the stack (its low three bits) and
 * --keep-static-ip (bit 3); the rest is the file.  A file of one
 * interface must need nothing once fixed, and a second fix must change
 * nothing (abort otherwise). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/common/common.h"
#include "distros/distro.h"
#include "tests/fuzz/fuzz.h"

static const struct {
  const struct net_ops *ops;
  const char *file, *fixed_file;      /* before and after the fix */
} stacks[] = {
#define NM "/etc/NetworkManager/system-connections/"
  { &net_nm_ops, NM "ens192.nmconnection", NM "ens192.nmconnection" },
  { &net_netplan_ops, "/etc/netplan/50-cloud-init.yaml",
    "/etc/netplan/50-cloud-init.yaml" },
  { &net_ifcfg_ops, "/etc/sysconfig/network-scripts/ifcfg-ens192",
    "/etc/sysconfig/network-scripts/ifcfg-eth0" },
  { &net_wicked_ops, "/etc/sysconfig/network/ifcfg-ens192",
    "/etc/sysconfig/network/ifcfg-eth0" },
  { &net_ifupdown_ops, "/etc/network/interfaces",
    "/etc/network/interfaces" },
};
#define NSTACKS (sizeof stacks / sizeof stacks[0])

/* The one interface of text, or n 0 (none, several, an error). */
static struct net_iface *
one (const struct net_ops *ops, const char *file, const char *text,
     size_t *n)
{
  struct net_iface *list = NULL;

  *n = 0;
  if (ops->parse (file, text, &list, n) == -1 || *n != 1) {
    net_ifaces_free (list, *n);
    *n = 0;
    return NULL;
  }
  list[0].ops = ops;
  return list;
}

/* A fixed file of one interface: read back, it needs nothing, and a
 * second fix gives the same bytes. */
static void
check_fixed (const struct net_ops *ops, const char *file, bool keep_static,
             const char *out)
{
  size_t n;
  struct net_iface *ifc = one (ops, file, out, &n);
  const char *why;
  char *again;

  if (!ifc) {
    fprintf (stderr, "%s: the fixed file has no single interface:\n%s\n",
             ops->name, out);
    abort ();
  }
  why = net_iface_problem (ifc, 0, keep_static);
  again = net_text_fix (ifc, 0, keep_static, out);
  if (why || !again || strcmp (again, out)) {
    fprintf (stderr, "%s: after the fix: %s:\n%s\n", ops->name,
             why ? why : "a second fix changes it", out);
    abort ();
  }
  free (again);
  net_ifaces_free (ifc, n);
}

/* Every interface of text: its problem and its fixed text. */
static void
fix_all (size_t k, bool keep_static, const char *text)
{
  const struct net_ops *ops = stacks[k].ops;
  struct net_iface *list = NULL;
  size_t n = 0;

  if (ops->parse (stacks[k].file, text, &list, &n) == 0) {
    for (size_t i = 0; i < n; i++) {
      char *out;

      list[i].ops = ops;
      net_iface_problem (&list[i], i, keep_static);
      out = net_text_fix (&list[i], i, keep_static, text);
      if (out && n == 1)
        check_fixed (ops, stacks[k].fixed_file, keep_static, out);
      free (out);
    }
  }
  net_ifaces_free (list, n);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *text;
  size_t k;

  if (size < 1)
    return 0;
  k = (data[0] & 7) % NSTACKS;
  text = fuzz_string (data + 1, size - 1);
  fix_all (k, data[0] & 8, text);
  free (text);
  return 0;
}
