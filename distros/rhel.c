/* RHEL, CentOS, Rocky, Alma, Oracle Linux, Fedora: dracut, ifcfg or
 * NetworkManager keyfiles, grub2-mkconfig, or grubby on BLS (RHEL 8+). */
#include <stddef.h>

#include "distros/distro.h"

static const char *const distros[] = {
  "rhel", "centos", "rocky", "almalinux", "oraclelinux", "fedora",
  "scientificlinux", "redhat-based", "circle", NULL
};
static const char *const initrd_names[] = {
  "/boot/initramfs-%s.img", "/boot/initrd-%s.img", NULL
};
static const char *const initramfs_prefer[] = { "dracut", NULL };
static const char *const grub_cfgs[] = {
  "/boot/grub2/grub.cfg", "/boot/efi/EFI/redhat/grub.cfg",
  "/boot/efi/EFI/centos/grub.cfg", "/boot/efi/EFI/rocky/grub.cfg",
  "/boot/efi/EFI/almalinux/grub.cfg", NULL
};
static const char *const grub_mkconfig[] = {
  "/usr/sbin/grub2-mkconfig", "/sbin/grub2-mkconfig", NULL
};
static const char *const sshd_units[] = { "sshd", NULL };
static const char *const persistent_net[] = {
  "/etc/udev/rules.d/70-persistent-net.rules", NULL
};
static const char *const net_stacks[] = { "ifcfg", "networkmanager", NULL };

const struct distro_ops distro_rhel = {
  .family = "rhel",
  .distros = distros,
  .initrd_names = initrd_names,
  .initramfs_prefer = initramfs_prefer,
  .grub_cfgs = grub_cfgs,
  .grub_mkconfig = grub_mkconfig,
  .sshd_units = sshd_units,
  .persistent_net = persistent_net,
  .net_stacks = net_stacks,
};
