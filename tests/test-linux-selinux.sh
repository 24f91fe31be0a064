#!/usr/bin/env bash
# linux-selinux, the relabel path: with an appliance that has setfiles
# (this machine's libguestfs path plus policycoreutils, as Fedora's and
# RHEL's appliances have it), fix relabels the phony RHEL 9 guest with
# its own file_contexts, including the files it wrote, and creates no
# /.autorelabel.  check says so first.  (The /.autorelabel path, with the
# default Debian appliance, is asserted by test-linux-phony-rhel.)
source tests/lib/functions.sh
requires guestfish setfiles
img=$(require_image phony-rhel9.img)
sys=$(guestfish get-path)
[ -d "$sys/supermin.d" ] || skip "$sys: no supermin.d (not a supermin appliance)"
mkdir -p "$T/path"
cp -a "$sys/supermin.d" "$T/path/"
echo policycoreutils > "$T/path/supermin.d/packages-selinux"
export LIBGUESTFS_PATH=$T/path
# Its own cache: the appliance differs from the default one.
export LIBGUESTFS_CACHEDIR=$BUILD/appliance-cache-selinux
mkdir -p "$LIBGUESTFS_CACHEDIR"
cp --sparse=always "$img" "$T/g.img"

# Not ready as is (blockers that fix repairs), ready after fix.
expect_exit 3 "$AZPREP" check --json "$T/g.img"
[ "$(json_get "$T/out" 'd.verdict + " " + d.ready_after_fix')" = \
  "not-ready true" ] || fail "check: not ready as is, ready after fix"
assert_contains "$T/out" 'relabel the guest with its policy \(/etc/selinux/targeted/contexts/files/file_contexts\)'
expect_exit 0 "$AZPREP" fix --report "$T/fix.json" "$T/g.img"
assert_contains "$T/out" '^changed: \[linux-selinux\] relabel /$'
assert_contains "$T/err" 'relabelling the guest with /etc/selinux/targeted'
assert_not_contains "$T/err" 'setfiles failed'

# Read back with the default appliance.
unset LIBGUESTFS_PATH LIBGUESTFS_CACHEDIR
guestfish --ro -a "$T/g.img" > "$T/rb" <<'EOF'
run
mount-ro /dev/sda1 /
echo == autorelabel
is-file /.autorelabel
echo == fstab
lgetxattr /etc/fstab security.selinux
echo
echo == dracut.conf.d
lgetxattr /etc/dracut.conf.d/90-azure-hyperv.conf security.selinux
echo
echo == keyfile
lgetxattr /etc/NetworkManager/system-connections/ens192.nmconnection security.selinux
echo
echo == grub
lgetxattr /boot/grub2/grub.cfg security.selinux
echo
echo == usr
lgetxattr /usr/bin/dracut security.selinux
echo
EOF
tr -d '\0' < "$T/rb" > "$T/rb.txt"
assert_contains "$T/rb.txt" '^false$' "no /.autorelabel"
for pair in fstab:etc_t dracut.conf.d:etc_t keyfile:NetworkManager_etc_t \
            grub:boot_t usr:usr_t; do
  grep -A1 "^== ${pair%%:*}\$" "$T/rb.txt" |
    grep -q "^system_u:object_r:${pair#*:}:s0\$" ||
    fail "${pair%%:*}: not labelled ${pair#*:}: $(cat "$T/rb.txt")"
done
