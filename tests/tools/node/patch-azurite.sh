#!/usr/bin/env bash
# Make the installed Azurite copy a page blob's range list instead of
# sharing it with the source blob: in Azurite 3.35 a write into a copy
# also changes the blob or snapshot it was copied from (Azure copies
# the data).  Idempotent; run by .ci/install-deps after npm install.
# tests/test-azurite-fidelity.sh checks the result.
set -euo pipefail
f="$(dirname "$0")/node_modules/azurite/dist/src/blob/persistence/LokiBlobMetadataStore.js"
[ -f "$f" ] || { echo "patch-azurite: no $f" >&2; exit 1; }
sed -i 's/pageRangesInOrder: sourceBlob\.pageRangesInOrder,/pageRangesInOrder: sourceBlob.pageRangesInOrder \&\& sourceBlob.pageRangesInOrder.slice(),/' "$f"
