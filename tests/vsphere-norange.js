// A vCenter in front of vcsim whose datastore endpoint ignores Range:
// SOAP (/sdk) is passed through to the simulator; GET /folder/... answers
// 200 with a 128 MiB body whatever Range asks, and records in COUNTFILE
// how many body bytes it managed to send before the client hung up.
// Usage: node vsphere-norange.js UPSTREAM_BASE COUNTFILE  (prints the port)
'use strict';
const http = require('http');
const fs = require('fs');
const upstream = new URL(process.argv[2]);
const countFile = process.argv[3];
const SIZE = 128 * 1024 * 1024;
const chunk = Buffer.alloc(65536);

const server = http.createServer((req, res) => {
  if (!req.url.startsWith('/folder/')) {
    const up = http.request({
      host: upstream.hostname, port: upstream.port, path: req.url,
      method: req.method, headers: req.headers,
    }, (ur) => { res.writeHead(ur.statusCode, ur.headers); ur.pipe(res); });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
    return;
  }
  let sent = 0;
  res.writeHead(200, { 'Content-Length': SIZE,
                       'Content-Type': 'application/octet-stream' });
  if (req.method === 'HEAD') { res.end(); return; }
  const pump = () => {
    while (sent < SIZE) {
      sent += chunk.length;
      if (!res.write(chunk)) { res.once('drain', pump); return; }
    }
    res.end();
  };
  res.on('close', () => {
    const prev = fs.existsSync(countFile) ?
      Number(fs.readFileSync(countFile, 'utf8')) : 0;
    fs.writeFileSync(countFile, String(prev + sent));
  });
  pump();
});
server.listen(0, '127.0.0.1', () => {
  console.log(server.address().port);
});
