/* azprep replicate: Microsoft Entra ID (OAuth 2.0) access tokens for
 * Blob Storage, sent as "Authorization: Bearer".  One token source is
 * shared by every thread of a blob client: token_source_get() hands out
 * the current token and fetches a new one, under the source's lock,
 * when less than a margin of its lifetime is left, so a long cycle never
 * sends an expired token.  Tokens are secrets: they are never printed,
 * never put on a command line or in the environment of a child.
 *
 * How azprep signs in is chosen by AZPREP_AUTH, else by azcopy's
 * AZCOPY_AUTO_LOGIN_TYPE (the same names):
 *   AZCLI     "az account get-access-token --resource
 *             https://storage.azure.com/" (az on PATH, run without a
 *             shell)
 *   SPN       a service principal: AZURE_TENANT_ID, AZURE_CLIENT_ID and
 *             AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, a
 *             PEM file with the certificate and its private key); the
 *             client-credentials flow against AZURE_AUTHORITY_HOST
 *             (default https://login.microsoftonline.com)
 *   MSI       a managed identity: IDENTITY_ENDPOINT + IDENTITY_HEADER
 *             (App Service, Functions, Arc), MSI_ENDPOINT [+ MSI_SECRET]
 *             (older hosts), else the instance metadata service
 *             http://169.254.169.254; AZURE_CLIENT_ID picks a
 *             user-assigned identity
 *   WORKLOAD  workload identity federation: AZURE_TENANT_ID,
 *             AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE (re-read at
 *             every refresh, as Kubernetes rotates it)
 *   TOKENFILE an access token kept fresh in AZPREP_ACCESS_TOKEN_FILE by
 *             something else (re-read when it changes)
 *   AUTO      DefaultAzureCredential's order, from the environment:
 *             SPN if its variables are set, else WORKLOAD, else MSI if
 *             IDENTITY_ENDPOINT or MSI_ENDPOINT is set, else AZCLI if az
 *             is on PATH, else MSI (the instance metadata service)
 * Unset: no Entra ID; account keys, connection strings and SAS as
 * before.
 */
#ifndef AZPREP_REPLICATE_TOKEN_H
#define AZPREP_REPLICATE_TOKEN_H

#include <stdbool.h>
#include <time.h>

#define TOKEN_RESOURCE "https://storage.azure.com/"
/* The first x-ms-version that accepts Bearer tokens. */
#define TOKEN_MIN_VERSION "2017-11-09"

enum token_kind {
  TOKEN_AZCLI, TOKEN_SPN, TOKEN_MSI, TOKEN_WORKLOAD, TOKEN_FILE,
};

struct token_source;

/* The source the environment chooses (see above) in *ts, or NULL when
 * none is chosen.  0, or -1 (reported: an unknown kind, a variable
 * missing).  Nothing is fetched yet.
 */
int token_source_from_env (struct token_source **ts);
/* A source that reads its token from path (re-read when it changes). */
struct token_source *token_source_file (const char *path);
void token_source_free (struct token_source *ts);
/* "the Azure CLI", "a service principal", ... for messages. */
const char *token_source_describe (const struct token_source *ts);

/* The current access token (malloc'd; the caller wipes and frees it),
 * fetched or refreshed first when needed; *expires (if not NULL) gets
 * its expiry.  NULL after azp_error().  Thread-safe.
 */
char *token_source_get (struct token_source *ts, time_t *expires);

/* Pure helpers, for unit tests. */
/* The "exp" claim of a JWT, or 0 if there is none. */
time_t jwt_expiry (const char *jwt);
/* Parse a token endpoint's JSON reply (access_token or accessToken;
 * expires_on as seconds since the epoch, expires_in as seconds from
 * now, else the JWT's exp).  0, or -1 with *error set to a message
 * without secrets (malloc'd).
 */
int token_parse_reply (const char *json, time_t now, char **token,
                       time_t *expires, char **error);
/* Seconds before expiry at which a token obtained at got and expiring
 * at exp is renewed: 5 minutes, or half its lifetime when that is
 * shorter.
 */
time_t token_refresh_margin (time_t got, time_t exp);

#endif
