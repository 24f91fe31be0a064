# Sourced by the tests of azprep check without an appliance (VM
# descriptors, the size table, fleet files, the reports), after
# tests/lib/functions.sh.
#
#   D                   the descriptors in tests/data/check
#   json EXPR           json_get on $T/out (the last expect_exit's stdout)
#   bad_ovf FILE REGEX  check --ovf FILE: exit 1, REGEX on stderr,
#                       COULD NOT CHECK on stdout
#   bad_desc OPTION NAME TEXT MESSAGE
#                       check OPTION $T/NAME, the file holding TEXT (with
#                       printf's escapes): exit 1, "NAME: MESSAGE" on
#                       stderr
#   make_ova            $T/vm.ova: an OVF and a truncated (unreadable)
#                       qcow2 member; its parts in $T/ova
#   make_fleet          $T/trunc.qcow2 (a truncated qcow2) and
#                       $T/fleet.txt: three VMs that cannot be read
requires node
D=tests/data/check

json () { json_get "$T/out" "$1"; }

bad_ovf () {
  expect_exit 1 "$AZPREP" check --ovf "$1"
  assert_contains "$T/err" "$2"
  assert_contains "$T/out" "COULD NOT CHECK"
}

bad_desc () {
  printf '%b\n' "$3" > "$T/$2"
  expect_exit 1 "$AZPREP" check "$1" "$T/$2"
  assert_contains "$T/err" "$2: $4"
}

make_ova () {
  mkdir "$T/ova"
  sed -e 's/@DISK@/disk1.qcow2/' -e 's/@FIRMWARE@/efi/' "$D/template.ovf" \
    > "$T/ova/vm.ovf"
  qemu-img create -q -f qcow2 "$T/ova/full.qcow2" 64M
  head -c 100 "$T/ova/full.qcow2" > "$T/ova/disk1.qcow2"
  (cd "$T/ova" && tar -cf ../vm.ova vm.ovf disk1.qcow2)
}

make_fleet () {
  qemu-img create -q -f qcow2 "$T/full.qcow2" 64M
  head -c 100 "$T/full.qcow2" > "$T/trunc.qcow2"
  cat > "$T/fleet.txt" <<EOT
# name disks...
vm-trunc trunc.qcow2
vm-missing missing1.img missing2.img
vm-<script>&"x" nope.img
EOT
}
