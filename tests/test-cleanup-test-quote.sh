#!/usr/bin/env bash
# cleanup-test prints az commands for a shell: the --resource-group the
# user typed is one quoted word in them, never shell syntax.  No
# appliance: a replicated job with no test copy is enough.
source tests/lib/functions.sh
source tests/lib/azurite.sh
requires qemu-img
azurite_start

small_source "$T/vm.raw"
expect_exit 0 "$AZPREP" replicate --container vms --name q \
  --state "$T/state" "$T/vm.raw"
expect_exit 0 "$AZPREP" cleanup-test --state "$T/state" \
  --resource-group 'rg; touch /tmp/pwned-$(id -u)' q
assert_contains "$T/out" "az vm delete --resource-group 'rg; touch /tmp/pwned-\\\$\\(id -u\\)' --name q-Test --yes"
assert_not_contains "$T/out" '--resource-group rg;'
