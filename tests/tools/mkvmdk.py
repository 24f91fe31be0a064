#!/usr/bin/env python3
"""Write a sparse VMDK header (KDMV) with an embedded descriptor, for
the tests of OVA members that would make qemu read other files
(tests/test-check-ova-backing.sh).

  mkvmdk.py OUT EXTENT CAPACITY [footer] [parent]

EXTENT is the embedded descriptor's FLAT extent file; CAPACITY the
header's capacity in sectors (0: qemu takes the extents from the
descriptor).  "footer": the header says its grain directory is at the
end, and a stream footer with capacity 0 ends the file.  "parent": the
descriptor names a parent disk.
"""
import struct
import sys

out, extent, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
opts = sys.argv[4:]
desc = ('# Disk DescriptorFile\nversion=1\nCID=fffffffe\n'
        'parentCID=ffffffff\ncreateType="monolithicFlat"\n')
if "parent" in opts:
    desc += 'parentFileNameHint="%s"\n' % extent
desc += '\nRW 2048 FLAT "%s" 0\n' % extent
desc = desc.encode()
desc += bytes(1024 - len(desc))


def header(capacity, gd):
    h = b"KDMV" + struct.pack("<IIQQQQIQQQB", 1, 3, capacity, 128, 1, 2,
                              512, 0, gd, 0, 0)
    h += b"\n \r\n"
    return h + bytes(512 - len(h))


gd = 0xffffffffffffffff if "footer" in opts else 0
body = header(cap, gd) + desc + bytes(512 * 16)
if "footer" in opts:
    marker = struct.pack("<QII", 1, 0, 3) + bytes(496)
    body += marker + header(0, 0) + bytes(512)
with open(out, "wb") as f:
    f.write(body)
