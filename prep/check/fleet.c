/* Fleets: a list of VMs, each checked by a child "azprep check --json"
 * in its own appliance, at most --jobs at a time.  A child that fails
 * in any way (crash, garbage output) becomes that VM's "error" result;
 * the others go on.
 *
 * The --vms file (documented in check.pod; "azprep discover" writes
 * the JSON form):
 *   [ { "name": "web1", "disks": ["web1.vmdk", "web1_1.vmdk"],
 *       "format": "vmdk" }, ... ]
 * or one VM per line: NAME DISK [DISK...], "#" comments.  Instead of
 * "disks", an entry may give "ovf" or "vmx"; "size" sets its target
 * Azure size.  Relative paths are relative to the file's directory.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/check/vm.h"
#include "prep/check/desc/desc.h"

#define FLEET_MAX_FILE (16 * 1024 * 1024)
#define FLEET_MAX_VMS 100000
#define CHILD_MAX_OUTPUT (64 * 1024 * 1024)

void
fleet_free (struct fleet_vm *vms, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free (vms[i].name);
    free_string_list (vms[i].disks);
    free (vms[i].format);
    free (vms[i].ovf);
    free (vms[i].ovf_vm);
    free (vms[i].vmx);
    free (vms[i].size);
  }
  free (vms);
}

/* A path relative to the fleet file's directory; URIs
 * (vsphere://...) as they are. */
static char *
resolve (const char *dir, const char *p)
{
  return p[0] == '/' || strstr (p, "://") ? xstrdup (p)
    : xasprintf ("%s/%s", dir, p);
}

static bool
good_name (const char *s)
{
  size_t n = strlen (s);
  if (n == 0 || n > 256)
    return false;
  for (; *s; s++)
    if (iscntrl ((unsigned char) *s))
      return false;
  return true;
}

static int
add_disk (char ***list, char *path)
{
  size_t n = count_strings (*list);
  char **nl = realloc (*list, (n + 2) * sizeof *nl);
  if (!nl || !path) {
    free (path);
    azp_error ("out of memory");
    return -1;
  }
  nl[n] = path;
  nl[n + 1] = NULL;
  *list = nl;
  return 0;
}

static int
read_json (const char *path, const char *dir, const char *text,
           struct fleet_vm *vms, size_t *n)
{
  cJSON *j = cJSON_Parse (text);
  const cJSON *e;
  int ret = -1;

  if (!cJSON_IsArray (j)) {
    azp_error ("%s: not a JSON list of VMs%s", path,
               j ? "" : " (JSON syntax error)");
    goto out;
  }
  cJSON_ArrayForEach (e, j) {
    struct fleet_vm *v = &vms[*n];
    const cJSON *disks = cJSON_GetObjectItem (e, "disks");
    const char *name = json_str (e, "name");
    size_t i = *n;

    if (!cJSON_IsObject (e) || !name || !good_name (name)) {
      azp_error ("%s: VM %zu: needs a \"name\" (1-256 characters)", path,
                 i + 1);
      goto out;
    }
    (*n)++;
    v->name = xstrdup (name);
    if (json_str (e, "format"))
      v->format = xstrdup (json_str (e, "format"));
    if (json_str (e, "size"))
      v->size = xstrdup (json_str (e, "size"));
    if (json_str (e, "ovf")) {
      v->ovf = resolve (dir, json_str (e, "ovf"));
      if (json_str (e, "ovf_vm"))
        v->ovf_vm = xstrdup (json_str (e, "ovf_vm"));
    }
    else if (json_str (e, "vmx"))
      v->vmx = resolve (dir, json_str (e, "vmx"));
    else {
      const cJSON *d;
      if (!cJSON_IsArray (disks) || cJSON_GetArraySize (disks) == 0) {
        azp_error ("%s: VM %s: needs \"disks\" (a list of paths), \"ovf\" or "
                   "\"vmx\"", path, name);
        goto out;
      }
      cJSON_ArrayForEach (d, disks) {
        if (!cJSON_IsString (d) || !*d->valuestring) {
          azp_error ("%s: VM %s: every disk is a path (a string)", path, name);
          goto out;
        }
        if (add_disk (&v->disks, resolve (dir, d->valuestring)) == -1)
          goto out;
      }
    }
  }
  ret = 0;
 out:
  cJSON_Delete (j);
  return ret;
}

static int
read_lines (const char *path, const char *dir, char *text,
            struct fleet_vm *vms, size_t *n)
{
  char *save = NULL, *line;
  size_t lineno = 0;

  for (line = strtok_r (text, "\n", &save); line;
       line = strtok_r (NULL, "\n", &save)) {
    char *fsave = NULL, *tok;
    struct fleet_vm *v;

    lineno++;
    tok = strtok_r (line, " \t\r", &fsave);
    if (!tok || tok[0] == '#')
      continue;
    v = &vms[(*n)++];
    if (!good_name (tok)) {
      azp_error ("%s: line %zu: bad VM name", path, lineno);
      return -1;
    }
    v->name = xstrdup (tok);
    while ((tok = strtok_r (NULL, " \t\r", &fsave)))
      if (add_disk (&v->disks, resolve (dir, tok)) == -1)
        return -1;
    if (!v->disks) {
      azp_error ("%s: line %zu: VM %s has no disks (NAME DISK...)", path,
                 lineno, v->name);
      return -1;
    }
  }
  return 0;
}

char *
fleet_read_text (const char *path, size_t max, size_t *len)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "r");
  char *text;

  if (!fp) {
    azp_error ("%s: %m", path);
    return NULL;
  }
  text = malloc (max + 1);
  if (!text) {
    azp_error ("out of memory");
    return NULL;
  }
  *len = fread (text, 1, max + 1, fp);
  if (*len > max) {
    azp_error ("%s: larger than %zu bytes", path, max);
    free (text);
    return NULL;
  }
  text[*len] = '\0';
  return text;
}

int
fleet_read (const char *path, struct fleet_vm **vms_r, size_t *n_r)
{
  size_t len, max;
  CLEANUP_FREE char *text = NULL, *dir = NULL;
  struct fleet_vm *vms;
  size_t n = 0;
  const char *p;
  int r;

  text = fleet_read_text (path, FLEET_MAX_FILE, &len);
  if (!text)
    return -1;
  if (strlen (text) != len) {
    azp_error ("%s: not a text file", path);
    return -1;
  }
  /* At most one VM per line, or per '{'. */
  max = 1;
  for (p = text; *p; p++)
    max += *p == '\n' || *p == '{';
  if (max > FLEET_MAX_VMS) {
    azp_error ("%s: more than %d VMs", path, FLEET_MAX_VMS);
    return -1;
  }
  vms = calloc (max, sizeof *vms);
  dir = desc_dirname (path);
  if (!vms || !dir) {
    free (vms);
    azp_error ("out of memory");
    return -1;
  }
  for (p = text; isspace ((unsigned char) *p); p++)
    ;
  r = *p == '[' ? read_json (path, dir, text, vms, &n)
    : read_lines (path, dir, text, vms, &n);
  for (size_t i = 0; r == 0 && i < n; i++)
    for (size_t k = 0; k < i; k++)
      if (!strcmp (vms[i].name, vms[k].name)) {
        azp_error ("%s: VM name %s given twice", path, vms[i].name);
        r = -1;
        break;
      }
  if (r == 0 && n == 0) {
    azp_error ("%s: no VMs", path);
    r = -1;
  }
  if (r == -1) {
    fleet_free (vms, n);
    return -1;
  }
  *vms_r = vms;
  *n_r = n;
  return 0;
}

int
fleet_ovf_vms (const char *ovf, const char *format, struct fleet_vm **vms_r,
               size_t *n_r)
{
  CLEANUP_FREE_STRING_LIST char **ids = NULL, **names = NULL;
  int n = desc_ovf_vms (ovf, &ids, &names);
  struct fleet_vm *vms;

  if (n < 1)
    return -1;
  vms = calloc (n, sizeof *vms);
  if (!vms) {
    azp_error ("out of memory");
    return -1;
  }
  for (int i = 0; i < n; i++) {
    bool twice = false;
    for (int k = 0; k < n; k++)
      twice |= k != i && !strcmp (names[i], names[k]);
    /* Names in a vApp need not differ; ids do. */
    vms[i].name = twice ? xasprintf ("%s (%s)", names[i], ids[i])
      : xstrdup (names[i]);
    vms[i].ovf = xstrdup (ovf);
    vms[i].ovf_vm = xstrdup (ids[i]);
    vms[i].format = format ? xstrdup (format) : NULL;
    if (!vms[i].name || !vms[i].ovf || !vms[i].ovf_vm) {
      fleet_free (vms, n);
      return -1;
    }
  }
  *vms_r = vms;
  *n_r = n;
  return 0;
}

int
fleet_default_jobs (void)
{
  long cores = sysconf (_SC_NPROCESSORS_ONLN);
  long long avail_kib = 0;
  char line[256];
  FILE *fp = fopen ("/proc/meminfo", "r");
  long jobs;

  while (fp && fgets (line, sizeof line, fp))
    if (sscanf (line, "MemAvailable: %lld kB", &avail_kib) == 1)
      break;
  if (fp)
    fclose (fp);
  /* One appliance per core: each has one vCPU (guest.c), and under
   * TCG it keeps its core busy.  Each takes about 1 GiB (its memsize,
   * 1024 MiB, is what the guest kernel may touch; qemu adds little),
   * and 1 GiB stays spare for the host. */
  jobs = cores > 0 ? cores : 1;
  if (avail_kib > 0 && avail_kib / (1024 * 1024) - 1 < jobs)
    jobs = avail_kib / (1024 * 1024) - 1;
  jobs = jobs < 1 ? 1 : jobs > 64 ? 64 : jobs;
  azp_debug ("--jobs %ld: %ld cores, %lld MiB of memory available",
             jobs, cores, avail_kib / 1024);
  return (int) jobs;
}

struct child {
  pid_t pid;
  size_t vm;
  FILE *out, *err;
};

static FILE *
scratch (void)
{
  FILE *fp = tmpfile ();
  if (!fp)
    azp_error ("cannot create a temporary file: %m");
  return fp;
}

static pid_t
spawn (const struct fleet_vm *v, const struct check_opts *o,
       const char *self, FILE *out, FILE *err)
{
  const char *argv[32 + 2 * 256];
  size_t k = 0, nd = count_strings (v->disks);
  char **env;
  pid_t pid;

  if (nd > 256) {
    azp_error ("VM %s: more than 256 disks", v->name);
    return -1;
  }
  argv[k++] = "azprep";
  argv[k++] = "check";
  argv[k++] = "--json";
  argv[k++] = "--name";
  argv[k++] = v->name;
  if (v->size || o->size) {
    argv[k++] = "--size";
    argv[k++] = v->size ? v->size : o->size;
  }
  if (o->sizes_file) {
    argv[k++] = "--sizes";
    argv[k++] = o->sizes_file;
  }
  if (o->generation)
    argv[k++] = o->generation == 2 ? "--generation=2" : "--generation=1";
  if (o->trace)
    argv[k++] = "-x";
  /* This run's command-line flags; the fleet file cannot set them. */
  if (opt_lowered ()->vsphere_insecure)
    argv[k++] = "--vsphere-insecure";
  if (opt_lowered ()->vsphere_allow_http)
    argv[k++] = "--vsphere-allow-http";
  for (int i = 0; i < log_verbose () && i < 2; i++)
    argv[k++] = "-v";
  if (v->format) {
    argv[k++] = "--format";
    argv[k++] = v->format;
  }
  if (v->ovf) {
    argv[k++] = "--ovf";
    argv[k++] = v->ovf;
    if (v->ovf_vm) {
      argv[k++] = "--ovf-vm";
      argv[k++] = v->ovf_vm;
    }
  }
  else if (v->vmx) {
    argv[k++] = "--vmx";
    argv[k++] = v->vmx;
  }
  else {
    argv[k++] = "--";
    for (size_t i = 0; i < nd; i++)
      argv[k++] = v->disks[i];
  }
  argv[k] = NULL;

  /* A child is azprep itself: a vsphere:// disk needs the password. */
  env = secrets_child_env ();
  if (!env)
    return -1;
  fflush (NULL);
  pid = fork ();
  if (pid == -1) {
    azp_error ("fork: %m");
    secrets_child_env_free (env);
    return -1;
  }
  if (pid == 0) {
    /* Die with the parent: no orphan appliances. */
    prctl (PR_SET_PDEATHSIG, SIGTERM);
    dup2 (fileno (out), STDOUT_FILENO);
    dup2 (fileno (err), STDERR_FILENO);
    execve (self, (char *const *) argv, env);
    fprintf (stderr, "azprep: %s: %m\n", self);
    _exit (EXIT_ERROR);
  }
  secrets_child_env_free (env);
  return pid;
}

/* The child's result object, or an error result explaining why not. */
static cJSON *
collect (const struct fleet_vm *v, struct child *c, int status)
{
  CLEANUP_FREE char *out = NULL, *err = NULL;
  cJSON *j, *vms, *vm = NULL;
  long len;

  fflush (c->out);
  len = ftell (c->out);
  if (len > 0 && len <= CHILD_MAX_OUTPUT && (out = malloc (len + 1))) {
    rewind (c->out);
    len = fread (out, 1, len, c->out);
    out[len] = '\0';
  }
  len = ftell (c->err);
  if (len > 0) {
    err = calloc (1, 4097);
    if (err) {
      /* The last lines are what explain a failure. */
      fseek (c->err, len > 4096 ? len - 4096 : 0, SEEK_SET);
      if (fread (err, 1, 4096, c->err) == 0)
        err[0] = '\0';
    }
  }
  j = out ? cJSON_Parse (out) : NULL;
  vms = cJSON_GetObjectItem (j, "vms");
  if (cJSON_GetArraySize (vms) == 1)
    vm = cJSON_DetachItemFromArray (vms, 0);
  cJSON_Delete (j);
  if (!vm) {
    CLEANUP_FREE char *why = NULL;
    char *nl;
    if (err) {
      /* The last error line. */
      char *last = strstr (err, "error: ");
      for (char *p = last; p; p = strstr (p + 1, "error: "))
        last = p;
      why = xstrdup (last ? last + 7 : err);
      if (why && (nl = strchr (why, '\n')))
        *nl = '\0';
    }
    if (!why || !*why) {
      free (why);
      why = WIFSIGNALED (status)
        ? xasprintf ("the check was killed by signal %d", WTERMSIG (status))
        : xasprintf ("the check exited %d without a result",
                     WEXITSTATUS (status));
    }
    vm = check_vm_error (v->name, why);
  }
  if (vm && err && log_verbose ())
    fputs (err, stderr);
  return vm;
}

cJSON *
fleet_check (const struct fleet_vm *vms, size_t n, int jobs,
             const struct check_opts *o, const char *self)
{
  cJSON **results = calloc (n, sizeof *results);
  struct child *running = calloc (jobs, sizeof *running);
  cJSON *a = cJSON_CreateArray ();
  size_t next = 0, done = 0;
  int nrun = 0;

  if (!results || !running || !a) {
    azp_error ("out of memory");
    free (results);
    free (running);
    return a;
  }
  azp_debug ("fleet: %zu VMs, %d at a time", n, jobs);
  while (done < n) {
    /* Start as many as allowed. */
    while (next < n && nrun < jobs) {
      struct child *c = &running[nrun];
      c->vm = next++;
      c->out = scratch ();
      c->err = scratch ();
      c->pid = c->out && c->err
        ? spawn (&vms[c->vm], o, self, c->out, c->err) : -1;
      if (c->pid == -1) {
        results[c->vm] = check_vm_error (vms[c->vm].name,
                                         log_last_error ());
        if (c->out) fclose (c->out);
        if (c->err) fclose (c->err);
        done++;
        continue;
      }
      nrun++;
    }
    if (nrun == 0)
      continue;
    {
      int status;
      pid_t pid = waitpid (-1, &status, 0);
      if (pid == -1) {
        if (errno == EINTR)
          continue;
        azp_error ("waitpid: %m");
        break;
      }
      for (int i = 0; i < nrun; i++) {
        struct child *c = &running[i];
        if (c->pid != pid)
          continue;
        results[c->vm] = collect (&vms[c->vm], c, status);
        azp_info ("%s: %s", vms[c->vm].name,
                  json_str (results[c->vm], "verdict"));
        fclose (c->out);
        fclose (c->err);
        running[i] = running[--nrun];
        done++;
        break;
      }
    }
  }
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray (a, results[i] ? results[i]
                          : check_vm_error (vms[i].name, "not checked"));
  free (results);
  free (running);
  return a;
}
