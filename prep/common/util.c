/* Small helpers: cleanups, strings, running host commands. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "prep/common/common.h"

void
cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

void
free_string_list (char **list)
{
  if (!list)
    return;
  for (size_t i = 0; list[i]; i++)
    free (list[i]);
  free (list);
}

void
cleanup_free_string_list (void *ptr)
{
  free_string_list (*(char ***) ptr);
}

void
cleanup_fclose (void *ptr)
{
  FILE *f = *(FILE **) ptr;
  if (f)
    fclose (f);
}

void
cleanup_close (void *ptr)
{
  int fd = *(int *) ptr;
  if (fd >= 0)
    close (fd);
}

size_t
count_strings (char *const *list)
{
  size_t n = 0;
  while (list && list[n])
    n++;
  return n;
}

char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *s;
  int r;

  va_start (ap, fmt);
  r = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (r < 0) {
    azp_error ("out of memory");
    return NULL;
  }
  return s;
}

char *
xstrdup (const char *s)
{
  char *r = strdup (s);
  if (!r)
    azp_error ("out of memory");
  return r;
}

int
parse_int64 (const char *s, int64_t *r)
{
  char *end;
  long long v;

  if (!s || !*s)
    return -1;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno || *end)
    return -1;
  *r = v;
  return 0;
}

int
run_command (char **out, const char *const *argv)
{
  return run_command_full (out, NULL, argv);
}

/* Read a memfd back from the start into a string. */
static char *
read_memfd (int fd)
{
  off_t len = lseek (fd, 0, SEEK_END);
  char *s;

  if (len < 0)
    len = 0;
  if (len > 65536)
    len = 65536;
  s = malloc (len + 1);
  if (!s)
    return NULL;
  if (pread (fd, s, len, 0) != len)
    len = 0;
  s[len] = '\0';
  return s;
}

int
run_command_full (char **out, char **err, const char *const *argv)
{
  int pfd[2], status, efd = -1;
  pid_t pid;
  char *buf = NULL;
  size_t len = 0, cap = 0;

  if (out)
    *out = NULL;
  if (pipe2 (pfd, O_CLOEXEC) == -1) {
    azp_error ("pipe: %m");
    return -1;
  }
  if (err) {
    *err = NULL;
    efd = memfd_create ("stderr", MFD_CLOEXEC);
  }
  pid = fork ();
  if (pid == -1) {
    azp_error ("fork: %m");
    close (pfd[0]);
    close (pfd[1]);
    if (efd >= 0)
      close (efd);
    return -1;
  }
  if (pid == 0) {
    dup2 (pfd[1], 1);
    if (efd >= 0)
      dup2 (efd, 2);
    else if (!log_verbose ()) {
      int nfd = open ("/dev/null", O_WRONLY);
      if (nfd >= 0)
        dup2 (nfd, 2);
    }
    execvp (argv[0], (char **) argv);
    _exit (127);
  }
  close (pfd[1]);
  for (;;) {
    ssize_t r;
    if (len + 4096 + 1 > cap) {
      size_t ncap = cap ? cap * 2 : 8192;
      char *nbuf = realloc (buf, ncap);
      if (!nbuf) {
        azp_error ("out of memory");
        free (buf);
        close (pfd[0]);
        waitpid (pid, &status, 0);
        return -1;
      }
      buf = nbuf;
      cap = ncap;
    }
    r = read (pfd[0], buf + len, cap - len - 1);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += r;
  }
  close (pfd[0]);
  if (buf)
    buf[len] = '\0';
  while (waitpid (pid, &status, 0) == -1) {
    if (errno != EINTR) {
      azp_error ("waitpid: %m");
      free (buf);
      return -1;
    }
  }
  if (out)
    *out = buf ? buf : strdup ("");
  else
    free (buf);
  if (efd >= 0) {
    *err = read_memfd (efd);
    close (efd);
  }
  if (WIFEXITED (status)) {
    if (WEXITSTATUS (status) == 127)
      azp_debug ("%s: could not run (not installed?)", argv[0]);
    return WEXITSTATUS (status);
  }
  return 128 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
}

char *
first_line (const char *s)
{
  size_t n;

  if (!s)
    return NULL;
  while (*s == ' ' || *s == '\n' || *s == '\t')
    s++;
  /* qemu-img prefixes its messages with "qemu-img: ". */
  if (!strncmp (s, "qemu-img: ", 10))
    s += 10;
  n = strcspn (s, "\n");
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
    n--;
  return strndup (s, n);
}

void *
records_sorted (const void *start, const void *stop,
                int (*cmp) (const void *, const void *), size_t *n)
{
  size_t count = start ? ((const char *) stop - (const char *) start)
                         / sizeof (void *) : 0;
  void **v = malloc ((count ? count : 1) * sizeof *v);

  *n = 0;
  if (!v)
    return NULL;
  if (count)
    memcpy (v, start, count * sizeof *v);
  qsort (v, count, sizeof *v, cmp);
  *n = count;
  return v;
}

char *
shell_quote (const char *s)
{
  static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,:/=+@%";
  size_t n = 3;
  char *r, *o;

  if (*s && strspn (s, safe) == strlen (s))
    return xstrdup (s);
  for (const char *p = s; *p; p++)
    n += *p == '\'' ? 4 : 1;
  r = o = malloc (n);
  if (!r) {
    azp_error ("out of memory");
    return NULL;
  }
  *o++ = '\'';
  for (const char *p = s; *p; p++) {
    if (*p == '\'') {
      memcpy (o, "'\\''", 4);
      o += 4;
    }
    else
      *o++ = *p;
  }
  *o++ = '\'';
  *o = '\0';
  return r;
}

void
fputs_clean (const char *s, FILE *fp, bool multiline)
{
  for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
    if ((*p == '\n' || *p == '\t') && multiline)
      fputc (*p, fp);
    else if (*p == '\r' && multiline && p[1] == '\n')
      ;                         /* CRLF: the LF ends the line */
    else if (*p < 0x20 || *p == 0x7f)
      fprintf (fp, "\\x%02x", *p);
    else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
      /* A C1 control (CSI is U+009B) in UTF-8. */
      fprintf (fp, "\\u%04x", p[1]);
      p++;
    }
    else
      fputc (*p, fp);
  }
}

uint64_t
monotonic_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double
monotonic_seconds (void)
{
  return monotonic_ns () / 1e9;
}
