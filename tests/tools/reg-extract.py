#!/usr/bin/env python3
"""Keep some keys of a hivexregedit --export:
reg-extract.py [--match REGEX] IN.reg KEY...

A KEY ending in '\\*' keeps that key and every key below it; any other
KEY keeps that key alone.  With --match, a kept key keeps only the
values whose data (a string decoded from hex(1)/hex(2)) matches REGEX,
in any case: e.g. the few firewall rules of one group out of hundreds.  The parents of every kept key are written as
empty sections (hivexregedit --merge does not create parents).  Used to
derive the small fixtures of tests/data/windows from real hives (see the
README there); the kept sections are copied as exported, never edited.
"""
import re
import sys


def text_of(line):
    """The data of one value line, decoded when it is a string."""
    data = line.split("=", 1)[1].strip() if "=" in line else ""
    m = re.match(r"hex\(([12])\):(.*)", data)
    if m:
        raw = bytes(int(b, 16) for b in m.group(2).split(",") if b)
        return raw.decode("utf-16-le", errors="replace")
    return data


def sections(text):
    head, cur = None, []
    for line in text.splitlines(keepends=True):
        if line.startswith("[") and line.rstrip("\r\n").endswith("]"):
            if head is not None:
                yield head, cur
            head, cur = line.rstrip("\r\n")[1:-1], []
        elif head is not None:
            cur.append(line)
    if head is not None:
        yield head, cur


def main():
    args = sys.argv[1:]
    match = None
    if args[:1] == ["--match"]:
        match = re.compile(args[1], re.I)
        args = args[2:]
    src = open(args[0], encoding="utf-8", errors="surrogateescape").read()
    exact = {k.lower() for k in args[1:] if not k.endswith("\\*")}
    trees = [k[:-2].lower() for k in args[1:] if k.endswith("\\*")]
    kept, order = {}, []
    for head, body in sections(src):
        h = head.lower()
        if h in exact or any(h == t or h.startswith(t + "\\") for t in trees):
            if match:
                body = [b for b in body if match.search(text_of(b))]
            kept[h] = (head, body)
            order.append(h)
    out = sys.stdout
    out.write("Windows Registry Editor Version 5.00\n\n")
    done = set()
    for h in order:
        head, body = kept[h]
        parts = head.split("\\")
        for i in range(1, len(parts)):
            p = "\\".join(parts[:i])
            if p and p.lower() not in done and p.lower() not in kept:
                out.write("[%s]\n\n" % p)
                done.add(p.lower())
        done.add(h)
        out.write("[%s]\n" % head)
        out.write("".join(l for l in body if l.strip()) + "\n")


main()
