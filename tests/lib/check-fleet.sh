# Sourced by the tests of fleet checks over several machines (after
# tests/lib/check-desc.sh): a fleet that needs no appliance.
#
#   shard_fleet         make_fleet, and $T/shards.json: six VMs, each
#                       found not ready or not checkable from its disks
#                       and descriptor alone (no appliance launch)
shard_fleet () {
  make_fleet
  cat > "$T/shards.json" <<EOT
[ { "name": "broken", "disks": ["trunc.qcow2"], "size": "Standard_Nope" },
  { "name": "fine", "disks": ["trunc.qcow2"] },
  { "name": "vm-trunc", "disks": ["trunc.qcow2"] },
  { "name": "vm-missing", "disks": ["missing1.img", "missing2.img"] },
  { "name": "vm-<script>&\"x\"", "disks": ["nope.img"] },
  { "name": "efi", "ovf": "$PWD/$D/efi.ovf" } ]
EOT
}
