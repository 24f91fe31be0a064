/* Every network stack the guest configures, together. */
#include <string.h>

#include "prep/common/common.h"
#include "prep/guest/guest.h"
#include "distros/distro.h"

int
net_scan_all (struct guest *gs, struct net_iface **list, size_t *n)
{
  struct distro_data *d = distro_get (gs);

  *list = NULL;
  *n = 0;
  if (!d)
    return -1;
  for (size_t i = 0; i < d->nnet; i++) {
    size_t before = *n;
    if (d->net[i]->scan (gs, list, n) == -1) {
      net_ifaces_free (*list, *n);
      *list = NULL;
      *n = 0;
      return -1;
    }
    for (size_t j = before; j < *n; j++)
      (*list)[j].ops = d->net[i];
  }
  return 0;
}

void
net_ifaces_free (struct net_iface *list, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (list[i].file);
    free (list[i].name);
    free (list[i].mac);
  }
  free (list);
}

/* For the stacks: append one interface. */
int
net_iface_add (struct net_iface **list, size_t *n, const char *file,
               const char *name, bool dhcp, const char *mac)
{
  struct net_iface *nl = realloc (*list, (*n + 1) * sizeof *nl);
  if (!nl) {
    azp_error ("out of memory");
    return -1;
  }
  *list = nl;
  nl[*n].file = strdup (file);
  nl[*n].name = name ? strdup (name) : NULL;
  nl[*n].dhcp = dhcp;
  nl[*n].mac = mac && *mac ? strdup (mac) : NULL;
  nl[*n].ops = NULL;
  (*n)++;
  return 0;
}

const char *
net_iface_problem (const struct net_iface *ifc, size_t index,
                   bool keep_static)
{
  CLEANUP_FREE char *eth = net_eth_name (index);
  if (ifc->mac && ifc->ops->mac_reason)
    return ifc->ops->mac_reason;
  if (!ifc->dhcp && !keep_static)
    return "static address (Azure assigns addresses by DHCP)";
  if (ifc->name && eth && strcmp (ifc->name, eth))
    return ifc->ops->name_reason;
  return NULL;
}

const char *
net_needs_fix (struct guest *gs, const struct net_iface *ifc, size_t index)
{
  return net_iface_problem (ifc, index, gs->keep_static_ip);
}

char *
net_text_fix (const struct net_iface *ifc, size_t index, bool keep_static,
              const char *text)
{
  CLEANUP_FREE char *eth = net_eth_name (index);
  struct lines ls;
  char *out = NULL;

  if (!eth)
    return NULL;
  if (ifc->ops->rewrite)
    return ifc->ops->rewrite (keep_static, text, eth);
  if (lines_split (&ls, text) == -1)
    return NULL;
  if (ifc->ops->edit (keep_static, ifc, eth, &ls) == 0)
    out = lines_join (&ls);
  lines_free (&ls);
  return out;
}

int
net_fix (struct guest *gs, const struct net_iface *ifc, size_t index)
{
  CLEANUP_FREE char *text = NULL, *out = NULL;

  if (ifc->ops->fix)
    return ifc->ops->fix (gs, ifc, index);
  text = distro_read_config (gs, ifc->file);
  if (!text)
    return -1;
  out = net_text_fix (ifc, index, gs->keep_static_ip, text);
  return out ? net_write (gs, ifc->file, out) : -1;
}

char *
net_eth_name (size_t index)
{
  return xasprintf ("eth%zu", index);
}

char *
distro_read_config (struct guest *gs, const char *path)
{
  return guest_read_file (gs, path, 1 << 20, NULL);
}

/* Network configuration directories read every file in them (ifcfg-*,
 * interfaces.d, NetworkManager keyfiles), so a backup next to the
 * original would be configured too.  Keep it under BACKUP_DIR instead. */
#define BACKUP_DIR "/var/lib/azprep/backup"

static int
backup_aside (struct guest *gs, const char *path)
{
  CLEANUP_FREE char *bak = NULL, *dir = NULL;

  if (gs->no_backup || gs->dry_run || !guest_exists (gs, path))
    return 0;
  bak = xasprintf (BACKUP_DIR "%s", path);
  if (!bak)
    return -1;
  if (guest_exists (gs, bak))
    return 0;
  dir = strndup (bak, strrchr (bak, '/') - bak);
  if (!dir || guestfs_mkdir_p (gs->g, dir) == -1 ||
      guestfs_cp_a (gs->g, path, bak) == -1) {
    azp_error ("%s: cannot keep a backup in " BACKUP_DIR ": %s", path,
               guestfs_last_error (gs->g));
    return -1;
  }
  return 0;
}

int
net_write (struct guest *gs, const char *path, const char *content)
{
  bool saved = gs->no_backup;
  int r;

  if (backup_aside (gs, path) == -1)
    return -1;
  gs->no_backup = true;
  r = guest_write_file (gs, path, content, strlen (content));
  gs->no_backup = saved;
  return r;
}

int
net_remove (struct guest *gs, const char *path)
{
  bool saved = gs->no_backup;
  int r;

  if (backup_aside (gs, path) == -1)
    return -1;
  gs->no_backup = true;
  r = guest_remove_file (gs, path);
  gs->no_backup = saved;
  return r;
}
