// An independent client for the replication tests and benchmark, built on
// the official Azure Storage SDK (@azure/storage-blob).  Credentials come
// from AZURE_STORAGE_CONNECTION_STRING (the tests use Azurite's public
// development account).
//
//   blobtool.js sha256 CONTAINER BLOB [SNAPSHOT] [LENGTH]
//   blobtool.js download CONTAINER BLOB FILE [SNAPSHOT]
//   blobtool.js props CONTAINER BLOB            (JSON)
//   blobtool.js list CONTAINER                  (JSON, with snapshots)
//   blobtool.js create-page CONTAINER BLOB SIZE
//   blobtool.js sas-url CONTAINER BLOB PERMS    (a service SAS URL)
//   blobtool.js upload-pages FILE CONTAINER BLOB PARALLEL
"use strict";
const fs = require("fs");
const crypto = require("crypto");
const {
  BlobServiceClient, StorageSharedKeyCredential,
  generateBlobSASQueryParameters, BlobSASPermissions,
} = require("@azure/storage-blob");

const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
if (!cs) { console.error("blobtool: AZURE_STORAGE_CONNECTION_STRING unset"); process.exit(2); }
const svc = BlobServiceClient.fromConnectionString(cs);

function parseCs() {
  const m = {};
  for (const part of cs.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) m[part.slice(0, i)] = part.slice(i + 1);
  }
  return m;
}

async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  if (cmd === "sha256" || cmd === "download") {
    const [container, name] = a;
    const snap = cmd === "sha256" ? a[2] : a[3];
    let bc = svc.getContainerClient(container).getPageBlobClient(name);
    if (snap && snap !== "-") bc = bc.withSnapshot(snap);
    const props = await bc.getProperties();
    const total = cmd === "sha256" && a[3] ? Number(a[3]) : props.contentLength;
    const h = crypto.createHash("sha256");
    const out = cmd === "download" ? fs.openSync(a[2], "w") : null;
    const step = 8 << 20;
    for (let off = 0; off < total; off += step) {
      const n = Math.min(step, total - off);
      const buf = await bc.downloadToBuffer(off, n);
      if (out !== null) fs.writeSync(out, buf, 0, buf.length, off);
      else h.update(buf);
    }
    if (out !== null) fs.closeSync(out);
    else console.log(h.digest("hex"));
  } else if (cmd === "props") {
    const p = await svc.getContainerClient(a[0]).getBlobClient(a[1]).getProperties();
    console.log(JSON.stringify({
      size: p.contentLength, type: p.blobType, metadata: p.metadata,
      leaseState: p.leaseState, leaseStatus: p.leaseStatus,
    }));
  } else if (cmd === "list") {
    const r = [];
    for await (const b of svc.getContainerClient(a[0]).listBlobsFlat({ includeSnapshots: true, includeMetadata: true }))
      r.push({ name: b.name, snapshot: b.snapshot || null, size: b.properties.contentLength, metadata: b.metadata });
    console.log(JSON.stringify(r));
  } else if (cmd === "create-page") {
    const cc = svc.getContainerClient(a[0]);
    await cc.createIfNotExists();
    await cc.getPageBlobClient(a[1]).create(Number(a[2]));
  } else if (cmd === "sas-url") {
    const m = parseCs();
    const cred = new StorageSharedKeyCredential(m.AccountName, m.AccountKey);
    const bc = svc.getContainerClient(a[0]).getBlobClient(a[1]);
    const q = generateBlobSASQueryParameters({
      containerName: a[0], blobName: a[1], permissions: BlobSASPermissions.parse(a[2]),
      expiresOn: new Date(Date.now() + 3600 * 1000), version: "2022-11-02",
    }, cred).toString();
    console.log(bc.url + "?" + q);
  } else if (cmd === "upload-pages") {
    // The SDK peer for the benchmark: 4 MiB Put Pages of the non-zero
    // chunks of FILE, PARALLEL in flight (the SDK has no page uploader).
    const [file, container, name, par] = a;
    const size = fs.statSync(file).size;
    const vsize = Math.ceil(size / 1048576) * 1048576;
    const cc = svc.getContainerClient(container);
    await cc.createIfNotExists();
    const pb = cc.getPageBlobClient(name);
    await pb.create(vsize + 512);
    const fd = fs.openSync(file, "r");
    const chunk = 4 << 20;
    let next = 0, sent = 0;
    async function worker() {
      const buf = Buffer.alloc(chunk);
      for (;;) {
        const off = next; next += chunk;
        if (off >= size) return;
        const n = fs.readSync(fd, buf, 0, Math.min(chunk, size - off), off);
        let zero = true;
        for (let i = 0; i < n; i += 8) if (buf.readBigUInt64LE(i) !== 0n) { zero = false; break; }
        if (zero) continue;
        const len = Math.ceil(n / 512) * 512;
        if (len > n) buf.fill(0, n, len);
        const body = Buffer.from(buf.subarray(0, len));
        await pb.uploadPages(body, off, len, {
          transactionalContentMD5: crypto.createHash("md5").update(body).digest(),
        });
        sent += len;
      }
    }
    await Promise.all(Array.from({ length: Number(par) }, worker));
    console.log(JSON.stringify({ bytes_sent: sent }));
  } else {
    console.error("blobtool: unknown command " + cmd);
    process.exit(2);
  }
}
main().catch((e) => { console.error("blobtool: " + (e.code || "") + " " + e.message); process.exit(1); });
