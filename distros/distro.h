/* Linux guests: inspection (the "linux" os_ops) and the distro families.
 * Every difference between distros lives here; fixups ask the ops
 * tables and never compare distro names.
 *
 * The family (debian.c, rhel.c, suse.c) gives the defaults: where the
 * initramfs and GRUB files are, what sshd's unit is called, which
 * persistent-net rules exist.  What is really in the guest decides the
 * rest, once, in distro_detect (distro.c): which initramfs tool is
 * installed (initramfs.c: initramfs-tools, dracut, SUSE mkinitrd),
 * which network stacks are configured (net/), how GRUB's
 * configuration is regenerated (distro.c), systemd or SysV.
 */
#ifndef AZPREP_DISTRO_H
#define AZPREP_DISTRO_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "prep/common/text.h"

struct guest;

/* The drivers Azure needs in every initramfs.  nvme/nvme_core are
 * added when the kernel has them as modules. */
#define HV_REQUIRED_DRIVERS { "hv_vmbus", "hv_storvsc", "hv_netvsc", NULL }
#define HV_OPTIONAL_DRIVERS { "nvme_core", "nvme", NULL }

struct kernel {
  char *version;            /* e.g. 6.1.0-13-amd64 */
  char *vmlinuz;            /* /boot/vmlinuz-VERSION */
  char *initrd;             /* its initramfs (guest path; may be absent) */
  bool initrd_exists;
  char **drivers;           /* drivers it needs in the initramfs (modules) */
  char **builtin;           /* required drivers built into the kernel */
  char **absent;            /* required drivers the kernel does not have */
};

/* One network interface configuration found in the guest. */
struct net_iface {
  char *file;               /* the guest file that configures it */
  char *name;               /* interface name, or NULL (NM: any) */
  bool dhcp;                /* false: static addresses */
  char *mac;                /* MAC address it is bound to, or NULL */
  const struct net_ops *ops;
};

/* A network configuration stack (net-*.c). */
struct net_ops {
  const char *name;         /* "ifupdown", "ifcfg", "networkmanager", ... */
  /* Append the interfaces this stack configures.  0 or -1. */
  int (*scan) (struct guest *gs, struct net_iface **list, size_t *n);
  /* Does the index-th interface need rewriting for Azure: bound to a
   * MAC, not named ethINDEX, or static (unless --keep-static-ip)?
   * Returns a reason, or NULL when it is right. */
  const char *(*needs_fix) (struct guest *gs, const struct net_iface *ifc,
                            size_t index);
  /* The reasons net_needs_fix gives, in this stack's words: bound to a
   * MAC (NULL if the stack never binds one), named otherwise. */
  const char *mac_reason, *name_reason;
  /* Rewrite it: ethINDEX, no MAC binding, DHCP (with --keep-static-ip
   * the same addresses), through the guest_* write helpers, which keep
   * the old configuration as a backup.  0 or -1. */
  int (*fix) (struct guest *gs, const struct net_iface *ifc, size_t index);
  /* Or, for a stack whose files are edited line by line: change the
   * lines of ifc->file for interface eth; net_fix reads and writes them.
   * 0 or -1. */
  int (*edit) (bool keep_static, const struct net_iface *ifc,
               const char *eth, struct lines *ls);
  /* Or (ifcfg, whose fix also renames the file): the new text of
   * ifc->file.  A new string, or NULL (reported). */
  char *(*rewrite) (bool keep_static, const char *text, const char *eth);
  /* The interfaces one of its files configures, from its text (scan
   * reads every file and calls it; unit tests give bytes).  0 or -1. */
  int (*parse) (const char *file, const char *text, struct net_iface **list,
                size_t *n);
};

/* An initramfs tool (initramfs.c). */
struct initramfs_ops {
  const char *name;               /* "initramfs-tools", "dracut", "mkinitrd" */
  const char *const *tools;       /* guest paths where the tool may be */
  bool rootdelay_sleeps;          /* rootdelay=N sleeps N s, always */
  /* The file that makes future rebuilds include the drivers, and its new
   * content (NULL: already right).  0 or -1. */
  int (*persist) (struct guest *gs, char *const *drivers, const char **path,
                  char **content);
  /* Rebuild k's initramfs with the drivers, running tool in the guest. */
  int (*rebuild) (struct guest *gs, const char *tool, const struct kernel *k,
                  char *const *drivers);
};

/* How GRUB's configuration is regenerated (distro.c). */
enum grub_kind { GRUB_NONE = 0, GRUB_MKCONFIG, GRUB_BLS };

struct distro_ops {
  const char *family;                   /* "debian", "rhel", "suse" */
  const char *const *distros;           /* libguestfs distro names */
  const char *const *initrd_names;      /* printf patterns, %s = version */
  const char *const *initramfs_prefer;  /* tool names, best first */
  const char *const *grub_cfgs;         /* where grub.cfg may be */
  const char *const *grub_mkconfig;     /* tools regenerating it */
  const char *const *sshd_units;        /* sshd's unit / init script */
  const char *const *persistent_net;    /* udev rules binding names */
  const char *const *net_stacks;        /* net_ops names to look at */
};

struct distro_data {
  const struct distro_ops *ops;
  const char *unsupported;              /* why, when ops is NULL */
  struct kernel *kernels;
  size_t nkernels;
  const struct initramfs_ops *initramfs;
  char *initramfs_tool;                 /* guest path of the tool */
  bool systemd;
  enum grub_kind grub;
  char *grub_cfg;                       /* generated grub.cfg, or NULL */
  char *grub_tool;                      /* grub2-mkconfig / update-grub */
  char *grubby;                         /* BLS: grubby */
  char *esp_efi;                        /* UEFI: /boot/efi/EFI, or NULL */
  const struct net_ops *net[8];         /* stacks configured in the guest */
  size_t nnet;
  /* The last listing of each initramfs read (initrd_list), with the
   * file's identity (inode, size, mtime, ctime): an initramfs is
   * downloaded again only when it changed. */
  struct initrd_listing {
    char *path;
    int64_t id[6];
    char **files;
  } *listings;
  size_t nlistings;
  /* Read-only handles: the names in the directories services.c looks
   * in, each listed once (names NULL: it could not be listed). */
  struct dir_names {
    char *dir;
    char **names;
  } *dirs;
  size_t ndirs;
};

/* Detect the family and the guest's tools, once.  Returns the data
 * (never NULL after success; ops NULL when the distro is unsupported,
 * with ->unsupported saying why), or NULL on error. */
struct distro_data *distro_get (struct guest *gs);
/* Is this a supported Linux guest?  For fixup applies(). */
bool distro_supported (struct guest *gs);

/* The family tables. */
extern const struct distro_ops distro_debian, distro_rhel, distro_suse;
extern const struct initramfs_ops initramfs_tools_ops, initramfs_dracut_ops,
  initramfs_mkinitrd_ops;
extern const struct net_ops net_ifupdown_ops, net_ifcfg_ops, net_nm_ops,
  net_netplan_ops, net_wicked_ops;

/* Kernels and their initramfs (kernels.c). */
int kernels_detect (struct guest *gs, struct distro_data *d);
/* The drivers k's initramfs lacks (NULL-terminated, maybe empty), from a
 * listing of the real initramfs file.  NULL on error (reported, naming
 * the file). */
char **kernel_initrd_missing (struct guest *gs, const struct kernel *k);

/* List the files of an initramfs (initrd-list.c): concatenated cpio
 * archives, uncompressed or gzip/xz/zstd/bzip2/lz4/lzma, as the kernel
 * reads them.  Returns the paths (NULL-terminated) or NULL.  A file
 * unchanged since it was last listed is not downloaded again. */
char **initrd_list (struct guest *gs, const char *path);
/* The same from an open file (fd at its start), path naming it. */
char **initrd_list_fd (const char *path, int fd);

/* Run a guest program inside the appliance (chroot).  Logs its output
 * with azp_debug(); on failure reports an error naming the tool and what
 * it printed.  0 or -1. */
int guest_run (struct guest *gs, const char *const *argv);
/* The first of paths that exists in the guest, or NULL. */
const char *guest_first_existing (struct guest *gs, const char *const *paths);

/* Services (services.c): systemd links or SysV rc links. */
/* Is unit (e.g. "ssh.service"; SysV: the init script name) enabled? */
bool service_enabled (struct guest *gs, const char *unit);
/* Services of other hypervisors' guest tools (NULL-terminated). */
extern const char *const hypervisor_tools[];
/* Is the unit installed at all (unit file or init script)? */
bool service_installed (struct guest *gs, const char *unit);
int service_enable (struct guest *gs, const char *unit);
/* The (first) link service_enable would create. */
char *service_enable_link (struct guest *gs, const char *unit);
int service_disable (struct guest *gs, const char *unit);
/* The links that enable unit (NULL-terminated, maybe empty). */
char **service_links (struct guest *gs, const char *unit);

/* All interfaces of every configured stack, in a stable order. */
int net_scan_all (struct guest *gs, struct net_iface **list, size_t *n);
void net_ifaces_free (struct net_iface *list, size_t n);
int net_iface_add (struct net_iface **list, size_t *n, const char *file,
                   const char *name, bool dhcp, const char *mac);
/* Write / remove a network configuration file, keeping the original
 * under /var/lib/azprep/backup (not next to it, where the stack would
 * read it too).  0 or -1. */
int net_write (struct guest *gs, const char *path, const char *content);
int net_remove (struct guest *gs, const char *path);
/* The stacks' needs_fix: MAC binding, static address, name. */
/* net_needs_fix on bytes alone: keep_static is --keep-static-ip. */
const char *net_iface_problem (const struct net_iface *ifc, size_t index,
                               bool keep_static);
/* The new text of ifc's file for interface index (edit or rewrite),
 * or NULL (reported). */
char *net_text_fix (const struct net_iface *ifc, size_t index,
                    bool keep_static, const char *text);
const char *net_needs_fix (struct guest *gs, const struct net_iface *ifc,
                           size_t index);
/* Rewrite one interface through its stack's fix or edit.  0 or -1. */
int net_fix (struct guest *gs, const struct net_iface *ifc, size_t index);
/* "ethINDEX" */
char *net_eth_name (size_t index);
/* Read a guest config file (bounded), NULL with error reported. */
char *distro_read_config (struct guest *gs, const char *path);

/* Block devices (devices.c).  device_unstable: a name that changes on
 * Azure (/dev/sdX, /dev/vdX, /dev/nvmeXnYpZ, /dev/disk/by-path/...).
 * device_resolve: the appliance device for a guest spec, or NULL.
 * device_disk: its whole disk, or NULL.  device_uuid: its UUID or NULL. */
bool device_unstable (const char *spec);
char *device_resolve (struct guest *gs, const char *spec,
                      const char *mountpoint);
char *device_disk (struct guest *gs, const char *dev);
char *device_uuid (struct guest *gs, const char *dev);

/* What a config-file transform needs to know of the guest's devices,
 * so that it works on bytes alone (unit tests give a table).  Each
 * returns a new string or NULL (unknown; no error).  uuid: the UUID of
 * the filesystem, swap or LUKS volume a guest spec names (mp, when not
 * NULL, its mountpoint in fstab); disk: the whole disk holding it. */
struct devmap {
  char *(*uuid) (void *opaque, const char *spec, const char *mp);
  char *(*disk) (void *opaque, const char *spec, const char *mp);
  void *opaque;
};
/* The devmap of an opened guest (device_resolve, _uuid, _disk). */
struct devmap devmap_of_guest (struct guest *gs);

/* A modprobe.d line that disables a Hyper-V (or boot) module:
 * "blacklist hv_netvsc", "install hv_vmbus /bin/true" (modprobe.c). */
bool modprobe_line_blocks_hv (const char *line);
/* The modprobe.d text with each such line commented out ("# disabled
 * by azprep (Azure needs it): LINE"), everything else byte for byte;
 * *nblocked lines.  NULL when there is none (*nblocked 0) or on out of
 * memory (reported). */
char *modprobe_unblock_hv (const char *text, size_t *nblocked);

/* A udev rule that names a NIC by its MAC address (ATTR{address}==...
 * with NAME=), and the rules text with each such rule commented out,
 * everything else byte for byte; NULL when there is none (*nbound 0)
 * or on out of memory (reported) (udev.c). */
bool udev_line_binds_mac (const char *line);
char *udev_unbind_mac (const char *text, size_t *nbound);

/* Linux inspection, the "linux" os_ops (os.c): inspect_linux_json
 * adds the Linux sections to the inspection JSON (inspect.c). */
int inspect_linux_json (struct guest *gs, cJSON *o);

/* String list helpers. */
int strv_add (char ***list, const char *s);
bool strv_has (char *const *list, const char *s);
/* The words of list with one space between them (module lists, argv). */
char *strv_join (char *const *list);

#endif
