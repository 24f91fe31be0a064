/* Unit tests: Entra ID token replies, JWT expiry, the refresh margin
 * and the choice of sign-in method from the environment.
 */
#include <stdlib.h>
#include <string.h>

#include "prep/common/common.h"
#include "prep/common/unit.h"
#include "replicate/azure/token.h"

/* header {"alg":"none"} . payload {"aud":"https://storage.azure.com",
 * "exp":1900000000} . signature "sig" */
static const char jwt[] =
  "eyJhbGciOiJub25lIn0."
  "eyJhdWQiOiJodHRwczovL3N0b3JhZ2UuYXp1cmUuY29tIiwiZXhwIjoxOTAwMDAwMDAwfQ."
  "sig";

static void
reply (const char *json, int want, const char *tok, time_t exp,
       const char *err)
{
  char *t = NULL, *e = NULL;
  time_t x = 0;

  CHECK (token_parse_reply (json, 1000, &t, &x, &e) == want);
  if (tok)
    CHECK_STR (t, tok);
  else
    CHECK (t == NULL);
  CHECK (x == exp || want == -1);
  if (err)
    CHECK (e && strstr (e, err));
  free (t);
  free (e);
}

static void
test_replies (void)
{
  CLEANUP_FREE char *cli = xasprintf ("{\"accessToken\": \"%s\", "
                                      "\"expiresOn\": \"2030-03-01 "
                                      "10:00:00.000000\"}", jwt);
  /* The authority: expires_in. */
  reply ("{\"token_type\":\"Bearer\",\"expires_in\":3599,"
         "\"access_token\":\"abc.def.ghi\"}", 0, "abc.def.ghi", 4599, NULL);
  /* A managed identity: expires_on as a string. */
  reply ("{\"access_token\":\"t1\",\"expires_on\":\"1700000000\","
         "\"expires_in\":\"86399\"}", 0, "t1", 1700000000, NULL);
  /* An older Azure CLI: no expires_on, the JWT's exp then. */
  reply (cli, 0, jwt, 1900000000, NULL);
  /* Newer: expires_on as a number. */
  reply ("{\"accessToken\":\"t2\",\"expires_on\":1800000000}", 0, "t2",
         1800000000, NULL);
  /* Errors: the code and description, never a token. */
  reply ("{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215:"
         " Invalid client secret\"}", -1, NULL, 0,
         "invalid_client: AADSTS7000215");
  reply ("{\"access_token\":\"t3\"}", -1, NULL, 0, "does not say when");
  reply ("{\"access_token\":\"a b\",\"expires_in\":5}", -1, NULL, 0,
         "no access token");
  reply ("[1,2]", -1, NULL, 0, "not a JSON object");
  reply ("not json", -1, NULL, 0, "not a JSON object");
}

static void
test_jwt (void)
{
  CHECK (jwt_expiry (jwt) == 1900000000);
  CHECK (jwt_expiry ("abc") == 0);
  CHECK (jwt_expiry ("a.!!!.c") == 0);
  CHECK (jwt_expiry ("a.eyJ4IjoxfQ.c") == 0);        /* {"x":1} */
  CHECK (token_refresh_margin (0, 3600) == 300);
  CHECK (token_refresh_margin (0, 20) == 10);
  CHECK (token_refresh_margin (10, 10) == 0);
}

static void
test_env (void)
{
  struct token_source *ts = NULL;

  unsetenv ("AZPREP_AUTH");
  unsetenv ("AZCOPY_AUTO_LOGIN_TYPE");
  CHECK (token_source_from_env (&ts) == 0 && ts == NULL);
  setenv ("AZCOPY_AUTO_LOGIN_TYPE", "azcli", 1);
  CHECK (token_source_from_env (&ts) == 0 && ts != NULL);
  if (ts)
    CHECK (strstr (token_source_describe (ts), "Azure CLI") != NULL);
  token_source_free (ts);
  /* AZPREP_AUTH wins over azcopy's variable. */
  setenv ("AZPREP_AUTH", "MSI", 1);
  CHECK (token_source_from_env (&ts) == 0 && ts != NULL);
  if (ts)
    CHECK (strstr (token_source_describe (ts), "managed identity") != NULL);
  token_source_free (ts);
  setenv ("AZPREP_AUTH", "SPN", 1);
  unsetenv ("AZURE_TENANT_ID");
  CHECK (token_source_from_env (&ts) == -1 && ts == NULL);
  setenv ("AZURE_TENANT_ID", "t", 1);
  setenv ("AZURE_CLIENT_ID", "c", 1);
  unsetenv ("AZURE_CLIENT_SECRET");
  unsetenv ("AZURE_CLIENT_CERTIFICATE_PATH");
  CHECK (token_source_from_env (&ts) == -1);
  setenv ("AZURE_CLIENT_SECRET", "s", 1);
  CHECK (token_source_from_env (&ts) == 0 && ts != NULL);
  token_source_free (ts);
  /* AUTO: the service principal's variables come first. */
  setenv ("AZPREP_AUTH", "auto", 1);
  CHECK (token_source_from_env (&ts) == 0 && ts != NULL);
  if (ts)
    CHECK (strstr (token_source_describe (ts), "service principal") != NULL);
  token_source_free (ts);
  unsetenv ("AZURE_CLIENT_SECRET");
  setenv ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi", 1);
  CHECK (token_source_from_env (&ts) == 0 && ts != NULL);
  if (ts)
    CHECK (strstr (token_source_describe (ts), "managed identity") != NULL);
  token_source_free (ts);
  unsetenv ("IDENTITY_ENDPOINT");
  setenv ("AZPREP_AUTH", "DEVICE", 1);
  CHECK (token_source_from_env (&ts) == -1);
  unsetenv ("AZPREP_AUTH");
  unsetenv ("AZCOPY_AUTO_LOGIN_TYPE");
}

int
main (void)
{
  test_replies ();
  test_jwt ();
  test_env ();
  return UNIT_RESULT ("test-token");
}
