// Independent helper for the migration tests (@azure/storage-blob), beside
// blobtool.js.  Credentials from AZURE_STORAGE_CONNECTION_STRING.
//
//   migtool.js put FILE CONTAINER BLOB     page blob of exactly FILE's size
//                                          (a multiple of 512), non-zero
//                                          4 MiB chunks uploaded
//   migtool.js snapshot CONTAINER BLOB     prints the snapshot id
//   migtool.js sha256 CONTAINER BLOB [SNAPSHOT]   of the contents
//   migtool.js download CONTAINER BLOB FILE
//   migtool.js props CONTAINER BLOB        JSON: size, metadata, lease
//   migtool.js tail CONTAINER BLOB N       hex of the last N bytes
//   migtool.js names CONTAINER             blob names (and @snapshot), one a line
//   migtool.js meta CONTAINER BLOB NAME    a metadata value ("" if none)
//   migtool.js break-lease CONTAINER BLOB  break its lease now
//   migtool.js snapshot-isolation CONTAINER  "isolated" if writing to a
//                                          copy of a snapshot leaves the
//                                          snapshot as it was, else
//                                          "shared" (SDK only; its probe
//                                          blobs are deleted)
"use strict";
const fs = require("fs");
const crypto = require("crypto");
const { BlobServiceClient } = require("@azure/storage-blob");

const cs = process.env.AZURE_STORAGE_CONNECTION_STRING;
if (!cs) { console.error("migtool: AZURE_STORAGE_CONNECTION_STRING unset"); process.exit(2); }
const svc = BlobServiceClient.fromConnectionString(cs);

async function main() {
  const [cmd, ...a] = process.argv.slice(2);
  if (cmd === "put") {
    const [file, container, name] = a;
    const size = fs.statSync(file).size;
    if (size % 512) throw new Error(`${file}: size ${size} is not a multiple of 512`);
    const cc = svc.getContainerClient(container);
    await cc.createIfNotExists();
    const pb = cc.getPageBlobClient(name);
    await pb.create(size);
    const fd = fs.openSync(file, "r");
    const chunk = 4 << 20, buf = Buffer.alloc(chunk);
    for (let off = 0; off < size; off += chunk) {
      const n = fs.readSync(fd, buf, 0, Math.min(chunk, size - off), off);
      if (buf.subarray(0, n).every((b) => b === 0)) continue;
      await pb.uploadPages(Buffer.from(buf.subarray(0, n)), off, n);
    }
    fs.closeSync(fd);
  } else if (cmd === "sha256" || cmd === "download") {
    // Only the pages the blob holds (Get Page Ranges) are read: the rest
    // reads as zeros by definition.  The digest covers the size and
    // every non-zero range with its offset, so equal digests mean equal
    // contents.
    let bc = svc.getContainerClient(a[0]).getPageBlobClient(a[1]);
    if (cmd === "sha256" && a[2]) bc = bc.withSnapshot(a[2]);
    const size = (await bc.getProperties()).contentLength;
    const pr = await bc.getPageRanges(0, size);
    const h = crypto.createHash("sha256");
    h.update(`size ${size}\n`);
    const out = cmd === "download" ? fs.openSync(a[2], "w") : null;
    const step = 8 << 20;
    for (const r of pr.pageRange || []) {
      // The SDK gives {offset, count} with count = last byte - offset.
      const start = r.start !== undefined ? r.start : r.offset;
      const last = r.end !== undefined ? r.end : r.offset + r.count;
      for (let off = start; off <= last; off += step) {
        const n = Math.min(step, last + 1 - off);
        const buf = await bc.downloadToBuffer(off, n);
        if (out !== null) { fs.writeSync(out, buf, 0, buf.length, off); continue; }
        if (buf.every((b) => b === 0)) continue;
        h.update(`${off} ${n}\n`);
        h.update(buf);
      }
    }
    if (out === null) console.log(h.digest("hex"));
    else { fs.ftruncateSync(out, size); fs.closeSync(out); }
  } else if (cmd === "props") {
    const p = await svc.getContainerClient(a[0]).getBlobClient(a[1]).getProperties();
    console.log(JSON.stringify({ size: p.contentLength, metadata: p.metadata,
      leaseState: p.leaseState, leaseStatus: p.leaseStatus, etag: p.etag }));
  } else if (cmd === "snapshot") {
    const r = await svc.getContainerClient(a[0]).getBlobClient(a[1]).createSnapshot();
    console.log(r.snapshot);
  } else if (cmd === "tail") {
    const bc = svc.getContainerClient(a[0]).getBlobClient(a[1]);
    const p = await bc.getProperties();
    const n = Number(a[2]);
    const buf = await bc.downloadToBuffer(p.contentLength - n, n);
    console.log(buf.toString("hex"));
  } else if (cmd === "meta") {
    const p = await svc.getContainerClient(a[0]).getBlobClient(a[1]).getProperties();
    console.log((p.metadata || {})[a[2]] || "");
  } else if (cmd === "break-lease") {
    const bc = svc.getContainerClient(a[0]).getBlobClient(a[1]);
    await bc.getBlobLeaseClient().breakLease(0);
  } else if (cmd === "snapshot-isolation") {
    // Azurite 3 (up to 3.35 at least) copies a page blob's range list
    // by reference in Copy Blob (LokiBlobMetadataStore.startCopyFromURL:
    // pageRangesInOrder: sourceBlob.pageRangesInOrder), so Put Page on
    // the copy rewrites the source snapshot's ranges too.  Real storage
    // copies.  Probe it with the SDK alone.
    const cc = svc.getContainerClient(a[0]);
    await cc.createIfNotExists();
    const src = cc.getPageBlobClient("azprep-isolation-probe.vhd");
    const dst = cc.getPageBlobClient("azprep-isolation-probe-copy.vhd");
    await src.create(1024);
    await src.uploadPages(Buffer.alloc(1024, "b"), 0, 1024);
    const snap = (await src.createSnapshot()).snapshot;
    const ss = src.withSnapshot(snap);
    await dst.syncCopyFromURL(ss.url).catch(async () => {
      const p = await dst.beginCopyFromURL(ss.url);
      await p.pollUntilDone();
    });
    await dst.uploadPages(Buffer.alloc(512, "a"), 0, 512);
    const back = await ss.downloadToBuffer(0, 1024);
    await dst.delete();
    await src.delete({ deleteSnapshots: "include" });
    console.log(back.equals(Buffer.alloc(1024, "b")) ? "isolated" : "shared");
  } else if (cmd === "names") {
    for await (const b of svc.getContainerClient(a[0]).listBlobsFlat({ includeSnapshots: true }))
      console.log(b.snapshot ? `${b.name}@${b.snapshot}` : b.name);
  } else {
    console.error("migtool: unknown command " + cmd);
    process.exit(2);
  }
}
main().catch((e) => { console.error("migtool: " + (e.code || "") + " " + e.message); process.exit(1); });
