#!/usr/bin/env python3
"""Write a tar archive header by header, hostile ones included, for the
OVA tests (tests/test-check-ova-tar.sh).  Python's tarfile cannot write
malformed records, so each header is built here.

  mktar.py OUT ENTRY...

ENTRY is KEY=VALUE pairs joined by commas:
  name=N        the header's name field (default "f")
  type=T        the type flag (default "0"; "x" pax, "L" GNU long name)
  data=TEXT     the member's bytes (\\n and \\xHH escapes)
  file=PATH     the member's bytes, from a file
  size=N        the size field instead of len(data) (octal)
  b256=N        the size field in GNU base-256 instead
  rawsize=HEX   the size field's 12 bytes, as hex
  sum=bad       a wrong checksum
  pad=no        no padding after the data (an archive cut short)
  header=only   the header alone, no data
The archive ends with two zero blocks unless the last entry is "end=no".
"""
import sys


def unescape(s):
    return s.encode("latin-1").decode("unicode_escape").encode("latin-1")


def header(name, typ, size_field, bad_sum):
    h = bytearray(512)
    h[0:len(name)] = name[:100]
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = size_field
    h[136:148] = b"00000000000\0"
    h[156] = ord(typ) if typ else 0
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b" " * 8
    s = sum(h) + (1 if bad_sum else 0)
    h[148:156] = b"%06o\0 " % s
    return bytes(h)


def entry(spec):
    kv = {}
    for part in spec.split(","):
        k, _, v = part.partition("=")
        kv[k] = v
    if "file" in kv:
        with open(kv["file"], "rb") as f:
            data = f.read()
    else:
        data = unescape(kv.get("data", ""))
    if "rawsize" in kv:
        size = bytes.fromhex(kv["rawsize"])
    elif "b256" in kv:
        size = b"\x80" + int(kv["b256"]).to_bytes(11, "big")
    else:
        n = int(kv["size"]) if "size" in kv else len(data)
        size = b"%011o\0" % n
    out = header(kv.get("name", "f").encode(), kv.get("type", "0"), size,
                 kv.get("sum") == "bad")
    if kv.get("header") == "only":
        return out, kv
    out += data
    if kv.get("pad") != "no" and len(data) % 512:
        out += bytes(512 - len(data) % 512)
    return out, kv


def main():
    out = sys.argv[1]
    blob = b""
    last = {}
    for spec in sys.argv[2:]:
        b, last = entry(spec)
        blob += b
    if last.get("end") != "no":
        blob += bytes(1024)
    with open(out, "wb") as f:
        f.write(blob)


main()
