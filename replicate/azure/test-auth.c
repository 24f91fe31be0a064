/* Unit tests: Shared Key, SAS, base64, MD5, CRC64, credentials, with
 * the vectors of shared/research/replication.md (Azurite's well-known
 * development key, which is public).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/azure/auth.h"
#include "replicate/azure/blob.h"


static const char devkey[] =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
  "K1SZFPTOtr/KBHBeksoGMGw==";

static void
test_sharedkey (void)
{
  CLEANUP_CREDS struct creds c = { 0 };
  const char *h1[] = {
    "Content-Length: 0", "x-ms-blob-type: PageBlob",
    "x-ms-blob-content-length: 10737418752",
    "x-ms-date: Mon, 01 Jan 2024 00:00:00 GMT",
    "x-ms-version: 2025-11-05", NULL
  };
  const char *h2[] = {
    "x-ms-version:  2025-11-05", "x-ms-page-write: update",
    "x-ms-range: bytes=0-511", "Content-Length: 512",
    "x-ms-date: Mon, 01 Jan 2024 00:00:00 GMT", NULL
  };
  const char *path = "/devstoreaccount1/vhds/disk0.vhd";
  struct sign_request r1 = { "PUT", path, NULL, h1 };
  struct sign_request r2 = { "PUT", path, "comp=page", h2 };
  CLEANUP_FREE char *s1 = NULL, *a1 = NULL, *s2 = NULL, *a2 = NULL;
  CLEANUP_FREE char *s3 = NULL;

  c.account = strdup ("devstoreaccount1");
  CHECK (creds_set_key (&c, devkey) == 0);
  s1 = sharedkey_string_to_sign (&r1, c.account);
  CHECK_STR (s1, "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
             "x-ms-blob-content-length:10737418752\n"
             "x-ms-blob-type:PageBlob\n"
             "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\n"
             "x-ms-version:2025-11-05\n"
             "/devstoreaccount1/devstoreaccount1/vhds/disk0.vhd");
  a1 = sharedkey_authorization (&r1, &c);
  CHECK_STR (a1, "SharedKey devstoreaccount1:"
             "/k+W34HI0ZhBnOcIG0YZBVVtQu5U8GNt4vc3ELGzUFc=");
  s2 = sharedkey_string_to_sign (&r2, c.account);
  CHECK_STR (s2, "PUT\n\n\n512\n\n\n\n\n\n\n\n\n"
             "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT\n"
             "x-ms-page-write:update\nx-ms-range:bytes=0-511\n"
             "x-ms-version:2025-11-05\n"
             "/devstoreaccount1/devstoreaccount1/vhds/disk0.vhd\ncomp:page");
  a2 = sharedkey_authorization (&r2, &c);
  CHECK_STR (a2, "SharedKey devstoreaccount1:"
             "h2WXyeEfRzQTx6WZDAyNs7HFjb40p7itxrFiyigdKjM=");

  /* Query parameters: lowercased, sorted, decoded; Content-MD5 slot. */
  {
    const char *h[] = { "Content-MD5: abc==", "X-MS-Date: d", NULL };
    struct sign_request r = { "GET", "/a/c/b",
                              "snapshot=2024-01-01T00%3A00%3A00Z"
                              "&Comp=pagelist", h };
    s3 = sharedkey_string_to_sign (&r, "a");
    CHECK_STR (s3, "GET\n\n\n\nabc==\n\n\n\n\n\n\n\nx-ms-date:d\n/a/a/c/b\n"
               "comp:pagelist\nsnapshot:2024-01-01T00:00:00Z");
  }
}

static void
test_sas (void)
{
  CLEANUP_CREDS struct creds c = { 0 };
  struct sas_params p = {
    .permissions = "rcw", .expiry = "2030-01-01T00:00:00Z",
    .protocol = "https,http", .version = "2022-11-02",
  };
  CLEANUP_FREE char *sts = NULL, *q = NULL;

  c.account = strdup ("devstoreaccount1");
  CHECK (creds_set_key (&c, devkey) == 0);
  sts = sas_string_to_sign (&p, c.account, "vhds", "disk0.vhd");
  CHECK_STR (sts, "rcw\n\n2030-01-01T00:00:00Z\n"
             "/blob/devstoreaccount1/vhds/disk0.vhd"
             "\n\n\nhttps,http\n2022-11-02\nb\n\n\n\n\n\n\n");
  q = sas_service_blob (&p, &c, "vhds", "disk0.vhd");
  CHECK (q && strstr (q, "sig=3VasoJwqY12r7CK4dfbOmTdjr8k0%2FXARTSRZhHc0"
                         "NTg%3D"));
  CHECK (q && strstr (q, "sr=b") && strstr (q, "se=2030-01-01T00%3A00%3A00Z"));
}

static void
test_digests (void)
{
  static unsigned char zero[4 << 20];
  char m[25], c[13];
  CLEANUP_FREE char *e = base64_encode ("foob", 4);
  CLEANUP_FREE unsigned char *d = NULL;
  size_t len = 0;

  md5_base64 (zero, 512, m);
  CHECK_STR (m, "v2GerAzfP2jUluqTRBN+iw==");
  md5_base64 (zero, sizeof zero, m);
  CHECK_STR (m, "tc+p1sj+vWGPkawoQ9UKHA==");
  CHECK (crc64_nvme (0, "123456789", 9) == 0xAE8B14860A799888ULL);
  crc64_nvme_base64 ("123456789", 9, c);
  CHECK_STR (c, "iJh5CoYUi64=");
  crc64_nvme_base64 (zero, 512, c);
  CHECK_STR (c, "6YKnaCgO5h0=");
  CHECK_STR (e, "Zm9vYg==");
  d = base64_decode ("Zm9vYg==", &len);
  CHECK (d && len == 4 && memcmp (d, "foob", 4) == 0);
  CHECK (base64_decode ("Zm9v!g==", &len) == NULL);
  CHECK (base64_decode ("Zm9", &len) == NULL);
}

static void
test_creds (void)
{
  {
    CLEANUP_CREDS struct creds c = { 0 };
    CLEANUP_FREE char *cs = xasprintf (
      "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
      "AccountKey=%s;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;",
      devkey);
    CHECK (creds_parse_connection_string (&c, cs, "test") == 0);
    CHECK_STR (c.account, "devstoreaccount1");
    CHECK_STR (c.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
    CHECK (c.keylen == 64);
  }
  {
    CLEANUP_CREDS struct creds c = { 0 };
    CHECK (creds_parse_connection_string (
             &c, "AccountName=acct;"
             "SharedAccessSignature=?sv=2022-11-02&sig=x%3D",
             "test") == 0);
    CHECK_STR (c.endpoint, "https://acct.blob.core.windows.net");
    CHECK_STR (c.sas, "sv=2022-11-02&sig=x%3D");
  }
  {
    CLEANUP_CREDS struct creds c = { 0 };
    CHECK (creds_parse_connection_string (&c, "AccountName=a;AccountKey=!!",
                                          "test") == -1);
  }
  {
    CLEANUP_CREDS struct creds c = { 0 };
    CHECK (creds_parse_connection_string (&c, "AccountName=a", "test") == -1);
  }
  {
    CLEANUP_CREDS struct creds c = { 0 };
    setenv ("AZURE_STORAGE_ACCOUNT", "myacct", 1);
    setenv ("AZURE_STORAGE_KEY", devkey, 1);
    unsetenv ("AZURE_STORAGE_CONNECTION_STRING");
    unsetenv ("AZURE_STORAGE_SAS_TOKEN");
    CHECK (creds_load (&c, NULL) == 0);
    CHECK_STR (c.account, "myacct");
    CHECK_STR (c.endpoint, "https://myacct.blob.core.windows.net");
    CHECK (c.key != NULL);
  }
  {
    /* The same lines in a file: the same default endpoint. */
    CLEANUP_CREDS struct creds c = { 0 };
    char path[] = "/tmp/azprep-test-creds-XXXXXX";
    int fd = mkstemp (path);
    CLEANUP_FREE char *text = xasprintf ("# storage\nexport "
                                         "AZURE_STORAGE_ACCOUNT=fileacct\n"
                                         "AZURE_STORAGE_KEY=\"%s\"\n",
                                         devkey);
    CHECK (fd >= 0 && text);
    CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
    close (fd);
    CHECK (creds_load (&c, path) == 0);
    unlink (path);
    CHECK_STR (c.account, "fileacct");
    CHECK_STR (c.endpoint, "https://fileacct.blob.core.windows.net");
    CHECK (c.key != NULL);
  }
  {
    /* Entra ID: an account and an endpoint without a key. */
    CLEANUP_CREDS struct creds c = { 0 };
    unsetenv ("AZURE_STORAGE_ACCOUNT");
    unsetenv ("AZURE_STORAGE_KEY");
    setenv ("AZURE_STORAGE_BLOB_ENDPOINT", "https://127.0.0.1:1/acct/", 1);
    CHECK (creds_load (&c, NULL) == 0);
    CHECK_STR (c.endpoint, "https://127.0.0.1:1/acct");
    CHECK (c.key == NULL);
    unsetenv ("AZURE_STORAGE_BLOB_ENDPOINT");
  }
}

static void
test_versions (void)
{
  CHECK (blob_check_version ("2025-11-05", "test") == 0);
  CHECK (blob_check_version ("2019-02-02", "test") == 0);
  CHECK (blob_check_version ("2024-02-29", "test") == 0);
  CHECK (blob_check_version ("2025-13-01", "test") == -1);
  CHECK (blob_check_version ("2025-04-31", "test") == -1);
  CHECK (blob_check_version ("2025-1-011", "test") == -1);
  CHECK (blob_check_version ("25-11-05", "test") == -1);
  CHECK (blob_check_version (" 2025-11-5", "test") == -1);
  CHECK (blob_check_version ("2025-11-05x", "test") == -1);
  CHECK (blob_check_version ("+025-11-05", "test") == -1);
  CHECK (blob_check_version ("2008-01-01", "test") == -1);
  CHECK (blob_check_version ("latest", "test") == -1);
  CHECK (blob_check_version ("", "test") == -1);
  CHECK (blob_set_api_version ("2021-08-06") == 0);
  CHECK_STR (getenv (BLOB_VERSION_ENV), "2021-08-06");
  CHECK (blob_set_api_version ("2021-8-6") == -1);
  CHECK_STR (getenv (BLOB_VERSION_ENV), "2021-08-06");
  unsetenv (BLOB_VERSION_ENV);
}

static void
test_urls (void)
{
  CLEANUP_FREE char *r = redact_url ("https://a/b?sv=1&sig=abc%3D&se=2");
  CLEANUP_FREE char *r2 = redact_url ("https://a/b?xsig=abc");
  CLEANUP_FREE char *e = url_encode ("2024-01-01T00:00:00.1234567Z");
  CLEANUP_FREE char *d = url_decode ("a%2Fb+c", 7, URL_PLUS_SPACE);

  CHECK_STR (r, "https://a/b?sv=1&sig=REDACTED&se=2");
  CHECK_STR (r2, "https://a/b?xsig=abc");
  CHECK_STR (e, "2024-01-01T00%3A00%3A00.1234567Z");
  CHECK_STR (d, "a/b c");
  CHECK (url_decode ("%zz", 3, URL_PLUS_SPACE) == NULL);
}

int
main (void)
{
  test_sharedkey ();
  test_sas ();
  test_digests ();
  test_creds ();
  test_urls ();
  test_versions ();
  return UNIT_RESULT ("test-auth");
}
