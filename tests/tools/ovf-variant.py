#!/usr/bin/env python3
"""Write a variant of an OVF descriptor for tests/test-check-ovf-vapp.sh:
the same document spelled differently, or with a part removed.

  ovf-variant.py IN OUT VARIANT

VARIANT:
  prefixes     every namespace prefix renamed (ovf: -> n0:, ...)
  default-ns   the OVF namespace as the default one (no ovf: on elements)
  reorder      every element's children in reverse order
  no-hardware  the last VirtualSystem's hardware section removed
  no-disks     the last VirtualSystem's disk items removed
  no-optional  NetworkSection, StartupSection, AnnotationSection and
               every section not needed removed
  nested       the VirtualSystems wrapped in two more collections
  collection09 (OVF 0.9) the Content duplicated (ids ...-a, ...-b) inside
               a <Content xsi:type="ovf:VirtualSystemCollection_Type">
  dup-id       the last VirtualSystem given the first one's id
"""
import copy
import sys
import xml.etree.ElementTree as ET

XSI = "http://www.w3.org/2001/XMLSchema-instance"
src, out, variant = sys.argv[1:4]
text = open(src, encoding="utf-8").read()

# Keep the document's own prefixes (xsi:type values name "ovf:").
prefixes = {}
for _ev, (p, uri) in ET.iterparse(src, events=("start-ns",)):
    prefixes.setdefault(uri, p)
ovf_ns = [u for u, p in prefixes.items() if p == "ovf"][0]


def local(e):
    return e.tag.split("}")[-1]


def typed(e):
    t = e.get("{%s}type" % XSI, "")
    return t.split(":")[-1]


def is_vs(e):
    return local(e) == "VirtualSystem" or typed(e) == "VirtualSystem_Type"


def write(tree, names):
    for uri, p in names.items():
        ET.register_namespace(p, uri)
    tree.write(out, encoding="utf-8", xml_declaration=True)


tree = ET.ElementTree(ET.fromstring(text))
root = tree.getroot()
names = dict(prefixes)
systems = [e for e in root.iter() if is_vs(e)]


def parent_of(child):
    return next(p for p in root.iter() if child in list(p))


if variant == "prefixes":
    # Every prefix, xsi: and ovf: too (OVF 0.9's xsi:type values keep
    # saying "ovf:", as real files with other prefixes do).
    names = {u: "n%d" % i for i, u in enumerate(prefixes)}
elif variant == "default-ns":
    names[ovf_ns] = ""
elif variant == "reorder":
    for e in root.iter():
        kids = list(e)
        for k in kids:
            e.remove(k)
        for k in reversed(kids):
            e.append(k)
elif variant in ("no-hardware", "no-disks"):
    vs = systems[-1]
    for hw in [e for e in vs if local(e) == "VirtualHardwareSection"
               or typed(e) == "VirtualHardwareSection_Type"]:
        if variant == "no-hardware":
            vs.remove(hw)
            continue
        for item in list(hw):
            rt = [c for c in item if local(c) == "ResourceType"]
            if rt and rt[0].text.strip() in ("17", "31"):
                hw.remove(item)
elif variant == "no-optional":
    drop = {"NetworkSection", "StartupSection", "AnnotationSection",
            "ProductSection", "NetworkConfigSection",
            "GuestCustomizationSection", "EulaSection"}
    for e in list(root.iter()):
        for k in list(e):
            if local(k) in drop or typed(k)[:-5] in drop:
                e.remove(k)
elif variant == "nested":
    for vs in systems:
        p = parent_of(vs)
        i = list(p).index(vs)
        p.remove(vs)
        outer = ET.Element("{%s}VirtualSystemCollection" % ovf_ns,
                           {"{%s}id" % ovf_ns: "outer-" + vs.get(
                               "{%s}id" % ovf_ns, "x")})
        inner = ET.SubElement(outer, "{%s}VirtualSystemCollection" % ovf_ns,
                              {"{%s}id" % ovf_ns: "inner"})
        inner.append(vs)
        p.insert(i, outer)
elif variant == "collection09":
    vs = systems[0]
    p = parent_of(vs)
    i = list(p).index(vs)
    p.remove(vs)
    coll = ET.Element(vs.tag, {"{%s}type" % XSI:
                               "ovf:VirtualSystemCollection_Type",
                               "{%s}id" % ovf_ns: "coll"})
    for suffix in ("a", "b"):
        c = copy.deepcopy(vs)
        c.set("{%s}id" % ovf_ns, c.get("{%s}id" % ovf_ns) + "-" + suffix)
        coll.append(c)
    p.insert(i, coll)
elif variant == "dup-id":
    systems[-1].set("{%s}id" % ovf_ns, systems[0].get("{%s}id" % ovf_ns))
else:
    sys.exit("unknown variant " + variant)
write(tree, names)
