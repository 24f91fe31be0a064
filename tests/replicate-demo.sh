#!/usr/bin/env bash
# Replicate a disk image to a local Azurite in one command (make
# replicate-demo DISK=...): starts Azurite in memory on a free port,
# runs the initial copy and one delta, lists the blob and its recovery
# points with the Azure SDK, then stops Azurite.
set -euo pipefail
cd "$(dirname "$0")/.."
disk=${1:?usage: tests/replicate-demo.sh DISK}
source tests/lib/functions.sh
source tests/lib/azurite.sh
azurite_start
echo "Azurite on $AZURITE_ENDPOINT (development account)"
"$AZPREP" replicate --container vms --name demo --state "$T/state" \
  --cycles 2 --interval 0 "$disk"
echo "Blobs in container vms:"
blobtool list vms | node -e '
  let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
    for (const b of JSON.parse(s))
      console.log("  " + b.name + (b.snapshot ? "  recovery point " + b.snapshot
        : "  " + b.size + " bytes, cycle " + b.metadata.cycle));
  });'
