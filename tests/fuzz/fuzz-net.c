/* Fuzz the network stacks' readers and writers on bytes
 * (distros/net/): NetworkManager keyfiles, netplan YAML, RHEL ifcfg,
 * SUSE wicked ifcfg and ifupdown interfaces files, as linux-network
 * calls them: the interfaces a file configures, what is wrong with
 * each, the file's new text, and that text read back and fixed again.
 * The first input byte picks the stack (its low three bits) and
 * --keep-static-ip (bit 3); the rest is the file. */
#include <stdbool.h>
#include <stdlib.h>

#include "prep/common/common.h"
#include "distros/distro.h"
#include "tests/fuzz/fuzz.h"

static const struct {
  const struct net_ops *ops;
  const char *file;
} stacks[] = {
#define NM "/etc/NetworkManager/system-connections/"
  { &net_nm_ops, NM "ens192.nmconnection" },
  { &net_netplan_ops, "/etc/netplan/50-cloud-init.yaml" },
  { &net_ifcfg_ops, "/etc/sysconfig/network-scripts/ifcfg-ens192" },
  { &net_wicked_ops, "/etc/sysconfig/network/ifcfg-ens192" },
  { &net_ifupdown_ops, "/etc/network/interfaces" },
};
#define NSTACKS (sizeof stacks / sizeof stacks[0])

/* Every interface of text: its problem and its fixed text; with again,
 * the first fixed text is read and fixed once more. */
static void
fix_all (const struct net_ops *ops, const char *file, bool keep_static,
         const char *text, bool again)
{
  struct net_iface *list = NULL;
  size_t n = 0;

  if (ops->parse (file, text, &list, &n) == 0) {
    for (size_t i = 0; i < n; i++) {
      char *out;

      list[i].ops = ops;
      net_iface_problem (&list[i], i, keep_static);
      out = net_text_fix (&list[i], i, keep_static, text);
      if (out && again && i == 0)
        fix_all (ops, file, keep_static, out, false);
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
  fix_all (stacks[k].ops, stacks[k].file, data[0] & 8, text, true);
  free (text);
  return 0;
}
