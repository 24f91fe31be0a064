# Sourced by the vSphere tests (after tests/lib/functions.sh): VMware's own
# vCenter simulator (govmomi's simulator, tests/tools/vcsim/main.go), built
# offline once into build/vcsim, started on 127.0.0.1 and stopped when
# the test ends.
#
#   vcsim_start [CERT KEY]   start (TLS with that certificate if given;
#                            more flags in VCSIM_ARGS, e.g. "-idle 2");
#                            sets VCSIM_URL (http[s]://127.0.0.1:PORT/sdk),
#                            VCSIM_HOST (127.0.0.1:PORT), VCSIM_BASE
#   vcsim_put FILE VM        write FILE as the content of VM's first disk
#                            ([LocalDS_0] VM/disk1-flat.vmdk) as the
#                            running guest would (never locked; while the
#                            VM has a snapshot it goes to the delta, and
#                            the snapshot's base is unchanged); the
#                            disk's capacity becomes FILE's size
#   vcsim_get VM FILE        copy the current content of VM's first disk
#                            to FILE from the datastore's directory (the
#                            test's view of the disk: no lock, not counted)
#   vcsim_ctl PATH           POST /azprep-test/PATH (fault?kind=reset|503|
#                            slow&count=N[&ms=D], fault-clear,
#                            task-delay?method=NAME_Task&seconds=S,
#                            cbt-invalidate?vm=..., power?vm=...&state=...,
#                            stats-reset); fails the test if refused
#   vcsim_stats KEY          print one counter of /azprep-test/stats
#                            (folder_bytes, folder_requests,
#                            locked_refusals, sessions_expired, logins)
#   vcsim_check_point OUT BLOB FILE SIZE WHAT
#                            the recovery point of the last cycle event
#                            in OUT (replicate --json) of blob vms/BLOB
#                            holds FILE's SIZE bytes (the disk as
#                            snapshotted); WHAT names the cycle (needs
#                            tests/lib/azurite.sh)
#   vcsim_test_disk FILE     a small raw Debian-like guest (ext4, no
#                            partition table) made with mkfs.ext4 -d
#   vcsim_sparse_disk FILE MIB STEP VM
#                            FILE: a sparse MIB MiB disk with random data
#                            in one 64 KiB block of every STEP, put as
#                            VM's disk (vcsim_put)
#   vcsim_replication_setup  the set-up of the replication tests that need
#                            no appliance: tests/lib/azurite.sh, nbdkit
#                            and curl required, vcsim (VCSIM_ARGS) and
#                            Azurite started
#   vsphere_proxy_start MODE FILE WHAT
#                            tests/tools/vsphere-proxy.js MODE in front of
#                            vcsim, writing FILE, stopped when the test
#                            ends; sets port (WHAT names it if it fails)
#   vcsim_ca DIR             a CA and a 127.0.0.1 certificate signed by it
#                            (DIR/ca.pem, DIR/server.pem, DIR/server.key)
#
# The simulator accepts user "user", password "pass".  It behaves like
# vCenter where azprep depends on it (tests/tools/vcsim/main.go): CBT and
# QueryChangedDiskAreas, a powered-on VM's disks locked until it has a
# snapshot (every VM of the default inventory is powered on), sessions
# that expire when idle.

VCSIM="$BUILD/vcsim"
export VSPHERE_USER=user VSPHERE_PASSWORD=pass

vcsim_build () {
  local src
  src=$(ls -t tests/tools/vcsim/*.go | head -1)
  if [ -x "$VCSIM" ] && [ "$VCSIM" -nt "$src" ]; then return 0; fi
  requires go
  [ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] ||
    skip "golang-github-vmware-govmomi-dev is not installed"
  mkdir -p "$BUILD/vcsim-gopath"
  # Tests run two at a time: one builds, the other waits for it.
  (
    flock 9
    [ -x "$VCSIM" ] && [ "$VCSIM" -nt "$src" ] && exit 0
    GO111MODULE=off GOPATH="$BUILD/vcsim-gopath:/usr/share/gocode" \
      GOCACHE="$BUILD/vcsim-gopath/cache" GOFLAGS= \
      go build -o "$VCSIM.tmp" ./tests/tools/vcsim && mv "$VCSIM.tmp" "$VCSIM"
  ) 9>"$BUILD/vcsim-gopath/lock" || fail "cannot build vcsim"
}

vcsim_start () {
  vcsim_build
  local args=() i
  if [ $# -eq 2 ]; then args=(-cert "$1" -key "$2"); fi
  # shellcheck disable=SC2206 # flags split on spaces
  args+=(${VCSIM_ARGS:-})
  # The simulator keeps its datastores under TMPDIR: ours, removed with $T
  # (one per simulator: a test may start two).
  VCSIM_TMP=$(mktemp -d "$T/vcsim-tmp.XXXX")
  local url="$VCSIM_TMP/url" log="$VCSIM_TMP/log"
  TMPDIR="$VCSIM_TMP" "$VCSIM" "${args[@]}" >"$url" 2>"$log" &
  local pid=$!
  on_exit "kill $pid; wait $pid"
  for i in $(seq 100); do
    [ -s "$url" ] && break
    kill -0 $pid 2>/dev/null || { cat "$log"; fail "vcsim died"; }
    sleep 0.1
  done
  VCSIM_URL=$(head -1 "$url")
  [ -n "$VCSIM_URL" ] || fail "vcsim did not start"
  VCSIM_BASE=${VCSIM_URL%/sdk}
  VCSIM_HOST=${VCSIM_BASE#*://}
}

vcsim_put () {
  local code
  code=$(curl -sS -k -o /dev/null -w '%{http_code}' -T "$1" \
    "$VCSIM_BASE/folder/$2/disk1-flat.vmdk?dcPath=DC0&dsName=LocalDS_0")
  [ "$code" = 200 ] || fail "PUT $1 to vcsim: HTTP $code"
}

vcsim_get () {
  local d
  d=$(ls -d "$VCSIM_TMP"/govcsim-DC0-LocalDS_0-*/"$1") ||
    fail "vcsim_get: no directory for VM $1"
  if [ -e "$d/disk1-000001-delta.vmdk" ]; then
    cp "$d/disk1-000001-delta.vmdk" "$2"
  else
    cp "$d/disk1-flat.vmdk" "$2"
  fi
}

vcsim_ctl () {
  local code
  code=$(curl -sS -k -o "$T/vcsim-ctl.out" -w '%{http_code}' -X POST \
    "$VCSIM_BASE/azprep-test/$1")
  [ "$code" = 204 ] || fail "vcsim_ctl $1: HTTP $code $(cat "$T/vcsim-ctl.out")"
}

vcsim_stats () {
  curl -sS -k "$VCSIM_BASE/azprep-test/stats" |
    sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}

vcsim_check_point () {
  local rp
  rp=$(grep '"event":"cycle"' "$1" | tail -1 | node -e '
    let s = ""; process.stdin.on("data", d => s += d)
      .on("end", () => console.log(JSON.parse(s).recovery_point))')
  [ -n "$rp" ] || fail "$5: no recovery point"
  [ "$(blobtool digest vms "$2" "$rp" "$4")" = \
    "$(blobtool filedigest "$3" "$4")" ] ||
    fail "$5: recovery point $rp differs from the disk as snapshotted"
}

vcsim_test_disk () {
  local root="$T/disk-root"
  mkdir -p "$root"/{etc,bin,sbin,usr/bin,usr/lib,var,boot,lib}
  cat > "$root/etc/os-release" <<'OSR'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
ID=debian
OSR
  echo "/dev/sda / ext4 defaults 0 1" > "$root/etc/fstab"
  echo 12.5 > "$root/etc/debian_version"
  echo vcsimguest > "$root/etc/hostname"
  rm -f "$1"
  truncate -s 128M "$1"
  mkfs.ext4 -q -F -d "$root" "$1" || fail "mkfs.ext4 -d"
}

vcsim_sparse_disk () {
  local b
  rm -f "$1"
  truncate -s "$(($2 * 1048576))" "$1"
  for b in $(seq 0 "$3" $(($2 * 16 - 1))); do
    dd if=/dev/urandom of="$1" bs=65536 seek="$b" count=1 conv=notrunc \
      status=none
  done
  vcsim_put "$1" "$4"
}

vcsim_replication_setup () {
  source tests/lib/azurite.sh
  requires nbdkit curl
  vcsim_start
  azurite_start
}

vcsim_ca () {
  requires openssl
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=azprep test CA" \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || fail "openssl CA"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null ||
    fail "openssl CSR"
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' \
    > "$d/ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.pem" \
    2>/dev/null || fail "openssl sign"
}

vsphere_proxy_start () {
  local i pid
  node tests/tools/vsphere-proxy.js "$1" "$VCSIM_BASE" "$2" > "$T/port" &
  pid=$!
  on_exit "kill $pid"
  for i in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
  port=$(cat "$T/port")
  [ -n "$port" ] || fail "$3 did not start"
}
