# Sourced by the check tests: small phony guests built on the host with
# mkfs.ext4 -d and sfdisk (no appliance), enough for libguestfs
# inspection and for azprep check's rules.  Each function writes a raw
# disk image and prints nothing.

MiB=$((1024 * 1024))

# phony_root DIR DISTRO VERSION ARCH ROOTUUID [FSTAB-EXTRA]
# A Linux root tree: os-release, fstab, a binary of the architecture.
phony_root () {
  local d=$1 distro=$2 version=$3 arch=$4 uuid=$5 extra=${6:-}
  mkdir -p "$d"/etc "$d"/bin "$d"/usr/bin "$d"/sbin "$d"/boot "$d"/var \
           "$d"/tmp "$d"/root "$d"/lib/modules
  case $distro in
    debian)
      echo "$version" > "$d/etc/debian_version"
      printf 'ID=debian\nNAME="Debian GNU/Linux"\nVERSION_ID="%s"\nPRETTY_NAME="Debian GNU/Linux %s"\n' \
        "$version" "$version" > "$d/etc/os-release" ;;
    none)
      : ;;
    *)
      printf 'ID=%s\nNAME="%s"\nVERSION_ID="%s"\n' "$distro" "$distro" \
        "$version" > "$d/etc/os-release" ;;
  esac
  echo "phony-$distro" > "$d/etc/hostname"
  printf 'UUID=%s / ext4 defaults 0 1\n%s' "$uuid" "$extra" > "$d/etc/fstab"
  case $arch in
    x86_64) cp /bin/ls "$d/bin/ls" ;;
    i386)   # The ELF header of a 32-bit x86 executable is all file(1) needs.
            printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\003\000\001\000\000\000' > "$d/bin/ls"
            head -c 200 /dev/zero >> "$d/bin/ls"
            chmod +x "$d/bin/ls" ;;
  esac
  cp "$d/bin/ls" "$d/bin/bash"
}

# mkfs_ext4 FILE SIZE_MIB DIR UUID [LABEL]
mkfs_ext4 () {
  rm -f "$1"
  mkfs.ext4 -q -F -d "$3" -U "$4" -L "${5:-root}" "$1" "${2}M" >/dev/null
}

# put_part DISK PARTNUM FILE: copy a filesystem image into a partition.
put_part () {
  local start
  start=$(sfdisk -J "$1" | node -e '
    const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(j.partitiontable.partitions[+process.argv[1] - 1].start);
  ' "$2")
  dd if="$3" of="$1" bs=512 seek="$start" conv=notrunc,sparse status=none
}

# new_disk FILE SIZE_MIB LABEL(dos|gpt) SFDISK-LINES
new_disk () {
  rm -f "$1"
  truncate -s "${2}M" "$1"
  printf 'label: %s\n%s' "$3" "$4" | sfdisk -q "$1" >/dev/null
}

# phony_disk FILE DISTRO VERSION ARCH ROOTUUID: a 300 MiB MBR disk whose
# one partition holds phony_root's tree (ext4, 280 MiB).
phony_disk () {
  local r
  r=$(mktemp -d "$T/root.XXXXXX")
  phony_root "$r" "$2" "$3" "$4" "$5"
  mkfs_ext4 "$T/r.fs" 280 "$r" "$5"
  new_disk "$1" 300 dos 'start=2048, type=83
'
  put_part "$1" 1 "$T/r.fs"
  rm -rf "$r"
}

# good_debian FILE [FIRMWARE(bios|uefi)] [FSTAB-EXTRA]: a clean Debian 12
# x86_64 guest with 250 MiB free on /.
good_debian () {
  local out=$1 fw=${2:-bios} extra=${3:-} d
  d=$(mktemp -d "$T/root.XXXXXX")
  phony_root "$d" debian 12 x86_64 a0000000-0000-4000-8000-000000000001 "$extra"
  mkfs_ext4 "$d.fs" 280 "$d" a0000000-0000-4000-8000-000000000001
  if [ "$fw" = uefi ]; then
    new_disk "$out" 320 gpt 'start=2048, size=16MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
start=34816, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4
'
    rm -f "$d.esp"
    mkfs.vfat -C "$d.esp" 16384 >/dev/null
    put_part "$out" 1 "$d.esp"
    put_part "$out" 2 "$d.fs"
  else
    new_disk "$out" 300 dos 'start=2048, type=83, bootable
'
    put_part "$out" 1 "$d.fs"
  fi
  rm -rf "$d" "$d.fs" "$d.esp"
}

# dirty_xfs FILE: a 300 MiB XFS whose log holds changes not replayed
# (written, then the filesystem shut down before unmounting).  Needs
# root, a loop device and the xfs module; fails (1) without them.
dirty_xfs () {
  local mnt=$T/xfs-mnt rc=0
  command -v mkfs.xfs >/dev/null && command -v xfs_io >/dev/null || return 1
  rm -f "$1"
  truncate -s 300M "$1"
  mkfs.xfs -q "$1" || return 1
  mkdir -p "$mnt"
  mount -o loop "$1" "$mnt" 2>/dev/null || return 1
  { mkdir "$mnt/d" && echo data > "$mnt/d/f" && sync &&
      xfs_io -x -c shutdown "$mnt"; } || rc=1
  umount "$mnt" || rc=1
  return $rc
}

# build_fleet DIR: the VMs of the fleet test (see test-check-fleet.sh
# for what each one triggers) and DIR/fleet.json.
build_fleet () {
  local D=$1 r
  mkdir -p "$D"

  # good: clean Debian 12, UEFI, swap on its data disk (not the OS
  # disk), exported as an OVA (EFI, 2 CPUs, 4 GiB, two disks).
  good_debian "$D/good.img" uefi \
    'UUID=a0000000-0000-4000-8000-0000000000aa none swap sw 0 0
'
  new_disk "$D/good-data.img" 64 dos 'start=2048, type=82
'
  truncate -s 32M "$T/swap.fs"
  mkswap -q -U a0000000-0000-4000-8000-0000000000aa "$T/swap.fs" >/dev/null
  put_part "$D/good-data.img" 1 "$T/swap.fs"
  # An OVA as ovftool exports it: the .ovf first, then streamOptimized
  # VMDKs (one with a space in its name), read in place by check.
  mkdir -p "$T/ova"
  sed -e 's/vmw:key="firmware" vmw:value="bios"/vmw:key="firmware" vmw:value="efi"/' \
    tests/data/check/multi-disk.ovf > "$T/ova/good.ovf"
  qemu-img convert -O vmdk -o subformat=streamOptimized "$D/good.img" "$T/ova/os.vmdk"
  qemu-img convert -O vmdk -o subformat=streamOptimized "$D/good-data.img" \
    "$T/ova/data disk.vmdk"
  (cd "$T/ova" && tar -cf "$D/good.ova" good.ovf os.vmdk "data disk.vmdk")
  rm -rf "$T/ova"

  # bad: one VM for many rules (see the test).
  r=$(mktemp -d "$T/root.XXXXXX")
  phony_root "$r" debian 12 x86_64 b0000000-0000-4000-8000-000000000001 \
'UUID=b0000000-0000-4000-8000-000000000002 none swap sw 0 0
UUID=b0000000-0000-4000-8000-000000000003 /data ext4 defaults 0 2
UUID=b0000000-0000-4000-8000-000000000005 /srv ext4 defaults 0 2
nas.example.com:/export /mnt/nas nfs defaults 0 0
'
  echo 'secret UUID=b0000000-0000-4000-8000-000000000004 none luks,tpm2-device=auto' \
    > "$r/etc/crypttab"
  mkdir -p "$r/data" "$r/srv" "$r/mnt/nas"
  head -c $((40 * MiB)) /dev/urandom > "$r/var/filler"
  mkfs_ext4 "$T/bad-root.fs" 80 "$r" b0000000-0000-4000-8000-000000000001
  truncate -s 16M "$T/bad-swap.fs"
  mkswap -q -U b0000000-0000-4000-8000-000000000002 "$T/bad-swap.fs" >/dev/null
  printf 'S1SUSPEND\0' | dd of="$T/bad-swap.fs" bs=1 seek=4086 conv=notrunc status=none
  mkdir -p "$T/empty"
  mkfs_ext4 "$T/bad-data.fs" 16 "$T/empty" b0000000-0000-4000-8000-000000000003 data
  debugfs -w -R 'ssv state 0' "$T/bad-data.fs" >/dev/null 2>&1
  truncate -s 20M "$T/bad-luks.fs"
  echo -n passphrase > "$T/key"
  cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
    --key-file "$T/key" "$T/bad-luks.fs"
  new_disk "$T/bad.raw" 140 dos 'start=2048, size=80MiB, type=83, bootable
size=16MiB, type=82
size=16MiB, type=83
size=20MiB, type=83
'
  put_part "$T/bad.raw" 1 "$T/bad-root.fs"
  put_part "$T/bad.raw" 2 "$T/bad-swap.fs"
  put_part "$T/bad.raw" 3 "$T/bad-data.fs"
  put_part "$T/bad.raw" 4 "$T/bad-luks.fs"
  qemu-img convert -O qcow2 "$T/bad.raw" "$D/bad-os.qcow2"
  # 2 TiB + 1 MiB + 512 bytes: too big for gen 1, not a whole MiB.
  qemu-img resize -q "$D/bad-os.qcow2" $((2 * 1024 * 1024 * MiB + MiB + 512))
  qemu-img create -q -f qcow2 "$D/bad-d1.qcow2" 33T
  # d2: an ext4 with a feature no kernel knows: blkid sees ext4, mount
  # fails (filesystem-not-mounted).  d3: an XFS whose log was not
  # replayed (filesystem-dirty), when this host can make one.
  mkfs.ext4 -q -F -O ^metadata_csum -U b0000000-0000-4000-8000-000000000005 \
    "$D/bad-d2.img" 8M >/dev/null
  debugfs -w -R 'feature FEATURE_I31' "$D/bad-d2.img" >/dev/null 2>&1
  dirty_xfs "$D/bad-d3.img" || truncate -s 8M "$D/bad-d3.img"
  cp tests/data/check/bad.vmx "$D/bad.vmx"
  rm -rf "$r" "$T"/bad*.fs "$T/bad.raw"

  # old32: Debian 6, 32-bit.
  phony_disk "$D/old32.img" debian 6.0.10 i386 c0000000-0000-4000-8000-000000000001

  # arch: a distribution azprep does not support.
  phony_disk "$D/arch.img" arch rolling x86_64 d0000000-0000-4000-8000-000000000001

  # mystery: Linux, but no release file at all.
  phony_disk "$D/mystery.img" none 0 x86_64 e0000000-0000-4000-8000-000000000001

  # The bad inputs: the images developer's (make images, or the
  # published $IMAGES/bad) when they are there, else our own.
  local B=$IMAGES/bad noos twoos luks corrupt
  if [ -e "$B/no-os.img" ] && [ -e "$B/two-os.img" ] &&
     [ -e "$B/luks-root.img" ] && [ -e "$B/truncated.qcow2" ]; then
    noos='"'$B/no-os.img'"'
    twoos='"'$B/two-os.img'"'
    luks='"'$B/luks-root.img'"'
    corrupt='"'$B/truncated.qcow2'"'
  else
    noos='"noos.img"' twoos='"twoos-1.img", "twoos-2.img"'
    luks='"luksroot.img"' corrupt='"corrupt.qcow2"'
    # noos: a filesystem, no OS.
    echo data > "$T/empty/readme"
    mkfs_ext4 "$T/r.fs" 32 "$T/empty" f0000000-0000-4000-8000-000000000001 data
    new_disk "$D/noos.img" 40 dos 'start=2048, type=83
'
    put_part "$D/noos.img" 1 "$T/r.fs"

    # twoos: two disks, a Debian on each.
    cp "$D/good.img" "$D/twoos-1.img"
    r=$(mktemp -d "$T/root.XXXXXX")
    phony_root "$r" debian 11 x86_64 f1000000-0000-4000-8000-000000000001
    mkfs_ext4 "$T/r.fs" 280 "$r" f1000000-0000-4000-8000-000000000001
    new_disk "$D/twoos-2.img" 300 dos 'start=2048, type=83
'
    put_part "$D/twoos-2.img" 1 "$T/r.fs"
    rm -rf "$r"

    # luksroot: only a LUKS volume.
    truncate -s 20M "$T/l.fs"
    cryptsetup luksFormat -q --type luks1 --pbkdf-force-iterations 1000 \
      --key-file "$T/key" "$T/l.fs"
    new_disk "$D/luksroot.img" 30 dos 'start=2048, type=83
'
    put_part "$D/luksroot.img" 1 "$T/l.fs"

    # corrupt: a truncated qcow2; missing: no such file.
    qemu-img create -q -f qcow2 "$T/c.qcow2" 1G
    qemu-img convert -O qcow2 "$D/noos.img" "$T/c.qcow2"
    head -c 100 "$T/c.qcow2" > "$D/corrupt.qcow2"
    rm -f "$T"/*.fs "$T/c.qcow2"
  fi

  cat > "$D/fleet.json" <<'JSON'
[
  { "name": "good", "ovf": "good.ova" },
  { "name": "bad", "vmx": "bad.vmx", "size": "Standard_B1s" },
  { "name": "old32", "disks": ["old32.img"] },
  { "name": "arch", "disks": ["arch.img"] },
  { "name": "mystery", "disks": ["mystery.img"] },
  { "name": "noos", "disks": [@NOOS@] },
  { "name": "twoos", "disks": [@TWOOS@] },
  { "name": "luksroot", "disks": [@LUKS@] },
  { "name": "corrupt", "disks": [@CORRUPT@] },
  { "name": "missing", "disks": ["no-such-disk.img"] },
  { "name": "nodisks", "vmx": "nodisks.vmx" }
]
JSON
  # nodisks: a .vmx whose VM has no disk attached (no-disks).
  printf '%s\n' 'config.version = "8"' 'displayName = "nodisks"' \
    'guestOS = "debian12-64"' 'memSize = "2048"' 'numvcpus = "2"' \
    > "$D/nodisks.vmx"
  # The real Debian guest of make images, when it is there.
  if [ -e "$IMAGES/debian-bios.img" ] && [ -e "$IMAGES/debian-bios-data.img" ]; then
    sed -i '$d' "$D/fleet.json"
    sed -i '$ s/$/,/' "$D/fleet.json"
    printf '  { "name": "debian", "disks": ["%s", "%s"] }\n]\n' \
      "$IMAGES/debian-bios.img" "$IMAGES/debian-bios-data.img" >> "$D/fleet.json"
  fi
  # (paths of published images have no "|" or "&")
  sed -i -e "s|@NOOS@|$noos|" -e "s|@TWOOS@|$twoos|" -e "s|@LUKS@|$luks|" \
    -e "s|@CORRUPT@|$corrupt|" "$D/fleet.json"
}
