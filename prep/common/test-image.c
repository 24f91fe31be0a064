/* Unit tests of prep/common/image.c on real images made with qemu-img:
 * the json: option string azprep gives qemu-img and qemu-nbd reads a
 * qcow2's own clusters, never the host file its header names, and
 * image_external names what qemu would have read. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "prep/common/json.h"
#include "prep/common/image.h"
#include "prep/common/unit.h"

static bool
any_extent (const char *file, void *arg)
{
  return true;
}

/* qemu-io reading the first 16 bytes of image: 0 if they are all
 * pattern (qemu-io "read -P"), 1 if not, -1 if it failed. */
static int
reads_pattern (const char *image, int pattern)
{
  CLEANUP_FREE char *out = NULL, *err = NULL, *cmd = NULL;
  const char *argv[] = { "qemu-io", "-r", "-c", NULL, image, NULL };
  int r;

  cmd = xasprintf ("read -P %d 0 16", pattern);
  argv[3] = cmd;
  r = run_command_full (&out, &err, argv);
  if (r != 0)
    return -1;
  return out && strstr (out, "Pattern verification failed") ? 1 : 0;
}

static cJSON *
info (const char *image)
{
  CLEANUP_FREE char *out = NULL, *err = NULL;
  const char *argv[] = { "qemu-img", "info", "--output=json", "-U", image,
                         NULL };
  return run_command_full (&out, &err, argv) == 0 ? cJSON_Parse (out) : NULL;
}

int
main (void)
{
  char dir[] = "/tmp/azprep-image-XXXXXX";
  CLEANUP_FREE char *host = NULL, *ovl = NULL, *plain = NULL;
  CLEANUP_FREE char *j_ovl = NULL, *j_win = NULL, *j_plain = NULL;
  CLEANUP_FREE char *why = NULL, *why_plain = NULL, *why_local = NULL;
  cJSON *ji;

  if (!mkdtemp (dir)) {
    perror (dir);
    return 1;
  }
  host = xasprintf ("%s/host.bin", dir);
  ovl = xasprintf ("%s/ovl.qcow2", dir);
  plain = xasprintf ("%s/plain.qcow2", dir);
  {
    /* The host file: bytes 0x5a; an overlay naming it; a plain qcow2. */
    const char *mk[] = { "qemu-img", "create", "-q", "-f", "raw", host, "1M",
                         NULL };
    const char *fill[] = { "qemu-io", "-f", "raw", "-c", "write -P 90 0 1M",
                           host, NULL };
    const char *ov[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-b",
                         host, "-F", "raw", ovl, NULL };
    const char *pl[] = { "qemu-img", "create", "-q", "-f", "qcow2", plain,
                         "1M", NULL };
    if (run_command (NULL, mk) || run_command (NULL, fill) ||
        run_command (NULL, ov) || run_command (NULL, pl)) {
      fprintf (stderr, "test-image: qemu-img or qemu-io failed\n");
      return 1;
    }
  }
  /* qemu's own view of the overlay reads the host file ... */
  CHECK (reads_pattern (ovl, 90) == 0);
  /* ... azprep's, whole or as a window (an OVA member), does not. */
  j_ovl = image_no_backing ("qcow2", ovl, 0, -1);
  j_win = image_no_backing ("qcow2", ovl, 0, 196608);
  j_plain = image_no_backing ("raw", plain, 0, -1);
  CHECK (j_ovl && !strncmp (j_ovl, "json:{", 6));
  CHECK (j_ovl && strstr (j_ovl, "\"backing\":null"));
  CHECK (j_plain && !strstr (j_plain, "backing"));
  CHECK (reads_pattern (j_ovl, 0) == 0);
  CHECK (reads_pattern (j_win, 0) == 0);

  /* What qemu-img info says of the overlay names the host file. */
  ji = info (ovl);
  CHECK (ji != NULL);
  why = ji ? image_external (ji, any_extent, NULL) : NULL;
  CHECK (why && strstr (why, "backing file") && strstr (why, "host.bin"));
  why_local = ji ? image_local_refuse (ji, ovl) : NULL;
  CHECK (why_local && strstr (why_local, "give --format raw"));
  cJSON_Delete (ji);
  ji = info (plain);
  why_plain = ji ? image_external (ji, any_extent, NULL) : xstrdup ("?");
  CHECK (why_plain == NULL);
  cJSON_Delete (ji);
  {
    const char *rm[] = { "rm", "-rf", "--", dir, NULL };
    run_command (NULL, rm);
  }
  return UNIT_RESULT ("test-image");
}
