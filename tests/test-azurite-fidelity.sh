#!/usr/bin/env bash
# The Azurite the tests run against behaves like Azure where azprep's
# tests depend on it: a copied page blob has its own data.  Azurite
# 3.35 gives a copy the range list of its source (LokiBlobMetadataStore
# startCopyFromURL), so a write into the copy (test-migrate's
# hydration) also changed the recovery point it was copied from, and a
# second test-migrate of that point found the guest already fixed.
# .ci/install-deps patches it (tests/tools/node/patch-azurite.sh); this
# test fails on an unpatched Azurite.  No appliance.
source tests/lib/functions.sh
requires node
source tests/lib/azurite.sh
azurite_start
out=$(blobtool copy-isolation iso) || fail "blobtool copy-isolation failed"
echo "$out"
[ "$out" = '{"copy_of_snapshot":"BBBB","copy_of_base":"BBBB","snapshot":"AAAA","base":"AAAA"}' ] ||
  fail "a write into a copy reached the blob or snapshot it was copied from: run tests/tools/node/patch-azurite.sh (.ci/install-deps does)"
