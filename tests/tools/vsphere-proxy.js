// A proxy in front of vcsim, in one of two modes:
//  norange: SOAP (/sdk) is passed through to the simulator; GET /folder/...
//    answers 200 with a 128 MiB body whatever Range asks, and records in
//    COUNTFILE how many body bytes it managed to send before the client
//    hung up.
//  pass: everything is passed through; COUNTFILE gets one line per request:
//    "set COOKIE" for the session cookies the SDK sets, "folder COOKIE" for
//    the cookies datastore requests carry.
// Usage: node vsphere-proxy.js MODE UPSTREAM_BASE COUNTFILE (prints the port)
'use strict';
const http = require('http');
const fs = require('fs');
const mode = process.argv[2];
const upstream = new URL(process.argv[3]);
const countFile = process.argv[4];
const log = (line) => fs.appendFileSync(countFile, line + '\n');
const SIZE = 128 * 1024 * 1024;
const chunk = Buffer.alloc(65536);

const server = http.createServer((req, res) => {
  if (mode === 'pass' || !req.url.startsWith('/folder/')) {
    if (mode === 'pass' && req.url.startsWith('/folder/'))
      log('folder ' + (req.headers.cookie || ''));
    const up = http.request({
      host: upstream.hostname, port: upstream.port, path: req.url,
      method: req.method, headers: req.headers,
    }, (ur) => {
      if (mode === 'pass')
        for (const c of ur.headers['set-cookie'] || [])
          log('set ' + c.split(';')[0]);
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
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
