// A fault-injecting HTTP proxy for the replication tests: forwards
// requests to a target (Azurite) and, deterministically by request
// number, answers some with 500, some with 503 + Retry-After, drops some
// connections (before or after forwarding the request), and delays
// responses.  Counts requests and faults into a stats file.
//
//   faultproxy.js PORTFILE TARGET_PORT STATSFILE [options]
//     --every N      inject a fault every N-th request (default 0: none)
//     --slow MS      delay every response by MS milliseconds
//     --port P       listen on port P (default: a free one)
//   The fault cycles through: 500, 503 (Retry-After: 1), drop before
//   forwarding, drop after forwarding (the write may have landed).
//     --match STR    requests whose "METHOD URL" contains STR get, instead:
//     --pass N       the first N are forwarded as usual (default 0), then
//     --lose N       the first N are forwarded, then their connection is
//                    closed without the reply (default 1)
//     --then STATUS  the later ones are answered STATUS (error code
//                    InjectedFault) without forwarding (default: forwarded)
//     --copy-pending every reply saying x-ms-copy-status: success says
//                    pending instead (a Copy Blob that never ends)
//     --hold FILE    with --match: the matched requests after --pass wait
//                    until FILE exists, then are forwarded (not lost);
//                    stats "held" counts them as they arrive (a test acts
//                    between two requests of a client, deterministically)
"use strict";
const http = require("http");
const fs = require("fs");

const [portfile, targetPort, statsfile, ...opts] = process.argv.slice(2);
let every = 0, slow = 0, match = null, lose = 1, then = 0, port = 0;
let pass = 0, copyPending = false, hold = null;
for (let i = 0; i < opts.length; i += 2) {
  if (opts[i] === "--copy-pending") { copyPending = true; i--; }
  else if (opts[i] === "--every") every = Number(opts[i + 1]);
  else if (opts[i] === "--slow") slow = Number(opts[i + 1]);
  else if (opts[i] === "--port") port = Number(opts[i + 1]);
  else if (opts[i] === "--match") match = opts[i + 1];
  else if (opts[i] === "--lose") lose = Number(opts[i + 1]);
  else if (opts[i] === "--pass") pass = Number(opts[i + 1]);
  else if (opts[i] === "--then") then = Number(opts[i + 1]);
  else if (opts[i] === "--hold") hold = opts[i + 1];
  else { console.error("faultproxy: unknown option " + opts[i]); process.exit(2); }
}
let nmatch = 0;
const stats = { requests: 0, faults: { 500: 0, 503: 0, drop_before: 0, drop_after: 0 },
                matched: 0, lost: 0, then: 0, copy_pending: 0, held: 0,
                // Writes to .vhd blobs (the replicas): Put Page data bytes
                // forwarded, replies 412 (a lease fence), and the time
                // (ms since the epoch) of the last one that succeeded.
                vhd_page_bytes: 0, vhd_412: 0, vhd_last_ok_ms: 0,
                retry_after_gaps_ms: [] };
// A 503 carries Retry-After: 1.  The gap between it and the retry of the
// same request (method, URL, range) shows whether the client waited.
const pending503 = new Map();
let nfault = 0;
// Whole or not at all: a test may read it at any moment.
function save() {
  fs.writeFileSync(statsfile + ".tmp", JSON.stringify(stats));
  fs.renameSync(statsfile + ".tmp", statsfile);
}

const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const n = ++stats.requests;
  const key = req.method + " " + req.url + " " + (req.headers["x-ms-range"] || req.headers.range || "");
  if (pending503.has(key)) {
    stats.retry_after_gaps_ms.push(Date.now() - pending503.get(key));
    pending503.delete(key);
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (hold !== null && match !== null &&
        (req.method + " " + req.url).includes(match) && nmatch++ >= pass) {
      stats.matched++;
      stats.held++;
      save();
      const wait = () => (fs.existsSync(hold) ? handle(false) : setTimeout(wait, 50));
      return wait();
    }
    handle(hold === null);
  });
  function handle(faults) {
    const body = Buffer.concat(chunks);
    let fault = null;
    if (faults && match !== null && (req.method + " " + req.url).includes(match)) {
      stats.matched++;
      const k = nmatch++ - pass;
      if (k < 0) { /* forwarded as usual */ }
      else if (k < lose) { fault = "lost"; stats.lost++; }
      else if (then) {
        stats.then++;
        save();
        res.writeHead(then, { "Content-Type": "application/xml", "x-ms-error-code": "InjectedFault" });
        return res.end("<?xml version=\"1.0\"?><Error><Code>InjectedFault</Code></Error>");
      }
    }
    else if (faults && every > 0 && n % every === 0)
      fault = ["500", "503", "drop_before", "drop_after"][nfault++ % 4];
    if (fault && fault !== "lost") stats.faults[fault]++;
    save();
    const delay = (f) => (slow ? setTimeout(f, slow) : f());
    if (fault === "500" || fault === "503") {
      return delay(() => {
        const h = { "Content-Type": "application/xml", "x-ms-error-code": fault === "500" ? "InternalError" : "ServerBusy" };
        if (fault === "503") h["Retry-After"] = "1";
        res.writeHead(Number(fault), h);
        res.end("<?xml version=\"1.0\"?><Error><Code>" + h["x-ms-error-code"] + "</Code></Error>");
        if (fault === "503") pending503.set(key, Date.now());
      });
    }
    if (fault === "drop_before") return req.socket.destroy();
    const up = http.request({ host: "127.0.0.1", port: targetPort, method: req.method,
                              path: req.url, headers: req.headers, agent }, (ur) => {
      const rc = [];
      ur.on("data", (c) => rc.push(c));
      ur.on("end", () => {
        if (req.method !== "GET" && req.method !== "HEAD" &&
            /\.vhd(\?|$)/.test(req.url)) {
          if (ur.statusCode === 412) stats.vhd_412++;
          else if (ur.statusCode < 300) {
            stats.vhd_last_ok_ms = Date.now();
            if (req.headers["x-ms-page-write"] === "update")
              stats.vhd_page_bytes += body.length;
          }
          save();
        }
        if (fault === "drop_after" || fault === "lost") return req.socket.destroy();
        if (copyPending && ur.headers["x-ms-copy-status"] === "success") {
          ur.headers["x-ms-copy-status"] = "pending";
          stats.copy_pending++;
          save();
        }
        delay(() => { res.writeHead(ur.statusCode, ur.headers); res.end(Buffer.concat(rc)); });
      });
    });
    up.on("error", () => req.socket.destroy());
    up.end(body);
  }
});
server.listen(port, "127.0.0.1", () => {
  save();
  fs.writeFileSync(portfile, String(server.address().port));
});
