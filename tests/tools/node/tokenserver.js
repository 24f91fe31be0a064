// A local Microsoft Entra ID for the tests, on 127.0.0.1: the token
// endpoint of an authority (the client-credentials grant, with a client
// secret, a certificate's signed assertion or a federated token), a
// managed identity endpoint (App Service style IDENTITY_ENDPOINT with
// X-IDENTITY-HEADER) and the Azure CLI's reply (for a fake az).  Tokens
// are JWTs with Blob Storage's audience that Azurite --oauth basic
// accepts; they live LIFETIME seconds, so a long run must renew them.
//
//   node tokenserver.js PORTFILE STATS TOKENLOG LIFETIME [--cert PEM]
//     [--federated FILE]
//
// Tenant "tenant1", client "client1", secret "s3cret-client-secret",
// identity header "id-header-value".  STATS (JSON, rewritten on every
// request): how many tokens each flow issued and each refusal.
// TOKENLOG: every token issued, one a line, for the leak checks.
"use strict";
const http = require("http");
const crypto = require("crypto");
const fs = require("fs");

const [portFile, statsFile, tokenLog, lifetimeArg, ...rest] =
  process.argv.slice(2);
const lifetime = parseInt(lifetimeArg, 10);
let certPem = null, federatedFile = null;
for (let i = 0; i < rest.length; i += 2) {
  if (rest[i] === "--cert") certPem = fs.readFileSync(rest[i + 1], "utf8");
  else if (rest[i] === "--federated") federatedFile = rest[i + 1];
  else { console.error("tokenserver: unknown option " + rest[i]); process.exit(2); }
}
const TENANT = "tenant1", CLIENT = "client1";
const SECRET = "s3cret-client-secret", IDHEADER = "id-header-value";
const stats = { spn_secret: 0, spn_cert: 0, workload: 0, msi: 0, cli: 0,
                refused: 0, last_error: null };

const b64url = (b) => Buffer.from(b).toString("base64url");
function token() {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({
    aud: "https://storage.azure.com", iss: `https://sts.windows.net/${TENANT}/`,
    iat: now, nbf: now - 60, exp: now + lifetime, tid: TENANT,
    oid: "00000000-0000-0000-0000-000000000001",
    jti: crypto.randomBytes(12).toString("hex"),
  }));
  const sig = crypto.createHmac("sha256", "test").update(`${head}.${body}`)
    .digest("base64url");
  const t = `${head}.${body}.${sig}`;
  fs.appendFileSync(tokenLog, t + "\n");
  return { token: t, exp: now + lifetime };
}

function save() { fs.writeFileSync(statsFile, JSON.stringify(stats)); }

function reply(res, status, obj) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(obj));
  save();
}

function refuse(res, status, error, desc) {
  stats.refused++;
  stats.last_error = `${error}: ${desc}`;
  reply(res, status, { error, error_description: desc });
}

// A certificate's client assertion: RS256 over header.payload, the
// header's x5t the certificate's SHA-1 thumbprint, aud the token URL.
function checkAssertion(a, aud) {
  if (!certPem) return "no certificate registered";
  const parts = a.split(".");
  if (parts.length !== 3) return "the assertion is not a JWT";
  const h = JSON.parse(Buffer.from(parts[0], "base64url"));
  const p = JSON.parse(Buffer.from(parts[1], "base64url"));
  const cert = new crypto.X509Certificate(certPem);
  const thumb = Buffer.from(cert.fingerprint.replace(/:/g, ""), "hex");
  if (h.alg !== "RS256" || h.x5t !== b64url(thumb)) return "wrong alg or x5t";
  if (!crypto.verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`),
                     cert.publicKey, Buffer.from(parts[2], "base64url")))
    return "bad signature";
  const now = Date.now() / 1000;
  if (p.iss !== CLIENT || p.sub !== CLIENT || p.aud !== aud ||
      !(p.exp > now) || !(p.nbf <= now + 5) || !p.jti)
    return "bad claims";
  return null;
}

function tokenGrant(req, res, body) {
  const f = new URLSearchParams(body);
  const aud = `http://${req.headers.host}${req.url}`;
  if (req.url !== `/${TENANT}/oauth2/v2.0/token`)
    return refuse(res, 400, "invalid_request", "unknown tenant");
  if (f.get("grant_type") !== "client_credentials" ||
      f.get("client_id") !== CLIENT ||
      f.get("scope") !== "https://storage.azure.com/.default")
    return refuse(res, 400, "invalid_request", "bad grant, client or scope");
  let flow;
  if (f.has("client_secret")) {
    if (f.get("client_secret") !== SECRET)
      return refuse(res, 401, "invalid_client", "wrong secret");
    flow = "spn_secret";
  } else if (f.get("client_assertion_type") ===
             "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
    const a = f.get("client_assertion") || "";
    if (federatedFile && a === fs.readFileSync(federatedFile, "utf8").trim())
      flow = "workload";
    else {
      const why = checkAssertion(a, aud);
      if (why) return refuse(res, 401, "invalid_client", why);
      flow = "spn_cert";
    }
  } else return refuse(res, 400, "invalid_request", "no client credential");
  stats[flow]++;
  const t = token();
  reply(res, 200, { token_type: "Bearer", expires_in: lifetime,
                    ext_expires_in: lifetime, access_token: t.token });
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (d) => { body += d; });
  req.on("end", () => {
    const u = new URL(req.url, "http://x");
    if (req.method === "POST") return tokenGrant(req, res, body);
    if (u.pathname === "/msi") {
      if (req.headers["x-identity-header"] !== IDHEADER)
        return refuse(res, 401, "invalid_request", "no identity header");
      if (u.searchParams.get("resource") !== "https://storage.azure.com/" ||
          !u.searchParams.get("api-version"))
        return refuse(res, 400, "invalid_request", "bad resource");
      stats.msi++;
      const t = token();
      return reply(res, 200, { access_token: t.token,
                               expires_on: String(t.exp),
                               resource: "https://storage.azure.com/",
                               token_type: "Bearer" });
    }
    if (u.pathname === "/cli") {
      stats.cli++;
      const t = token();
      const d = new Date(t.exp * 1000);
      const p2 = (n) => String(n).padStart(2, "0");
      return reply(res, 200, {
        accessToken: t.token,
        expiresOn: `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
          `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.000000`,
        expires_on: t.exp, subscription: "sub1", tenant: TENANT,
        tokenType: "Bearer" });
    }
    refuse(res, 404, "not_found", "no such endpoint");
  });
});
server.listen(0, "127.0.0.1", () => {
  save();
  fs.writeFileSync(portFile, String(server.address().port));
});
