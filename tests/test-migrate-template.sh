#!/usr/bin/env bash
# azprep template: the ARM template and parameters file validate against
# the deploymentTemplate / deploymentParameters schemas' required
# structure (tests/tools/node/arm-validate.js: a hand-written structural
# validator, the schemas cannot be downloaded here) and say what the VM
# needs: Import disks from the blobs, osType, hyperVGeneration, the NIC's
# subnet, the -Test name, licenseType, the availability set.
source tests/lib/functions.sh
requires node

V="node tests/tools/node/arm-validate.js"
url=http://127.0.0.1:10000/devstoreaccount1/vms

# Linux, generation 1, two disks, a test VM.
expect_exit 0 $AZPREP template --name web01 --test --os linux \
  --size Standard_D2s_v5 --vnet test-vnet --subnet isolated \
  --location northeurope \
  --resource-group rg-mig --output-dir "$T" \
  "$url/web01-disk0-test.vhd" "$url/web01-disk1-test.vhd"
t=$T/web01-Test.template.json p=$T/web01-Test.parameters.json
assert_contains "$T/out" "az deployment group create --resource-group rg-mig --name azprep-web01-Test --template-file $t --parameters @$p\$"
$V "$t" "$p" || fail "linux template does not validate"
[ "$(json_get "$p" 'd.parameters.location.value')" = northeurope ] ||
  fail "the parameters do not carry --location"
[ "$(json_get "$t" "'defaultValue' in d.parameters.location")" = false ] ||
  fail "the template defaults location (to the resource group's region?)"
disk='d.resources.filter(r => r.type == "Microsoft.Compute/disks")'
vm='d.resources.find(r => r.type == "Microsoft.Compute/virtualMachines")'
[ "$(json_get "$t" "$disk.length")" = 2 ] || fail "two disks expected"
[ "$(json_get "$t" "$disk[0].properties.creationData.createOption")" = Import ] ||
  fail "disks are not imported"
[ "$(json_get "$t" "$disk[0].properties.creationData.sourceUri")" = "[parameters('disk0Uri')]" ] ||
  fail "sourceUri"
[ "$(json_get "$t" "$disk[1].properties.creationData.storageAccountId")" = "[variables('storageAccountId')]" ] ||
  fail "storageAccountId"
[ "$(json_get "$t" "$disk[0].properties.osType")" = Linux ] || fail "osType"
[ "$(json_get "$t" "$disk[0].properties.hyperVGeneration")" = V1 ] || fail "generation"
[ "$(json_get "$t" "$disk[1].properties.osType")" = undefined ] ||
  fail "a data disk has an osType"
[ "$(json_get "$t" "$vm.name")" = web01-Test ] || fail "VM name"
[ "$(json_get "$t" "$vm.properties.storageProfile.dataDisks[0].lun")" = 0 ] ||
  fail "data disk lun"
[ "$(json_get "$t" "$vm.properties.licenseType")" = undefined ] ||
  fail "licenseType without --hybrid-benefit"
[ "$(json_get "$p" 'd.parameters.disk1Uri.value')" = "$url/web01-disk1-test.vhd" ] ||
  fail "disk1Uri value"
[ "$(json_get "$p" 'd.parameters.vnetName.value')" = test-vnet ] || fail "vnet"
[ "$(json_get "$p" 'd.parameters.subnetName.value')" = isolated ] || fail "subnet"
[ "$(json_get "$p" 'd.parameters.diskSku.value')" = Standard_LRS ] || fail "sku"
[ "$(json_get "$p" 'd.parameters.storageAccountName.value')" = devstoreaccount1 ] ||
  fail "account from a path-style URL"

# Windows, generation 2, premium, hybrid benefit, availability set,
# VNet and storage account by resource id, production name.
sub=/subscriptions/0000/resourceGroups/net
expect_exit 0 $AZPREP template --json --name DC01 --os windows --generation 2 \
  --size Standard_D4s_v5 --disk-type premium --hybrid-benefit \
  --availability-set avset-dc --location westeurope \
  --vnet $sub/providers/Microsoft.Network/virtualNetworks/prod \
  --subnet servers \
  --storage-account-id $sub/providers/Microsoft.Storage/storageAccounts/acct \
  --output-dir "$T" https://acct.blob.core.windows.net/vms/dc01-disk0-migrated.vhd
cp "$T/out" "$T/res.json"
t=$(json_get "$T/res.json" 'd.vm_definition.template')
p=$(json_get "$T/res.json" 'd.vm_definition.parameters')
[ "$t" = "$T/DC01.template.json" ] || fail "template path $t"
$V "$t" "$p" || fail "windows template does not validate"
[ "$(json_get "$t" "$vm.name")" = DC01 ] || fail "production name"
[ "$(json_get "$t" "$disk[0].properties.osType")" = Windows ] || fail "osType"
[ "$(json_get "$t" "$disk[0].properties.hyperVGeneration")" = V2 ] || fail "gen 2"
[ "$(json_get "$t" "$vm.properties.licenseType")" = Windows_Server ] ||
  fail "licenseType"
[ "$(json_get "$t" "$vm.properties.availabilitySet.id")" = "[variables('availabilitySetId')]" ] ||
  fail "availability set"
[ "$(json_get "$t" "$vm.properties.storageProfile.dataDisks")" = undefined ] ||
  fail "data disks on a one-disk VM"
[ "$(json_get "$t" 'd.variables.storageAccountId')" = "$sub/providers/Microsoft.Storage/storageAccounts/acct" ] ||
  fail "storage account id"
[ "$(json_get "$p" 'd.parameters.diskSku.value')" = Premium_LRS ] || fail "premium"
[ "$(json_get "$p" 'd.parameters.location.value')" = westeurope ] || fail "location"
[ "$(json_get "$p" 'd.parameters.availabilitySetName.value')" = avset-dc ] ||
  fail "availability set name"

# The validator is not a rubber stamp.
node -e '
  const fs = require("fs");
  const t = JSON.parse(fs.readFileSync(process.argv[1]));
  delete t.contentVersion;
  t.resources[0].apiVersion = "latest";
  t.resources[1].properties.x = "[parameters(\x27nope\x27)]";
  fs.writeFileSync(process.argv[2], JSON.stringify(t));
  const p = JSON.parse(fs.readFileSync(process.argv[3]));
  delete p.parameters.vmSize;
  p.parameters.subnetName.value = "[resourceGroup().name]";
  fs.writeFileSync(process.argv[4], JSON.stringify(p));
' "$t" "$T/broken.json" "$p" "$T/broken-p.json"
expect_exit 1 $V "$T/broken.json" "$T/broken-p.json"
for m in 'missing required member contentVersion' 'bad apiVersion latest' \
         "parameters\('nope'\) is not defined" 'no value for vmSize' \
         'expressions are not evaluated'; do
  assert_contains "$T/out" "$m"
done

# Refusals: no network, a bad name, a SAS in the source URL.
expect_exit 2 $AZPREP template --name x --os linux --size S "$url/a.vhd"
assert_contains "$T/err" -- '--vnet and --subnet'
# No region: the storage account's is needed (an import from a blob
# works only there), not the resource group's.
expect_exit 2 $AZPREP template --name x --os linux --size S --vnet v \
  --subnet s --output-dir "$T" "$url/a.vhd"
assert_contains "$T/err" -- "--location REGION is needed: the region of the storage account"
[ ! -e "$T/x.template.json" ] || fail "a template without a region was written"
$AZPREP template --help | grep -q "storage account's region" ||
  fail "--help does not say which region"
expect_exit 1 $AZPREP template --name 'bad name' --os linux --size S \
  --vnet v --subnet s --location westus --output-dir "$T" "$url/a.vhd"
assert_contains "$T/err" 'not a valid Azure resource name'
expect_exit 1 $AZPREP template --name ok --os linux --size S \
  --vnet v --subnet s --location westus --output-dir "$T" \
  "$url/a.vhd?sv=2022&sig=SECRET"
assert_contains "$T/err" 'no SAS'
assert_not_contains "$T/err" SECRET
[ ! -e "$T/ok.template.json" ] || fail "a refused template was written"
echo "ok"
