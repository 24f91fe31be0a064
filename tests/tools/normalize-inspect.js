// Normalize azprep inspect --json output for comparison with the
// expected files: paths become file names, and what a rebuild of the
// same recipe may change (kernel package versions, disk sizes of
// sparse images, the appliance's device order) is replaced by markers.
'use strict';
const fs = require('fs');
const d = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const path = require('path');

function walk(v) {
  if (Array.isArray(v)) return v.map(walk);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v)) o[k] = walk(v[k]);
    return o;
  }
  if (typeof v === 'string')
    return v.replace(/\d+\.\d+\.\d+-\d+-(amd64|cloud-amd64)/g, '<kver>');
  return v;
}
const out = walk(d);
for (const disk of out.disks || []) disk.path = path.basename(disk.path);
// The phony Windows images get random NTFS and FAT serial numbers.
for (const fs of out.filesystems || []) {
  if (fs.type === 'ntfs' || (out.os && out.os.type === 'windows' &&
                             fs.type === 'vfat'))
    fs.uuid = '<serial>';
}
// Debian's point release follows the mirror on the day the image is built.
if (out.os && out.os.distro === 'debian') {
  out.os.minor = '<point release>';
  out.os.product_name = String(out.os.major) + '.<point release>';
}
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
