#!/usr/bin/env bash
# azprep check --ovf on malformed descriptors (cut short, entities, a
# disk or file not declared, an href out of its folder, too large, not
# an OVF): one clear error each, exit 1, nothing else.  No appliance.
source tests/lib/functions.sh
source tests/lib/check-desc.sh

bad_ovf "$D/truncated.ovf" "truncated.ovf: not well-formed XML"
bad_ovf "$D/billion-laughs.ovf" "billion-laughs.ovf: has a DOCTYPE or ENTITY"
bad_ovf "$D/external-entity.ovf" "external-entity.ovf: has a DOCTYPE"
bad_ovf "$D/missing-disk.ovf" 'refers to disk "vmdisk9", which is not in the DiskSection'
bad_ovf "$D/missing-file.ovf" 'refers to file "file7", which is not in References'
sed 's|ovf:href="@DISK@"|ovf:href="../../etc/passwd"|' "$D/template.ovf" > "$T/escape.ovf"
bad_ovf "$T/escape.ovf" 'unsafe href "../../etc/passwd"'
head -c $((5 * 1024 * 1024)) /dev/zero > "$T/huge.ovf"
bad_ovf "$T/huge.ovf" "larger than"
echo '<Envelope><VirtualSystem/></Envelope' > "$T/notxml.ovf"
bad_ovf "$T/notxml.ovf" "not well-formed XML"
echo '<html/>' > "$T/html.ovf"
bad_ovf "$T/html.ovf" "not an OVF descriptor"
