// An independent client for the replication tests and benchmark, built on
// the official Azure Storage SDK (@azure/storage-blob).  Credentials come
// from AZURE_STORAGE_CONNECTION_STRING (the tests use Azurite's public
// development account).
//
//   blobtool.js digest CONTAINER BLOB SNAPSHOT|- LENGTH
//   blobtool.js filedigest FILE LENGTH
//   blobtool.js download CONTAINER BLOB FILE [SNAPSHOT]
//   blobtool.js props CONTAINER BLOB            (JSON)
//   blobtool.js list CONTAINER                  (JSON, with snapshots)
//   blobtool.js create-page CONTAINER BLOB SIZE
//   blobtool.js delete CONTAINER BLOB           (with its snapshots)
//   blobtool.js break-lease CONTAINER BLOB      (at once, whoever holds it)
//   blobtool.js cat CONTAINER BLOB              (a block blob, to stdout)
//   blobtool.js snapshot CONTAINER BLOB         (prints its time; the
//                                 snapshot copies the blob's metadata)
//   blobtool.js sas-url CONTAINER BLOB|- PERMS [SECS]  (a service SAS URL,
//                                 valid SECS seconds, default 3600)
//   blobtool.js upload-pages FILE CONTAINER BLOB PARALLEL
//   blobtool.js delete-container CONTAINER      (and every blob in it)
//   blobtool.js copy-isolation CONTAINER        (JSON: a page blob and its
//                                 snapshot copied, the copies written: the
//                                 first bytes of each afterwards)
"use strict";
const fs = require("fs");
const crypto = require("crypto");
const {
  BlobServiceClient, StorageSharedKeyCredential,
  generateBlobSASQueryParameters, BlobSASPermissions, ContainerSASPermissions,
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

// A digest of a disk that skips zeros, so that sparse multi-GiB disks
// compare quickly: sha256 over "index:sha256(block)" lines of the
// non-zero 64 KiB blocks of the first LENGTH bytes.  The blob side reads
// only the pages the service lists (unlisted pages read as zeros).
const BLK = 65536;
const ZERO = Buffer.alloc(BLK);
function digestBlock(h, idx, buf) {
  if (buf.equals(ZERO.subarray(0, buf.length))) return;
  h.update(idx + ":" + crypto.createHash("sha256").update(buf).digest("hex") + "\n");
}

// Inclusive {start, end} page ranges from an SDK getPageRanges reply
// (whose ranges are {offset, count} with count = end - offset).
function ranges(pr) {
  return (pr.pageRange || []).map((r) => r.start !== undefined ? r
    : { start: r.offset, end: r.offset + r.count });
}

async function blobDigest(container, name, snap, length) {
  let bc = svc.getContainerClient(container).getPageBlobClient(name);
  if (snap && snap !== "-") bc = bc.withSnapshot(snap);
  const pr = await bc.getPageRanges(0, length);
  const blocks = new Set();
  for (const r of ranges(pr))
    for (let b = Math.floor(r.start / BLK); b * BLK <= r.end && b * BLK < length; b++) blocks.add(b);
  const list = [...blocks].sort((a, b) => a - b);
  const h = crypto.createHash("sha256");
  for (let i = 0; i < list.length;) {
    let j = i;
    while (j + 1 < list.length && list[j + 1] === list[j] + 1 && j - i < 127) j++;
    const off = list[i] * BLK, n = Math.min((list[j] + 1) * BLK, length) - off;
    const buf = await bc.downloadToBuffer(off, n);
    for (let k = i; k <= j; k++)
      digestBlock(h, list[k], buf.subarray((list[k] - list[i]) * BLK, Math.min((list[k] - list[i] + 1) * BLK, n)));
    i = j + 1;
  }
  return h.digest("hex");
}

// The local side reads only the data extents of a (sparse) raw file, as
// qemu-img map reports them; holes are zeros.
function fileDigest(file, length) {
  const map = JSON.parse(require("child_process").execFileSync(
    "qemu-img", ["map", "-f", "raw", "--output=json", file], { maxBuffer: 1 << 28 }));
  const blocks = new Set();
  for (const e of map)
    if (e.data)
      for (let b = Math.floor(e.start / BLK); b * BLK < e.start + e.length && b * BLK < length; b++)
        blocks.add(b);
  const fd = fs.openSync(file, "r");
  const h = crypto.createHash("sha256");
  const buf = Buffer.alloc(BLK);
  for (const b of [...blocks].sort((x, y) => x - y)) {
    const full = Math.min(BLK, length - b * BLK);
    const n = fs.readSync(fd, buf, 0, full, b * BLK);
    if (n < full) buf.fill(0, n, full);
    digestBlock(h, b, buf.subarray(0, full));
  }
  fs.closeSync(fd);
  return h.digest("hex");
}

async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  if (cmd === "digest") {
    console.log(await blobDigest(a[0], a[1], a[2], Number(a[3])));
  } else if (cmd === "filedigest") {
    console.log(fileDigest(a[0], Number(a[1])));
  } else if (cmd === "download") {
    // Sparse: a file of the blob's size with only its listed pages written.
    const [container, name, file, snap] = a;
    let bc = svc.getContainerClient(container).getPageBlobClient(name);
    if (snap && snap !== "-") bc = bc.withSnapshot(snap);
    const size = (await bc.getProperties()).contentLength;
    const fd = fs.openSync(file, "w");
    fs.ftruncateSync(fd, size);
    const pr = await bc.getPageRanges(0, size);
    for (const r of ranges(pr))
      for (let off = r.start; off <= r.end; off += 8 << 20) {
        const n = Math.min(8 << 20, r.end + 1 - off);
        const buf = await bc.downloadToBuffer(off, n);
        fs.writeSync(fd, buf, 0, buf.length, off);
      }
    fs.closeSync(fd);
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
  } else if (cmd === "snapshot") {
    const r = await svc.getContainerClient(a[0]).getBlobClient(a[1]).createSnapshot();
    console.log(r.snapshot);
  } else if (cmd === "delete") {
    await svc.getContainerClient(a[0]).getBlobClient(a[1])
      .delete({ deleteSnapshots: "include" });
  } else if (cmd === "cat") {
    const buf = await svc.getContainerClient(a[0]).getBlobClient(a[1])
      .downloadToBuffer();
    process.stdout.write(buf);
  } else if (cmd === "break-lease") {
    await svc.getContainerClient(a[0]).getBlobClient(a[1])
      .getBlobLeaseClient().breakLease(0);
  } else if (cmd === "sas-url") {
    const m = parseCs();
    const cred = new StorageSharedKeyCredential(m.AccountName, m.AccountKey);
    // BLOB "-": a container SAS (sr=c) for the container URL.
    const cont = a[1] === "-";
    const url = cont ? svc.getContainerClient(a[0]).url
      : svc.getContainerClient(a[0]).getBlobClient(a[1]).url;
    const q = generateBlobSASQueryParameters({
      containerName: a[0], blobName: cont ? undefined : a[1],
      permissions: (cont ? ContainerSASPermissions : BlobSASPermissions).parse(a[2]),
      expiresOn: new Date(Date.now() + Number(a[3] || 3600) * 1000),
      version: "2022-11-02",
    }, cred).toString();
    console.log(url + "?" + q);
  } else if (cmd === "copy-isolation") {
    // Azure copies a blob's data: a write into a copy is seen in the
    // copy only, never in the blob or snapshot it was copied from.
    const cc = svc.getContainerClient(a[0]);
    await cc.createIfNotExists();
    const base = cc.getPageBlobClient("isolation-base.vhd");
    await base.create(1 << 20);
    await base.uploadPages(Buffer.alloc(65536, 0x41), 0, 65536);
    const snap = base.withSnapshot((await base.createSnapshot()).snapshot);
    const copies = { copy_of_snapshot: snap, copy_of_base: base };
    const out = {};
    for (const [name, src] of Object.entries(copies)) {
      const c = cc.getPageBlobClient(name + ".vhd");
      await (await c.beginCopyFromURL(src.url)).pollUntilDone();
      await c.uploadPages(Buffer.alloc(4096, 0x42), 0, 4096);
      out[name] = (await c.downloadToBuffer(0, 4)).toString();
    }
    out.snapshot = (await snap.downloadToBuffer(0, 4)).toString();
    out.base = (await base.downloadToBuffer(0, 4)).toString();
    console.log(JSON.stringify(out));
  } else if (cmd === "delete-container") {
    await svc.getContainerClient(a[0]).deleteIfExists();
  } else if (cmd === "upload-pages") {
    // The SDK peer for the benchmark: 4 MiB Put Pages (Content-MD5) of
    // the non-zero chunks of the raw FILE, PARALLEL in flight.  Like
    // azprep it skips holes (qemu-img map) and all-zero chunks; the SDK
    // has no page-blob uploader of its own.
    const [file, container, name, par] = a;
    const size = fs.statSync(file).size;
    const vsize = Math.ceil(size / 1048576) * 1048576;
    const cc = svc.getContainerClient(container);
    await cc.createIfNotExists();
    const pb = cc.getPageBlobClient(name);
    await pb.create(vsize + 512);
    const chunk = 4 << 20;
    const map = JSON.parse(require("child_process").execFileSync(
      "qemu-img", ["map", "-f", "raw", "--output=json", file], { maxBuffer: 1 << 28 }));
    const chunks = new Set();
    for (const e of map)
      if (e.data)
        for (let c = Math.floor(e.start / chunk); c * chunk < e.start + e.length; c++) chunks.add(c);
    const todo = [...chunks].sort((x, y) => x - y);
    const fd = fs.openSync(file, "r");
    const zero = Buffer.alloc(chunk);
    let next = 0, sent = 0;
    async function worker() {
      const buf = Buffer.alloc(chunk);
      while (next < todo.length) {
        const off = todo[next++] * chunk;
        const n = fs.readSync(fd, buf, 0, Math.min(chunk, size - off), off);
        const len = Math.ceil(n / 512) * 512;
        if (len > n) buf.fill(0, n, len);
        const body = buf.subarray(0, len);
        if (body.equals(zero.subarray(0, len))) continue;
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
