/* Debian and Ubuntu: initramfs-tools (or dracut), ifupdown, netplan or
 * NetworkManager, update-grub. */
#include <stddef.h>

#include "distros/distro.h"

static const char *const distros[] = {
  "debian", "ubuntu", "linuxmint", "kalilinux", NULL
};
static const char *const initrd_names[] = { "/boot/initrd.img-%s", NULL };
static const char *const initramfs_prefer[] = {
  "initramfs-tools", "dracut", NULL
};
static const char *const grub_cfgs[] = { "/boot/grub/grub.cfg", NULL };
static const char *const grub_mkconfig[] = {
  "/usr/sbin/update-grub", "/usr/sbin/grub-mkconfig", NULL
};
static const char *const sshd_units[] = { "ssh", NULL };
static const char *const persistent_net[] = {
  "/etc/udev/rules.d/70-persistent-net.rules",
  "/etc/udev/rules.d/70-persistent-net.rules.d",
  "/etc/udev/rules.d/50-cloud-init.rules",
  NULL
};
static const char *const net_stacks[] = {
  "ifupdown", "netplan", "networkmanager", NULL
};

const struct distro_ops distro_debian = {
  .family = "debian",
  .distros = distros,
  .initrd_names = initrd_names,
  .initramfs_prefer = initramfs_prefer,
  .grub_cfgs = grub_cfgs,
  .grub_mkconfig = grub_mkconfig,
  .sshd_units = sshd_units,
  .persistent_net = persistent_net,
  .net_stacks = net_stacks,
};
