/* azprep replicate --vms FLEET: see replicate/cmd/fleet.h.  The fleet
 * file is the one check --vms reads (prep/check/fleet.c); an entry
 * given by a .vmx or an OVF is replicated from the descriptor's disks
 * (an OVA's members through the read-only NBD servers it starts).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/check/vm.h"
#include "replicate/cmd/fleet.h"

#define LINE_MAX_BYTES 65536

int
replicate_fleet_one (const char *path, int64_t index,
                     const struct replicate_opts *o)
{
  struct fleet_vm *vms = NULL;
  struct vm_desc *desc = NULL;
  struct replicate_opts r = *o;
  char **disks = NULL, **formats = NULL;
  size_t n = 0, nd = 0;
  int ret = EXIT_ERROR;

  if (fleet_read (path, &vms, &n) == -1)
    return EXIT_ERROR;
  if (index >= (int64_t) n) {
    azp_error ("--vm-index %" PRId64 ": the fleet %s has %zu VMs (0 to %zu)",
               index, path, n, n - 1);
    ret = EXIT_USAGE;
    goto out;
  }
  if (vms[index].ovf || vms[index].vmx) {
    desc = vms[index].ovf ? desc_read_ovf_vm (vms[index].ovf,
                                              vms[index].ovf_vm)
      : desc_read_vmx (vms[index].vmx);
    if (!desc)
      goto out;
    nd = desc->ndisks;
  }
  else
    nd = count_strings (vms[index].disks);
  disks = calloc (nd + 1, sizeof *disks);
  formats = calloc (nd + 1, sizeof *formats);
  if (!disks || !formats || nd == 0) {
    azp_error (nd ? "out of memory" : "VM %s: no disks", vms[index].name);
    goto out;
  }
  for (size_t i = 0; i < nd; i++) {
    formats[i] = vms[index].format;
    if (!desc)
      disks[i] = xstrdup (vms[index].disks[i]);
    else if (desc->nbd_server && desc->nbd_server[i]) {
      /* An OVA member, decoded: raw through its NBD server. */
      disks[i] = xasprintf ("nbd+unix:///?socket=%s",
                            desc->nbd_server[i] + strlen ("unix:"));
      formats[i] = NULL;
    }
    else if (desc->disk_error && desc->disk_error[i]) {
      azp_error ("VM %s: disk %zu: %s", vms[index].name, i,
                 desc->disk_error[i]);
      goto out;
    }
    else
      disks[i] = xstrdup (desc->disks[i]);
    if (!disks[i])
      goto out;
  }
  if (!replicate_valid_name (vms[index].name)) {
    azp_error ("VM %s: not a valid job name (letters, digits, '-', '_', "
               "'.'; the blobs are named after it)", vms[index].name);
    ret = EXIT_USAGE;
    goto out;
  }
  r.name = vms[index].name;
  r.disks = disks;
  r.formats = formats;
  r.ndisks = nd;
  ret = replicate_exit (replicate_job_run (&r));
 out:
  if (disks)
    free_string_list (disks);
  free (formats);
  desc_free (desc);
  fleet_free (vms, n);
  return ret;
}

/* A child and the partial last line of each of its two outputs. */
struct kid {
  pid_t pid;
  size_t vm;
  int fd[2];                    /* stdout, stderr; -1 at EOF */
  char *buf[2];
  size_t len[2];
};

static struct kid *kids;
static int nkids;
static volatile sig_atomic_t stop_signal;

static void
on_signal (int sig)
{
  if (stop_signal)
    return;
  stop_signal = sig;
  /* Once: a second signal would make the children stop at once. */
  for (int i = 0; i < nkids; i++)
    if (kids[i].pid > 0)
      kill (kids[i].pid, sig);
}

static pid_t
spawn (struct kid *k, size_t vm, int argc, char **argv, int out[2],
       int err[2])
{
  char index[32];
  char **cargv = calloc (argc + 4, sizeof *cargv);
  char **env = secrets_child_env ();
  pid_t pid = -1;

  if (!cargv || !env) {
    azp_error ("out of memory");
    goto out;
  }
  snprintf (index, sizeof index, "%zu", vm);
  cargv[0] = (char *) "azprep";
  cargv[1] = (char *) "replicate";
  cargv[2] = (char *) "--vm-index";
  cargv[3] = index;
  for (int i = 1; i < argc; i++)
    cargv[i + 3] = argv[i];
  fflush (NULL);
  pid = fork ();
  if (pid == -1)
    azp_error ("fork: %m");
  else if (pid == 0) {
    /* Its own process group: a terminal's ^C reaches the parent only,
     * which passes it on once. */
    setpgid (0, 0);
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    dup2 (out[1], STDOUT_FILENO);
    dup2 (err[1], STDERR_FILENO);
    execve ("/proc/self/exe", cargv, env);
    fprintf (stderr, "azprep: /proc/self/exe: %m\n");
    _exit (EXIT_ERROR);
  }
 out:
  free (cargv);
  secrets_child_env_free (env);
  k->pid = pid;
  k->vm = vm;
  return pid;
}

/* Print the complete lines of output s (0 stdout, 1 stderr) of VM
 * name, all of it at EOF. */
static void
emit (struct kid *k, int s, const char *name, bool json, bool eof)
{
  char *p = k->buf[s], *end = p + k->len[s], *nl;
  FILE *fp = s ? stderr : stdout;

  while (p < end) {
    nl = memchr (p, '\n', end - p);
    if (!nl && !eof && end - p < LINE_MAX_BYTES)
      break;
    if (!nl)
      nl = end;
    if (s == 0 && json && *p == '{') {
      cJSON *q = cJSON_CreateString (name);
      char *qs = cJSON_PrintUnformatted (q);
      bool empty = nl - p >= 2 && p[1] == '}';
      fprintf (fp, "{\"vm\":%s%s%.*s\n", qs ? qs : "\"?\"",
               empty ? "" : ",", (int) (nl - p - 1), p + 1);
      free (qs);
      cJSON_Delete (q);
    }
    else {
      fputs ("[", fp);
      fputs_clean (name, fp, false);
      fputs ("] ", fp);
      fprintf (fp, "%.*s\n", (int) (nl - p), p);
    }
    p = nl < end ? nl + 1 : end;
  }
  memmove (k->buf[s], p, end - p);
  k->len[s] = end - p;
  fflush (fp);
}

/* Read what is there from the running children; -1 on a poll error. */
static int
pump (const struct fleet_vm *vms, bool json)
{
  struct pollfd pfd[2 * 256];
  int np = 0;

  for (int i = 0; i < nkids; i++)
    for (int s = 0; s < 2; s++)
      if (kids[i].fd[s] >= 0) {
        pfd[np].fd = kids[i].fd[s];
        pfd[np++].events = POLLIN;
      }
  if (np == 0)
    return 0;
  if (poll (pfd, np, -1) == -1)
    return errno == EINTR ? 0 : -1;
  for (int i = 0; i < nkids; i++)
    for (int s = 0; s < 2; s++) {
      struct kid *k = &kids[i];
      ssize_t r;
      bool ready = false;
      for (int q = 0; q < np; q++)
        ready |= pfd[q].fd == k->fd[s] && pfd[q].revents;
      if (!ready)
        continue;
      r = read (k->fd[s], k->buf[s] + k->len[s],
                LINE_MAX_BYTES - k->len[s]);
      if (r == -1 && errno == EINTR)
        continue;
      if (r > 0)
        k->len[s] += r;
      emit (k, s, vms[k->vm].name, json, r <= 0);
      if (r <= 0) {
        close (k->fd[s]);
        k->fd[s] = -1;
      }
    }
  return 0;
}

/* Start a child for VM vm in kids[nkids]; -1 (reported) if not. */
static int
start (size_t vm, int argc, char **argv)
{
  struct kid *k = &kids[nkids];
  int out[2], err[2];

  if (pipe2 (out, O_CLOEXEC) == -1) {
    azp_error ("pipe: %m");
    return -1;
  }
  if (pipe2 (err, O_CLOEXEC) == -1) {
    azp_error ("pipe: %m");
    close (out[0]);
    close (out[1]);
    return -1;
  }
  k->len[0] = k->len[1] = 0;
  k->fd[0] = out[0];
  k->fd[1] = err[0];
  if (spawn (k, vm, argc, argv, out, err) == -1) {
    close (out[0]);
    close (err[0]);
    k->fd[0] = k->fd[1] = -1;
  }
  close (out[1]);
  close (err[1]);
  if (k->pid == -1)
    return -1;
  nkids++;
  return 0;
}

/* Worse exit codes rank higher: usage, lease lost, error, held by
 * another worker, refused, done. */
static int
worse (int a, int b)
{
  static const int rank[] = { 0, 3, 5, 1, 0, 4, 2 };
  int ra = a >= 0 && a <= 6 ? rank[a] : 3, rb = b >= 0 && b <= 6 ? rank[b] : 3;
  return rb > ra ? b : a;
}

/* Wait for the children whose outputs are both closed; the worst exit
 * code so far in *worst. */
static void
reap (const struct fleet_vm *vms, int *worst)
{
  for (int i = 0; i < nkids; i++) {
    struct kid *k = &kids[i];
    int status, code;
    if (k->fd[0] >= 0 || k->fd[1] >= 0)
      continue;
    while (waitpid (k->pid, &status, 0) == -1 && errno == EINTR)
      ;
    code = WIFEXITED (status) ? WEXITSTATUS (status) : EXIT_ERROR;
    if (WIFSIGNALED (status))
      azp_error ("VM %s: killed by signal %d", vms[k->vm].name,
                 WTERMSIG (status));
    else
      azp_info ("VM %s: exit %d", vms[k->vm].name, code);
    *worst = worse (*worst, code);
    k->pid = 0;
    free (k->buf[0]);
    free (k->buf[1]);
    kids[i--] = kids[--nkids];
  }
}

int
replicate_fleet_all (const char *path, int jobs, bool json, int argc,
                     char **argv)
{
  struct fleet_vm *vms = NULL;
  struct sigaction sa = { .sa_handler = on_signal }, old[2];
  size_t n = 0, next = 0;
  int worst = EXIT_OK;

  if (fleet_read (path, &vms, &n) == -1)
    return EXIT_ERROR;
  if (jobs > 256)
    jobs = 256;
  kids = calloc (jobs, sizeof *kids);
  if (!kids) {
    azp_error ("out of memory");
    fleet_free (vms, n);
    return EXIT_ERROR;
  }
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, &old[0]);
  sigaction (SIGTERM, &sa, &old[1]);
  azp_debug ("fleet: %zu VMs, %d at a time", n, jobs);
  while (next < n || nkids > 0) {
    while (!stop_signal && next < n && nkids < jobs) {
      kids[nkids].buf[0] = malloc (LINE_MAX_BYTES);
      kids[nkids].buf[1] = malloc (LINE_MAX_BYTES);
      if (!kids[nkids].buf[0] || !kids[nkids].buf[1] ||
          start (next, argc, argv) == -1) {
        free (kids[nkids].buf[0]);
        free (kids[nkids].buf[1]);
        azp_error ("VM %s: not started", vms[next].name);
        worst = worse (worst, EXIT_ERROR);
      }
      next++;
    }
    if (stop_signal && nkids == 0)
      break;
    if (pump (vms, json) == -1) {
      azp_error ("poll: %m");
      worst = EXIT_ERROR;
      break;
    }
    reap (vms, &worst);
  }
  if (next < n)
    azp_info ("stopped by %s: %zu VMs not started", strsignal (stop_signal),
              n - next);
  sigaction (SIGINT, &old[0], NULL);
  sigaction (SIGTERM, &old[1], NULL);
  free (kids);
  kids = NULL;
  fleet_free (vms, n);
  return worst;
}
