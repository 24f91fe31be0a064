#!/usr/bin/env python3
"""Keep some keys of a hivexregedit --export: reg-extract.py IN.reg KEY...

A KEY ending in '\\*' keeps that key and every key below it; any other
KEY keeps that key alone.  The parents of every kept key are written as
empty sections (hivexregedit --merge does not create parents).  Used to
derive the small fixtures of tests/data/windows from real hives (see the
README there); the kept sections are copied as exported, never edited.
"""
import sys


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
    src = open(sys.argv[1], encoding="utf-8", errors="surrogateescape").read()
    exact = {k.lower() for k in sys.argv[2:] if not k.endswith("\\*")}
    trees = [k[:-2].lower() for k in sys.argv[2:] if k.endswith("\\*")]
    kept, order = {}, []
    for head, body in sections(src):
        h = head.lower()
        if h in exact or any(h == t or h.startswith(t + "\\") for t in trees):
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
