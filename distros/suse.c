/* SLES and openSUSE: dracut (mkinitrd on old releases), wicked ifcfg
 * in /etc/sysconfig/network, grub2-mkconfig, INITRD_MODULES. */
#include <stddef.h>

#include "distros/distro.h"

static const char *const distros[] = {
  "sles", "suse-based", "opensuse", NULL
};
static const char *const initrd_names[] = {
  "/boot/initrd-%s", "/boot/initrd-%s.img", NULL
};
static const char *const initramfs_prefer[] = { "dracut", "mkinitrd", NULL };
static const char *const grub_cfgs[] = { "/boot/grub2/grub.cfg", NULL };
static const char *const grub_mkconfig[] = {
  "/usr/sbin/grub2-mkconfig", "/sbin/grub2-mkconfig", NULL
};
static const char *const sshd_units[] = { "sshd", NULL };
static const char *const persistent_net[] = {
  "/etc/udev/rules.d/70-persistent-net.rules",
  "/etc/udev/rules.d/70-persistent-net.rules.d",
  NULL
};
static const char *const net_stacks[] = {
  "wicked", "networkmanager", NULL
};

const struct distro_ops distro_suse = {
  .family = "suse",
  .distros = distros,
  .initrd_names = initrd_names,
  .initramfs_prefer = initramfs_prefer,
  .grub_cfgs = grub_cfgs,
  .grub_mkconfig = grub_mkconfig,
  .sshd_units = sshd_units,
  .persistent_net = persistent_net,
  .net_stacks = net_stacks,
};
