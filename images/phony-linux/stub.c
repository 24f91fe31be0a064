/* A stand-in for the guest tools azprep runs inside phony test guests
 * (as virt-v2v's test-data/phony-guests use one static binary for
 * rpm and dracut).  Linked statically, installed under each tool's
 * name: dracut, update-initramfs, mkinitrd, grub2-mkconfig,
 * grub-mkconfig, update-grub, grubby.
 *
 * Every call appends "NAME 'arg' 'arg'..." to /var/log/azprep-stub.log
 * so tests can check the arguments.  The initramfs tools write a real
 * (uncompressed) cpio "newc" archive holding the module files they
 * were asked for (arguments plus the persistent configuration), found
 * under /lib/modules/VERSION, plus the embedded configuration real
 * tools copy (etc/modprobe.d, LVM's devices file).  The GRUB tools
 * write a grub.cfg from /etc/default/grub, or edit BLS entries.
 * If /etc/azprep-stub-fail names the tool, it fails. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXW 256

static const char *prog;

static void
die (const char *fmt, ...)
{
  va_list ap;
  fprintf (stderr, "%s (azprep stub): ", prog);
  va_start (ap, fmt);
  vfprintf (stderr, fmt, ap);
  va_end (ap);
  fputc ('\n', stderr);
  exit (1);
}

static char *
slurp (const char *path)
{
  FILE *fp = fopen (path, "r");
  char *buf;
  long n;
  if (!fp)
    return NULL;
  fseek (fp, 0, SEEK_END);
  n = ftell (fp);
  rewind (fp);
  buf = calloc (1, n + 1);
  if (buf && fread (buf, 1, n, fp) != (size_t) n)
    n = 0;
  fclose (fp);
  return buf;
}

/* Word lists. */
struct words { char *w[MAXW]; int n; };

static int
words_find (struct words *ws, const char *w)
{
  for (int i = 0; i < ws->n; i++)
    if (!strcmp (ws->w[i], w))
      return i;
  return -1;
}

static void
words_add (struct words *ws, const char *w)
{
  if (*w && words_find (ws, w) == -1 && ws->n < MAXW)
    ws->w[ws->n++] = strdup (w);
}

static void
words_split (struct words *ws, const char *s)
{
  char *c = strdup (s), *save = NULL;
  for (char *t = strtok_r (c, " \t\n", &save); t;
       t = strtok_r (NULL, " \t\n", &save))
    words_add (ws, t);
  free (c);
}

/* KEY="value" from a shell-variable file (last one wins), or NULL. */
static char *
shell_var (const char *text, const char *key)
{
  char *r = NULL;
  size_t kl = strlen (key);
  for (const char *l = text; l && *l; ) {
    const char *end = strchr (l, '\n');
    if (!end)
      end = l + strlen (l);
    if (!strncmp (l, key, kl) && l[kl] == '=') {
      const char *v = l + kl + 1;
      size_t n = end - v;
      if (n >= 2 && (*v == '"' || *v == '\'')) {
        v++;
        n -= 2;
      }
      free (r);
      r = strndup (v, n);
    }
    l = *end ? end + 1 : end;
  }
  return r;
}

static void
log_call (int argc, char **argv)
{
  FILE *fp = fopen ("/var/log/azprep-stub.log", "a");
  if (!fp)
    return;
  fputs (prog, fp);
  for (int i = 1; i < argc; i++)
    fprintf (fp, " '%s'", argv[i]);
  fputc ('\n', fp);
  fclose (fp);
}

static void
maybe_fail (void)
{
  char *f = slurp ("/etc/azprep-stub-fail");
  if (f && strstr (f, prog))
    die ("failing as /etc/azprep-stub-fail asks");
  free (f);
}

/* cpio newc writer. */
static FILE *out;
static unsigned long ino = 1;

static void
cpio_entry (const char *name, unsigned mode, const char *data, size_t len)
{
  size_t nl = strlen (name) + 1;
  static const char zero[4];
  fprintf (out, "070701%08lX%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X"
           "%08zX%08X", ino++, mode, 0, 0, 1, 0, len, 0, 0, 0, 0, nl, 0);
  fwrite (name, 1, nl, out);
  fwrite (zero, 1, (4 - (110 + nl) % 4) % 4, out);
  if (len) {
    fwrite (data, 1, len, out);
    fwrite (zero, 1, (4 - len % 4) % 4, out);
  }
}

static void
cpio_file (const char *name, const char *host_path)
{
  char *data = slurp (host_path);
  cpio_entry (name, 0100644, data ? data : "", data ? strlen (data) : 0);
  free (data);
}

/* Find DIR/..../MOD.ko* (module names use _ for -). */
static int
find_module (const char *dir, const char *mod, char *res, size_t rsz)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  int found = 0;
  if (!d)
    return 0;
  while (!found && (e = readdir (d))) {
    char p[4096], base[256];
    struct stat st;
    if (e->d_name[0] == '.')
      continue;
    snprintf (p, sizeof p, "%s/%s", dir, e->d_name);
    if (lstat (p, &st) == -1)
      continue;
    if (S_ISDIR (st.st_mode))
      found = find_module (p, mod, res, rsz);
    else {
      char *ko;
      snprintf (base, sizeof base, "%s", e->d_name);
      ko = strstr (base, ".ko");
      if (!ko)
        continue;
      *ko = '\0';
      for (char *c = base; *c; c++)
        if (*c == '-')
          *c = '_';
      if (!strcmp (base, mod)) {
        snprintf (res, rsz, "%s", p);
        found = 1;
      }
    }
  }
  closedir (d);
  return found;
}

static void
write_initrd (const char *image, const char *kver, struct words *mods)
{
  char dir[512], tmp[600];
  DIR *d;
  struct dirent *e;

  snprintf (dir, sizeof dir, "/lib/modules/%s", kver);
  if (access (dir, F_OK) == -1)
    die ("%s: no such kernel modules directory", dir);
  snprintf (tmp, sizeof tmp, "%s.stub-tmp", image);
  out = fopen (tmp, "w");
  if (!out)
    die ("%s: %s", tmp, strerror (errno));
  cpio_entry ("init", 0100755, "#!/bin/sh\n", 10);
  for (int i = 0; i < mods->n; i++) {
    char path[4096];
    if (find_module (dir, mods->w[i], path, sizeof path))
      cpio_file (path + 1, path);       /* without the leading / */
    else
      fprintf (stderr, "%s: module %s not found for %s\n", prog,
               mods->w[i], kver);
  }
  /* What real tools embed. */
  if ((d = opendir ("/etc/modprobe.d"))) {
    while ((e = readdir (d))) {
      char p[600], n[600];
      size_t l = strlen (e->d_name);
      if (l < 5 || strcmp (e->d_name + l - 5, ".conf"))
        continue;
      snprintf (p, sizeof p, "/etc/modprobe.d/%s", e->d_name);
      snprintf (n, sizeof n, "etc/modprobe.d/%s", e->d_name);
      cpio_file (n, p);
    }
    closedir (d);
  }
  if (access ("/etc/lvm/devices/system.devices", F_OK) == 0)
    cpio_file ("etc/lvm/devices/system.devices",
               "/etc/lvm/devices/system.devices");
  cpio_entry ("TRAILER!!!", 0, NULL, 0);
  if (fclose (out) != 0)
    die ("%s: %s", tmp, strerror (errno));
  if (rename (tmp, image) == -1)
    die ("%s: %s", image, strerror (errno));
}

static void
conf_drivers (struct words *mods, const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *e;
  if (!d)
    return;
  while ((e = readdir (d))) {
    char p[600], *text, *s;
    size_t l = strlen (e->d_name);
    if (l < 5 || strcmp (e->d_name + l - 5, ".conf"))
      continue;
    snprintf (p, sizeof p, "%s/%s", dir, e->d_name);
    text = slurp (p);
    for (s = text; s && (s = strstr (s, "add_drivers+=")); s++) {
      char *q = strchr (s, '"'), *q2 = q ? strchr (q + 1, '"') : NULL;
      if (q && q2) {
        char *v = strndup (q + 1, q2 - q - 1);
        words_split (mods, v);
        free (v);
      }
    }
    free (text);
  }
  closedir (d);
}

static int
dracut (int argc, char **argv)
{
  struct words mods = { .n = 0 };
  const char *pos[2] = { NULL, NULL }, *kver = NULL;
  int np = 0;

  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--add-drivers") && i + 1 < argc)
      words_split (&mods, argv[++i]);
    else if (!strncmp (argv[i], "--add-drivers=", 14))
      words_split (&mods, argv[i] + 14);
    else if (!strcmp (argv[i], "--kver") && i + 1 < argc)
      kver = argv[++i];
    else if (argv[i][0] == '-')
      continue;
    else if (np < 2)
      pos[np++] = argv[i];
  }
  conf_drivers (&mods, "/etc/dracut.conf.d");
  if (!kver)
    kver = pos[1];
  if (!pos[0] || !kver)
    die ("usage: dracut [-f] [--add-drivers LIST] IMAGE KVER");
  write_initrd (pos[0], kver, &mods);
  return 0;
}

static int
update_initramfs (int argc, char **argv)
{
  struct words mods = { .n = 0 };
  const char *kver = NULL;
  char *text = slurp ("/etc/initramfs-tools/modules"), image[512];

  for (int i = 1; i < argc; i++)
    if (!strcmp (argv[i], "-k") && i + 1 < argc)
      kver = argv[++i];
  if (!kver || !strcmp (kver, "all"))
    die ("this stub needs -k VERSION");
  for (char *save = NULL, *l = text ? strtok_r (text, "\n", &save) : NULL;
       l; l = strtok_r (NULL, "\n", &save)) {
    l += strspn (l, " \t");
    if (*l == '#' || !*l)
      continue;
    l[strcspn (l, " \t")] = '\0';
    words_add (&mods, l);
  }
  snprintf (image, sizeof image, "/boot/initrd.img-%s", kver);
  write_initrd (image, kver, &mods);
  return 0;
}

static int
mkinitrd (int argc, char **argv)
{
  struct words mods = { .n = 0 };
  const char *kernel = NULL, *image = NULL, *kver;
  char *cfg = slurp ("/etc/sysconfig/kernel"), *im;

  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp (argv[i], "-k"))
      kernel = argv[++i];
    else if (!strcmp (argv[i], "-i"))
      image = argv[++i];
    else if (!strcmp (argv[i], "-m"))
      words_split (&mods, argv[++i]);
  }
  im = cfg ? shell_var (cfg, "INITRD_MODULES") : NULL;
  if (im)
    words_split (&mods, im);
  if (!kernel || !image || !(kver = strstr (kernel, "vmlinuz-")))
    die ("usage: mkinitrd -k /boot/vmlinuz-VER -i IMAGE [-m MODS]");
  write_initrd (image, kver + 8, &mods);
  return 0;
}

static int
grub_mkconfig (int argc, char **argv, const char *def_out)
{
  const char *o = def_out;
  char *cfg = slurp ("/etc/default/grub");
  char *cl, *cld, *term, *serial;
  char tmp[600];
  FILE *fp;
  DIR *d;
  struct dirent *e;

  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp (argv[i], "-o"))
      o = argv[++i];
  if (!o || !cfg)
    die ("usage: grub-mkconfig -o FILE (and /etc/default/grub)");
  cl = shell_var (cfg, "GRUB_CMDLINE_LINUX");
  cld = shell_var (cfg, "GRUB_CMDLINE_LINUX_DEFAULT");
  term = shell_var (cfg, "GRUB_TERMINAL");
  serial = shell_var (cfg, "GRUB_SERIAL_COMMAND");
  snprintf (tmp, sizeof tmp, "%s.stub-tmp", o);
  fp = fopen (tmp, "w");
  if (!fp)
    die ("%s: %s", tmp, strerror (errno));
  fprintf (fp, "# generated by the azprep stub %s\n", prog);
  if (serial)
    fprintf (fp, "%s\n", serial);
  if (term)
    fprintf (fp, "terminal_input %s\nterminal_output %s\n", term, term);
  if (access ("/boot/loader/entries", F_OK) == 0)
    fprintf (fp, "blscfg\n");
  else if ((d = opendir ("/boot"))) {
    while ((e = readdir (d))) {
      const char *v;
      if (strncmp (e->d_name, "vmlinuz-", 8) || strchr (e->d_name, '~') ||
          strstr (e->d_name, ".azprep"))
        continue;
      v = e->d_name + 8;
      fprintf (fp, "menuentry 'Linux %s' {\n"
               "\tlinux /boot/vmlinuz-%s root=UUID=stub ro %s %s\n"
               "}\n", v, v, cl ? cl : "", cld ? cld : "");
    }
    closedir (d);
  }
  if (fclose (fp) != 0 || rename (tmp, o) == -1)
    die ("%s: %s", o, strerror (errno));
  return 0;
}

/* grubby --update-kernel=ALL --args=A --remove-args=R */
static void
edit_options (const char *path, const char *key, struct words *add,
              struct words *rm)
{
  char *text = slurp (path), *o, tmp[700];
  struct words opts = { .n = 0 };
  FILE *fp;
  size_t off, end;

  if (!text)
    die ("%s: %s", path, strerror (errno));
  o = strstr (text, key);
  if (!o)
    die ("%s: no %s line", path, key + 1);
  off = o + strlen (key) - text;
  if (!strncmp (text + off, "$kernelopts\n", 12))
    return;                     /* edited in grubenv */
  end = off + strcspn (text + off, "\n");
  {
    char *cur = strndup (text + off, end - off);
    words_split (&opts, cur);
    free (cur);
  }
  for (int i = 0; i < rm->n; i++) {
    int k = words_find (&opts, rm->w[i]);
    if (k >= 0)
      opts.w[k] = "";
  }
  for (int i = 0; i < add->n; i++) {
    const char *eq = strchr (add->w[i], '=');
    if (eq && strncmp (add->w[i], "console=", 8))
      for (int k = 0; k < opts.n; k++)
        if (!strncmp (opts.w[k], add->w[i], eq - add->w[i] + 1))
          opts.w[k] = "";
    if (words_find (&opts, add->w[i]) == -1 && opts.n < MAXW)
      opts.w[opts.n++] = add->w[i];
  }
  snprintf (tmp, sizeof tmp, "%s.stub-tmp", path);
  fp = fopen (tmp, "w");
  if (!fp)
    die ("%s: %s", tmp, strerror (errno));
  fprintf (fp, "%.*s", (int) off, text);
  for (int k = 0, first = 1; k < opts.n; k++)
    if (*opts.w[k]) {
      fprintf (fp, "%s%s", first ? "" : " ", opts.w[k]);
      first = 0;
    }
  fputs (text + end, fp);
  if (fclose (fp) != 0 || rename (tmp, path) == -1)
    die ("%s: %s", path, strerror (errno));
}

static int
grubby (int argc, char **argv)
{
  struct words add = { .n = 0 }, rm = { .n = 0 };
  int all = 0;
  DIR *d;
  struct dirent *e;

  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--update-kernel=ALL"))
      all = 1;
    else if (!strncmp (argv[i], "--args=", 7))
      words_split (&add, argv[i] + 7);
    else if (!strncmp (argv[i], "--remove-args=", 14))
      words_split (&rm, argv[i] + 14);
  }
  if (!all)
    die ("this stub only does --update-kernel=ALL");
  d = opendir ("/boot/loader/entries");
  if (!d)
    die ("/boot/loader/entries: %s", strerror (errno));
  while ((e = readdir (d))) {
    char p[600];
    size_t l = strlen (e->d_name);
    if (l < 5 || strcmp (e->d_name + l - 5, ".conf"))
      continue;
    snprintf (p, sizeof p, "/boot/loader/entries/%s", e->d_name);
    edit_options (p, "\noptions ", &add, &rm);
  }
  closedir (d);
  if (access ("/boot/grub2/grubenv", F_OK) == 0)
    edit_options ("/boot/grub2/grubenv", "\nkernelopts=", &add, &rm);
  return 0;
}

int
main (int argc, char **argv)
{
  prog = strrchr (argv[0], '/') ? strrchr (argv[0], '/') + 1 : argv[0];
  log_call (argc, argv);
  maybe_fail ();
  if (!strcmp (prog, "dracut"))
    return dracut (argc, argv);
  if (!strcmp (prog, "update-initramfs"))
    return update_initramfs (argc, argv);
  if (!strcmp (prog, "mkinitrd"))
    return mkinitrd (argc, argv);
  if (!strcmp (prog, "grub2-mkconfig") || !strcmp (prog, "grub-mkconfig"))
    return grub_mkconfig (argc, argv, NULL);
  if (!strcmp (prog, "update-grub"))
    return grub_mkconfig (argc, argv, "/boot/grub/grub.cfg");
  if (!strcmp (prog, "grubby"))
    return grubby (argc, argv);
  /* Installed as ls etc. only for libguestfs's architecture detection. */
  return 0;
}
