#!/usr/bin/env bash
# The test vCenter on its own (tests/tools/vcsim), driven with raw SOAP
# and /folder requests over curl: changed block tracking and
# QueryChangedDiskAreas (changeIds per snapshot, exact 64 KiB areas,
# paging, "*", an invalidated chain), the lock on a running VM's disk,
# the session idle timeout, injected resets and 503s, the counters.
# No appliance.
source tests/lib/functions.sh
source tests/lib/vcsim.sh
requires curl
VCSIM_ARGS="-cbt-page 1048576" vcsim_start
KiB=1024 MiB=1048576

# soap BODY: one call on the session in $T/jar; the reply in $T/soap.xml,
# the HTTP status on stdout.
soap () {
  curl -sS -b "$T/jar" -c "$T/jar" -o "$T/soap.xml" -w '%{http_code}' \
    -H 'Content-Type: text/xml; charset=utf-8' -H 'SOAPAction: urn:vim25/8.0' \
    --data-binary "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"
 xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>$1
</soapenv:Body></soapenv:Envelope>" "$VCSIM_URL"
}
ok () { [ "$(soap "$1")" = 200 ] || { cat "$T/soap.xml"; fail "$2"; }; }
# the text of the first <TAG> of the last reply
val () { grep -o "<$1[^>]*>[^<]*</$1>" "$T/soap.xml" | head -1 | sed 's/<[^>]*>//g'; }
login () {
  ok "<Login xmlns=\"urn:vim25\"><_this type=\"SessionManager\">SessionManager</_this>
<userName>user</userName><password>pass</password></Login>" "Login"
}
vm_ref () {
  ok "<FindByInventoryPath xmlns=\"urn:vim25\"><_this type=\"SearchIndex\">SearchIndex</_this>
<inventoryPath>DC0/vm/$1</inventoryPath></FindByInventoryPath>" "find $1"
  val returnval
}
# props TYPE REF PATH: RetrieveProperties of one property into $T/soap.xml
props () {
  ok "<RetrieveProperties xmlns=\"urn:vim25\"><_this type=\"PropertyCollector\">propertyCollector</_this>
<specSet><propSet><type>$1</type><pathSet>$3</pathSet></propSet>
<objectSet><obj type=\"$1\">$2</obj></objectSet></specSet></RetrieveProperties>" "props $3"
}
task_ok () {
  local task i
  task=$(val returnval)
  for i in $(seq 50); do
    props Task "$task" info.state
    case $(val val) in success) return 0;; error) cat "$T/soap.xml"; fail "$1";; esac
    sleep 0.1
  done
  fail "$1: task did not finish"
}
snapshot () {
  ok "<CreateSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this>
<name>$1</name><memory>false</memory><quiesce>false</quiesce></CreateSnapshot_Task>" "snapshot $1"
  task_ok "snapshot $1"
  props VirtualMachine "$vm" snapshot.currentSnapshot
  val val
}
remove_snapshot () {
  ok "<RemoveSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachineSnapshot\">$1</_this>
<removeChildren>false</removeChildren></RemoveSnapshot_Task>" "remove $1"
  task_ok "remove $1"
}
cbt () {
  ok "<ReconfigVM_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this>
<spec><changeTrackingEnabled>$1</changeTrackingEnabled></spec></ReconfigVM_Task>" "reconfig"
  task_ok "changeTrackingEnabled=$1"
}
# change_id SNAPSHOT|-: the disk's changeId in the snapshot's (or VM's) config
change_id () {
  if [ "$1" = - ]; then props VirtualMachine "$vm" config.hardware.device
  else props VirtualMachineSnapshot "$1" config.hardware.device; fi
  val changeId
}
# qcda SNAP OFFSET CHANGEID: HTTP status; the reply in $T/soap.xml
qcda () {
  soap "<QueryChangedDiskAreas xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this>
<snapshot type=\"VirtualMachineSnapshot\">$1</snapshot><deviceKey>${key:-0}</deviceKey>
<startOffset>$2</startOffset><changeId>$3</changeId></QueryChangedDiskAreas>"
}
# areas SNAP CHANGEID: every changed area, "start:length" a line, paging by
# startOffset until the reply covers the whole disk (as a client must);
# the number of replies in $T/pages
areas () {
  local off=0 n=0 len
  : > "$T/areas"
  while [ "$off" -lt "$size" ]; do
    [ "$(qcda "$1" "$off" "$2")" = 200 ] || { cat "$T/soap.xml"; fail "QCDA $2 at $off"; }
    [ "$(val startOffset)" = "$off" ] || fail "reply startOffset $(val startOffset), not $off"
    len=$(val length)
    [ "$len" -gt 0 ] || fail "QCDA made no progress at $off"
    grep -o '<changedArea>[^/]*</start><length>[0-9]*' "$T/soap.xml" |
      sed 's/<changedArea><start>\([0-9]*\)<\/start><length>/\1:/' >> "$T/areas"
    off=$((off + len)); n=$((n + 1))
  done
  echo "$n" > "$T/pages"
  cat "$T/areas"
}
folder () {  # folder VM [CURL ARGS...]: HTTP status of a GET of VM's disk
  local v=$1; shift
  curl -sS -o "$T/got" -w '%{http_code}' "$@" \
    "$VCSIM_BASE/folder/$v/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0"
}

# A 4 MiB disk: data in blocks 0 and 10, zeros elsewhere.
size=$((4 * MiB))
truncate -s $size "$T/d1"
head -c $((64 * KiB)) /dev/urandom | dd of="$T/d1" conv=notrunc status=none
head -c 100 /dev/urandom | dd of="$T/d1" bs=1 seek=$((650 * KiB)) conv=notrunc status=none
vcsim_put "$T/d1" DC0_H0_VM0
# Stored as a thin disk: the zeros are holes.
f=$(ls "$VCSIM_TMP"/govcsim-DC0-LocalDS_0-*/DC0_H0_VM0/disk1-flat.vmdk)
[ "$(stat -c %s "$f")" = $size ] || fail "PUT stored $(stat -c %s "$f") bytes"
[ $(($(stat -c '%b * %B' "$f"))) -le $((256 * KiB)) ] || fail "PUT wrote the zeros"
vcsim_get DC0_H0_VM0 "$T/got"
cmp "$T/got" "$T/d1" || fail "vcsim_get: not what was PUT"
# A path that climbs out of the datastore stays in it.
code=$(curl -sS --path-as-is -o /dev/null -w '%{http_code}' -T "$T/d1" \
  "$VCSIM_BASE/folder/../../escape?dcPath=DC0&dsName=LocalDS_0")
[ "$code" = 200 ] || fail "PUT ../../escape: HTTP $code"
[ ! -e "$T/escape" ] || fail "a PUT wrote outside the datastore"
ls "$VCSIM_TMP"/govcsim-DC0-LocalDS_0-*/escape >/dev/null || fail "PUT ../../escape: not stored"
[ "$(vcsim_stats locked_refusals)" = 0 ] || fail "PUT counted as refused"

# --- The lock: a powered-on VM without a snapshot.
code=$(folder DC0_H0_VM0)
[ "$code" = 500 ] || fail "GET of a running VM's disk: HTTP $code, expected 500"
assert_contains "$T/got" "Unable to access file \[LocalDS_0\] DC0_H0_VM0/disk1-flat.vmdk since it is locked"
assert_contains "$T/got" "DC0_H0_VM0 is powered on"
code=$(folder DC0_H0_VM0 -r 0-511)
[ "$code" = 500 ] || fail "ranged GET of a running VM's disk: HTTP $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -I \
  "$VCSIM_BASE/folder/DC0_H0_VM0/disk1.vmdk?dcPath=DC0&dsName=LocalDS_0")
[ "$code" = 500 ] || fail "HEAD of a running VM's descriptor: HTTP $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X DELETE \
  "$VCSIM_BASE/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0")
[ "$code" = 500 ] || fail "DELETE of a running VM's disk: HTTP $code"
[ "$(vcsim_stats locked_refusals)" = 4 ] || fail "locked_refusals $(vcsim_stats locked_refusals)"
[ "$(vcsim_stats folder_bytes)" = 0 ] || fail "refusals counted as bytes"
# Powered off (control path), it is readable; powered on, locked again.
vcsim_ctl "power?vm=DC0_H0_VM0&state=off"
[ "$(folder DC0_H0_VM0)" = 200 ] || fail "powered-off VM's disk not readable"
cmp "$T/got" "$T/d1" || fail "read back differs"
vcsim_ctl "power?vm=DC0_H0_VM0&state=on"
[ "$(folder DC0_H0_VM0)" = 500 ] || fail "powered on again: not locked"

# --- CBT: off until enabled; enabled takes effect at the next snapshot.
login
[ "$(vcsim_stats logins)" = 1 ] || fail "logins $(vcsim_stats logins)"
vm=$(vm_ref DC0_H0_VM0)
[ -n "$vm" ] || fail "no ref for DC0_H0_VM0"
props VirtualMachine "$vm" config.hardware.device
key=$(grep -o 'type="VirtualDisk"><key>[0-9]*' "$T/soap.xml" |
  head -1 | sed 's/.*<key>//')
[ -n "$key" ] || { cat "$T/soap.xml"; fail "no disk key"; }
assert_contains "$T/soap.xml" "<capacityInBytes>$size</capacityInBytes>" "disk capacity after PUT"
s0=$(snapshot s0)
[ -z "$(change_id "$s0")" ] || fail "changeId without CBT"
[ "$(qcda "$s0" 0 '*')" = 500 ] || fail "QCDA without CBT succeeded"
assert_contains "$T/soap.xml" 'xsi:type="FileFault"'
# With a snapshot the disk is readable.
[ "$(folder DC0_H0_VM0)" = 200 ] || fail "disk not readable with a snapshot"
cmp "$T/got" "$T/d1" || fail "read back differs"
remove_snapshot "$s0"
cbt true
props VirtualMachine "$vm" config.changeTrackingEnabled
[ "$(val val)" = true ] || fail "changeTrackingEnabled not set"
[ -z "$(change_id -)" ] || fail "changeId before the next snapshot"

s1=$(snapshot s1)
id1=$(change_id "$s1")
echo "changeId 1: $id1"
[[ $id1 =~ ^52(\ [0-9a-f]{2}){7}-[0-9a-f]{2}(\ [0-9a-f]{2}){7}/1$ ]] || fail "changeId '$id1'"
[ "$(change_id -)" = "$id1" ] || fail "the VM's disk has not the snapshot's changeId"
# "*": the allocated (non-zero) 64 KiB areas, in 1 MiB pages.
got=$(areas "$s1" '*' | tr '\n' ' ')
[ "$got" = "0:65536 655360:65536 " ] || fail "allocated areas: '$got'"
[ "$(cat "$T/pages")" = 4 ] || fail "$(cat "$T/pages") replies for 4 MiB in 1 MiB pages"
# A first cycle reads the snapshot's base: counted.
vcsim_ctl stats-reset
[ "$(folder DC0_H0_VM0 -r 0-65535)" = 206 ] || fail "ranged read with a snapshot"
[ "$(vcsim_stats folder_bytes)" = 65536 ] || fail "folder_bytes $(vcsim_stats folder_bytes)"
[ "$(vcsim_stats folder_requests)" = 1 ] || fail "folder_requests"

# The guest writes while the snapshot exists: 100 KiB from 1 MiB + 4 KiB
# (blocks 16 and 17), the same bytes again over block 0 (no change), zeros
# over block 10's data.  They go to the delta: the snapshot's base is
# frozen, the delta is locked; the removal of the snapshot merges them.
cp "$T/d1" "$T/d2"
head -c $((100 * KiB)) /dev/urandom |
  dd of="$T/d2" bs=1024 seek=$((MiB / KiB + 4)) conv=notrunc status=none
dd if=/dev/zero of="$T/d2" bs=1 seek=$((650 * KiB)) count=100 conv=notrunc status=none
vcsim_put "$T/d2" DC0_H0_VM0
[ "$(folder DC0_H0_VM0)" = 200 ] || fail "base not readable with a snapshot"
cmp "$T/got" "$T/d1" || fail "the snapshot's base changed with the guest's writes"
vcsim_get DC0_H0_VM0 "$T/got"
cmp "$T/got" "$T/d2" || fail "vcsim_get does not see the guest's writes"
code=$(curl -sS -o "$T/got" -w '%{http_code}' \
  "$VCSIM_BASE/folder/DC0_H0_VM0/disk1-000001-delta.vmdk?dcPath=DC0&dsName=LocalDS_0")
[ "$code" = 500 ] || fail "GET of the running delta: HTTP $code"
assert_contains "$T/got" "writes this delta disk"
remove_snapshot "$s1"
[ "$(folder DC0_H0_VM0)" = 500 ] || fail "not locked after the snapshot's removal"
vcsim_ctl "power?vm=DC0_H0_VM0&state=off"
[ "$(folder DC0_H0_VM0)" = 200 ] && cmp "$T/got" "$T/d2" ||
  fail "the guest's writes were not consolidated into the base"
vcsim_ctl "power?vm=DC0_H0_VM0&state=on"
s2=$(snapshot s2)
id2=$(change_id "$s2")
[ "${id2%/*}" = "${id1%/*}" ] && [ "${id2##*/}" = 2 ] || fail "second changeId '$id2' after '$id1'"
got=$(areas "$s2" "$id1" | tr '\n' ' ')
[ "$got" = "655360:65536 1048576:131072 " ] || fail "changed areas since $id1: '$got'"
# Paging from an offset inside a changed block: clipped to it.
[ "$(qcda "$s2" $((MiB + 96 * KiB)) "$id1")" = 200 ] || fail "QCDA mid-block"
assert_contains "$T/soap.xml" "<startOffset>$((MiB + 96 * KiB))</startOffset><length>$MiB</length><changedArea><start>$((MiB + 96 * KiB))</start><length>$((32 * KiB))</length></changedArea></returnval>"
# Nothing changed since the snapshot's own changeId.
got=$(areas "$s2" "$id2")
[ -z "$got" ] || fail "changes since the snapshot's own changeId: $got"
# Errors as ESXi gives them.
[ "$(qcda "$s2" 0 "${id1%/*}/9")" = 500 ] || fail "unknown changeId accepted"
assert_contains "$T/soap.xml" 'xsi:type="FileFault"'
assert_contains "$T/soap.xml" "<file>\[LocalDS_0\] DC0_H0_VM0/disk1.vmdk</file>"
[ "$(qcda snapshot-999 0 "$id1")" = 500 ] || fail "unknown snapshot accepted"
assert_contains "$T/soap.xml" 'xsi:type="ManagedObjectNotFound"'
[ "$(qcda "$s2" "$size" "$id1")" = 500 ] || fail "startOffset past the end accepted"
assert_contains "$T/soap.xml" '<invalidProperty>startOffset</invalidProperty>'
code=$(key=999; qcda "$s2" 0 "$id1")
[ "$code" = 500 ] || fail "unknown device key accepted"
assert_contains "$T/soap.xml" 'xsi:type="NotFound"'

# --- An invalidated chain (storage vMotion, restore): every earlier
# changeId faults; the next snapshot starts a new chain.
vcsim_ctl "cbt-invalidate?vm=DC0_H0_VM0"
[ "$(qcda "$s2" 0 "$id1")" = 500 ] || fail "changeId valid after the chain's reset"
assert_contains "$T/soap.xml" 'xsi:type="FileFault"'
remove_snapshot "$s2"
s3=$(snapshot s3)
id3=$(change_id "$s3")
[ "${id3%/*}" != "${id1%/*}" ] && [ "${id3##*/}" = 1 ] || fail "new chain's changeId '$id3'"
[ "$(qcda "$s3" 0 "$id2")" = 500 ] || fail "old chain's changeId accepted"
got=$(areas "$s3" '*' | tr '\n' ' ')
[ "$got" = "0:65536 1048576:131072 " ] || fail "allocated areas after the reset: '$got'"
# CBT off: at the next snapshot the disks lose their changeIds.
remove_snapshot "$s3"
cbt false
s4=$(snapshot s4)
[ -z "$(change_id "$s4")" ] || fail "changeId with CBT off"
[ "$(qcda "$s4" 0 '*')" = 500 ] || fail "QCDA with CBT off succeeded"
# A revert drops the guest's writes since the snapshot.
vcsim_put "$T/d1" DC0_H0_VM0
ok "<RevertToCurrentSnapshot_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">$vm</_this>
</RevertToCurrentSnapshot_Task>" "revert"
task_ok revert
vcsim_get DC0_H0_VM0 "$T/got"
cmp "$T/got" "$T/d2" || fail "the revert kept the writes"

# --- Injected faults on /folder (with the snapshot, the disk is readable).
vcsim_ctl "fault?kind=503&count=2"
for i in 1 2; do [ "$(folder DC0_H0_VM0)" = 503 ] || fail "503 number $i"; done
[ "$(folder DC0_H0_VM0)" = 200 ] || fail "after two 503s"
vcsim_ctl "fault?kind=reset&count=1&path=disk1-flat"
vcsim_ctl "fault?kind=503&count=1&path=no-such-file"
vcsim_ctl stats-reset
rc=0; curl -sS -o "$T/got" "$VCSIM_BASE/folder/DC0_H0_VM0/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0" 2>"$T/err" || rc=$?
[ "$rc" = 18 ] || [ "$rc" = 56 ] || fail "reset: curl exit $rc, expected 18 or 56"
sent=$(stat -c %s "$T/got")
echo "reset after $sent bytes"
[ "$sent" -gt 0 ] && [ "$sent" -lt "$size" ] || fail "reset after $sent bytes"
[ "$(vcsim_stats folder_bytes)" = "$sent" ] || fail "folder_bytes $(vcsim_stats folder_bytes) != $sent"
[ "$(folder DC0_H0_VM0)" = 200 ] || fail "after the reset"
cmp "$T/got" "$T/d2" || fail "read back differs"
vcsim_ctl "fault?kind=reset&count=1"
rc=0; curl -sS -I "$VCSIM_BASE/folder/DC0_H0_VM0/disk1.vmdk?dcPath=DC0&dsName=LocalDS_0" \
  >/dev/null 2>&1 || rc=$?
[ "$rc" = 52 ] || [ "$rc" = 56 ] || fail "reset of a HEAD: curl exit $rc"
[ "$(vcsim_stats folder_requests)" = 3 ] || fail "folder_requests $(vcsim_stats folder_requests)"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$VCSIM_BASE/azprep-test/fault?kind=hang&count=1")
[ "$code" = 400 ] || fail "bad fault kind: HTTP $code"

# --- Sessions: calls keep one alive; 2 s idle ends it.  A second
# simulator, with a 2 s idle timeout.
[ "$(qcda "$s4" 0 '*')" = 500 ] && assert_contains "$T/soap.xml" FileFault
remove_snapshot "$s4"
VCSIM_ARGS="-idle 2" vcsim_start
vcsim_ctl "power?vm=DC0_H0_VM0&state=off"
rm -f "$T/jar"
login
old_key=$(awk '$6 == "vmware_soap_session" { print $7 }' "$T/jar")
is_active () {
  ok "<SessionIsActive xmlns=\"urn:vim25\"><_this type=\"SessionManager\">SessionManager</_this>
<sessionID>$old_key</sessionID><userName>user</userName></SessionIsActive>" "SessionIsActive"
  val returnval
}
for i in 1 2 3; do
  sleep 1
  if [ $i = 2 ]; then
    [ "$(is_active)" = true ] || fail "SessionIsActive: not active"
  else
    ok "<CurrentTime xmlns=\"urn:vim25\"><_this type=\"ServiceInstance\">ServiceInstance</_this></CurrentTime>" \
      "keep-alive $i"
  fi
done
[ "$(folder DC0_H0_VM0 -b "$T/jar")" = 200 ] || fail "/folder with a live session"
sleep 2.5
[ "$(soap "<CurrentTime xmlns=\"urn:vim25\"><_this type=\"ServiceInstance\">ServiceInstance</_this></CurrentTime>")" = 500 ] ||
  fail "an idle session still works"
assert_contains "$T/soap.xml" 'xsi:type="NotAuthenticated"'
[ "$(vcsim_stats sessions_expired)" = 1 ] || fail "sessions_expired $(vcsim_stats sessions_expired)"
[ "$(folder DC0_H0_VM0 -b "$T/jar")" = 401 ] || fail "/folder with an expired session"
login
[ "$(vcsim_stats logins)" = 2 ] || fail "logins $(vcsim_stats logins)"
[ "$(is_active)" = false ] || fail "the expired session is still active"
[ "$(vcsim_stats sessions_expired)" = 1 ] || fail "sessions_expired $(vcsim_stats sessions_expired)"
echo "vcsim: all behaviours as expected"
