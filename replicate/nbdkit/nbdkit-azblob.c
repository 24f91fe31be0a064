/* nbdkit-azblob: an nbdkit plugin serving an Azure page blob that holds
 * a fixed VHD as a block device, so that libguestfs reads and writes
 * the blob where it lies: reads are ranged Get Blob, writes Put Page,
 * zeroing Put Page clear; only the blocks the guest touches travel.
 * The device is the blob without its 512-byte footer
 * (replicate/nbdkit/pageio.c).
 *
 *   nbdkit -U SOCK --exit-with-parent build/nbdkit-azblob.so \
 *     url=https://ACCOUNT.blob.core.windows.net/vms/web01-disk0-test.vhd \
 *     [lease=ID] [stats=FILE] [credentials=FILE] [cacert=FILE]
 *     [token-file=FILE] [allow-http=true]
 *   (or container=NAME blob=NAME in the credentials' account)
 *
 * Credentials come from the environment (AZURE_STORAGE_*) or the file,
 * never from the command line: a blob URL with a SAS query is refused.
 * With Entra ID, token-file=FILE names a private file holding the
 * access token, which the caller renews and the plugin re-reads when it
 * changes (the token itself never goes on a command line or in an
 * environment); without it an Entra ID sign-in chosen by the
 * environment (AZPREP_AUTH) is done here.
 * The bytes read and written are logged at unload and written as JSON
 * to stats=FILE (atomically) for the caller.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include <cjson/cJSON.h>

#include "prep/common/common.h"
#include "replicate/azure/blob.h"
#include "replicate/nbdkit/pageio.h"

static char *url, *container, *blob_arg, *lease, *stats_path, *creds_file,
  *cacert, *token_file;
static int allow_http;          /* allow-http=true: as azprep's flag */
static struct blob_client *client;
static struct token_source *tokens;
static struct blob *blob;
static struct pageio pio;
static bool pio_ready;

/* The replicate module reports with azprep's logging functions: here
 * they go to nbdkit's log instead of prep/common/log.c. */
static void
vlog (bool is_error, const char *fmt, va_list ap)
{
  CLEANUP_FREE char *msg = NULL;
  if (vasprintf (&msg, fmt, ap) == -1)
    return;
  if (is_error)
    nbdkit_error ("%s", msg);
  else
    nbdkit_debug ("%s", msg);
}
#define LOGFN(name, is_error)                   \
  void name (const char *fmt, ...)              \
  {                                             \
    va_list ap;                                 \
    va_start (ap, fmt);                         \
    vlog (is_error, fmt, ap);                   \
    va_end (ap);                                \
  }
LOGFN (azp_error, true)
LOGFN (azp_warning, true)
LOGFN (azp_info, false)
LOGFN (azp_debug, false)
int log_verbose (void) { return 0; }
void log_set_verbose (int level) { }

static void
write_stats (void)
{
  cJSON *j = cJSON_CreateObject ();
  CLEANUP_FREE char *s = NULL;

  cJSON_AddStringToObject (j, "blob", blob_name (blob));
  cJSON_AddNumberToObject (j, "size", pio.size);
  cJSON_AddNumberToObject (j, "bytes_read", pio.bytes_read);
  cJSON_AddNumberToObject (j, "reads", pio.reads);
  cJSON_AddNumberToObject (j, "bytes_written", pio.bytes_written);
  cJSON_AddNumberToObject (j, "writes", pio.writes);
  cJSON_AddNumberToObject (j, "bytes_cleared", pio.bytes_cleared);
  cJSON_AddNumberToObject (j, "clears", pio.clears);
  cJSON_AddNumberToObject (j, "client_writes", pio.client_writes);
  cJSON_AddNumberToObject (j, "write_errors", pio.write_errors);
  s = cJSON_PrintUnformatted (j);
  cJSON_Delete (j);
  if (s)
    write_file_atomic (stats_path, s, strlen (s));
}

static void
azblob_unload (void)
{
  if (pio_ready) {
    /* A client that left without a flush: its writes still go (a
     * failure is counted in write_errors for the caller). */
    pageio_flush (&pio);
    nbdkit_debug ("azblob: %s: read %" PRIu64 " bytes in %" PRIu64
                  " requests, wrote %" PRIu64 " in %" PRIu64 " Put Pages (%"
                  PRIu64 " writes gathered), cleared %" PRIu64 " in %"
                  PRIu64, blob_name (blob), pio.bytes_read, pio.reads,
                  pio.bytes_written, pio.writes, pio.client_writes,
                  pio.bytes_cleared, pio.clears);
    if (stats_path)
      write_stats ();
    pageio_destroy (&pio);
  }
  blob_close (blob);
  blob_client_free (client);
  token_source_free (tokens);
  free (url); free (container); free (blob_arg); free (lease);
  free (stats_path);
  free (creds_file); free (cacert); free (token_file);
}

static int
azblob_config (const char *key, const char *value)
{
  char **dst;

  if (!strcmp (key, "url")) dst = &url;
  else if (!strcmp (key, "container")) dst = &container;
  else if (!strcmp (key, "blob")) dst = &blob_arg;
  else if (!strcmp (key, "lease")) dst = &lease;
  else if (!strcmp (key, "stats")) dst = &stats_path;
  else if (!strcmp (key, "credentials")) dst = &creds_file;
  else if (!strcmp (key, "cacert")) dst = &cacert;
  else if (!strcmp (key, "token-file")) dst = &token_file;
  else if (!strcmp (key, "allow-http")) {
    allow_http = nbdkit_parse_bool (value);
    return allow_http == -1 ? -1 : 0;
  }
  else {
    nbdkit_error ("unknown parameter '%s'", key);
    return -1;
  }
  if ((dst == &blob_arg || dst == &url) && strchr (value, '?')) {
    nbdkit_error ("%s=: no query allowed (a SAS goes in the environment "
                  "or credentials=FILE, never on the command line)", key);
    return -1;
  }
  free (*dst);
  *dst = strdup (value);
  if (!*dst) {
    nbdkit_error ("strdup: %m");
    return -1;
  }
  return 0;
}

static int
op_read (void *h, void *buf, uint64_t n, uint64_t offset)
{
  return blob_get_range (h, NULL, offset, buf, n);
}

static int
op_write (void *h, const void *buf, uint64_t n, uint64_t offset)
{
  return blob_put_page (h, offset, buf, n);
}

static int
op_clear (void *h, uint64_t n, uint64_t offset)
{
  return blob_clear_pages (h, offset, n);
}

static const struct pageio_ops blob_ops = { op_read, op_write, op_clear };

static int
azblob_config_complete (void)
{
  struct creds creds = { 0 };
  struct blob_opts opts = { 0 };
  struct blob_props props = { 0 };
  int r;

  if (!url && (!container || !blob_arg)) {
    nbdkit_error ("url= (or container= and blob=) is required");
    return -1;
  }
  if (creds_load (&creds, creds_file) == -1)
    return -1;
  opts.cacert = cacert;
  if (token_file && !(opts.tokens = tokens = token_source_file (token_file)))
    return -1;
  opts.allow_http = allow_http == 1;
  /* A guest waits on every request: retry for about 15 s, not minutes,
   * so that a storage outage fails the hydration (which is rerun from
   * the recovery point) and a dead azprep's nbdkit does not linger. */
  opts.max_tries = 6;
  client = blob_client_new (&creds, &opts);
  creds_free (&creds);
  if (!client)
    return -1;
  blob = url ? blob_open_url (client, url)
    : blob_open (client, container, blob_arg);
  if (!blob)
    return -1;
  if (lease && blob_set_lease_id (blob, lease) == -1)
    return -1;
  r = blob_get_properties (blob, NULL, &props);
  if (r == 0 && !props.exists) {
    nbdkit_error ("%s: no such blob", blob_name (blob));
    r = -1;
  }
  else if (r == 0 && props.blob_type && strcmp (props.blob_type, "PageBlob")) {
    nbdkit_error ("%s: a %s, not a page blob", blob_name (blob),
                  props.blob_type);
    r = -1;
  }
  if (r == 0)
    r = pageio_init (&pio, &blob_ops, blob, props.size);
  pio_ready = r == 0;
  blob_props_free (&props);
  return r;
}

static void *
azblob_open (int readonly)
{
  return &pio;
}

static int64_t
azblob_get_size (void *handle)
{
  return pio.size;
}

static int
azblob_block_size (void *handle, uint32_t *minimum, uint32_t *preferred,
                   uint32_t *maximum)
{
  *minimum = 1;
  *preferred = 4096;
  *maximum = 0xffffffff;
  return 0;
}

static int
azblob_can_zero (void *handle)
{
  return 1;
}

static int
azblob_can_multi_conn (void *handle)
{
  /* One write-back window for every connection: a flush on any of them
   * sends it, and a read on any of them sees it. */
  return 1;
}

static int
azblob_pread (void *handle, void *buf, uint32_t count, uint64_t offset,
              uint32_t flags)
{
  return pageio_pread (&pio, buf, count, offset);
}

static int
azblob_pwrite (void *handle, const void *buf, uint32_t count,
               uint64_t offset, uint32_t flags)
{
  return pageio_pwrite (&pio, buf, count, offset);
}

static int
azblob_zero (void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
  return pageio_zero (&pio, count, offset);
}

static int
azblob_trim (void *handle, uint32_t count, uint64_t offset, uint32_t flags)
{
  /* A trimmed range may read back as anything: clearing is exact. */
  return pageio_zero (&pio, count, offset);
}

static int
azblob_flush (void *handle, uint32_t flags)
{
  /* The gathered writes go now (Put Page is durable when it returns);
   * FUA is nbdkit's flush after the write. */
  return pageio_flush (&pio);
}

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct nbdkit_plugin plugin = {
  .name = "azblob",
  .version = PACKAGE_VERSION,
  .longname = "azprep Azure page blob plugin",
  .description = "Serve an Azure page blob (fixed VHD) as a block device",
  .config_help =
    "url=URL          the page blob (no query: no SAS here)\n"
    "container=NAME   or the blob's container in the account\n"
    "blob=NAME        and the page blob's name\n"
    "lease=ID         lease id to send on writes\n"
    "stats=FILE       write the bytes read and written here at exit\n"
    "credentials=FILE connection string or AZURE_STORAGE_* lines\n"
    "cacert=FILE      CA certificates for HTTPS\n"
    "token-file=FILE  an Entra ID access token, re-read when it changes\n"
    "allow-http=true  plain HTTP to a host that is not loopback",
  .magic_config_key = NULL,
  .unload = azblob_unload,
  .config = azblob_config,
  .config_complete = azblob_config_complete,
  .open = azblob_open,
  .get_size = azblob_get_size,
  .block_size = azblob_block_size,
  .can_zero = azblob_can_zero,
  .can_multi_conn = azblob_can_multi_conn,
  .pread = azblob_pread,
  .pwrite = azblob_pwrite,
  .zero = azblob_zero,
  .trim = azblob_trim,
  .flush = azblob_flush,
  .errno_is_preserved = 1,
};

NBDKIT_REGISTER_PLUGIN (plugin)
