# Helpers sourced by the images/ recipes: build disk images without an
# appliance and without loop devices (sfdisk on the image file, file
# systems made in separate files and copied in at the partition offset).

set -euo pipefail

die () { echo "${0##*/}: $*" >&2; exit 1; }

# new_disk FILE SIZE_MIB LABEL LABEL-ID SFDISK-LINES: create a sparse disk
# image and partition it (LABEL dos or gpt, LABEL-ID fixed so builds
# repeat, lines as sfdisk reads them).
new_disk () {
  local file=$1 size=$2 label=$3 id=$4 lines=$5
  rm -f "$file"
  truncate -s "${size}M" "$file"
  printf 'label: %s\nlabel-id: %s\n%s\n' "$label" "$id" "$lines" |
    sfdisk --quiet --no-reread --no-tell-kernel "$file" >/dev/null ||
    die "$file: sfdisk failed"
}

# part_field FILE N start|size: a partition's start or size in sectors.
part_field () {
  sfdisk -d "$1" | awk -v dev="$1$2" -v f="$3" '
    $1 == dev && match ($0, f "= *[0-9]+") {
      v = substr ($0, RSTART, RLENGTH); sub (/.*= */, "", v); print v; exit
    }' | grep . || die "$1: no partition $2"
}

# part_bytes FILE N: size of partition N in bytes.
part_bytes () { echo $(( $(part_field "$1" "$2" size) * 512 )); }

# put_part DISK N IMAGE: copy a file system image into partition N,
# keeping the disk sparse.
put_part () {
  local disk=$1 n=$2 img=$3 start size
  start=$(part_field "$disk" "$n" start)
  size=$(part_field "$disk" "$n" size)
  [ "$(stat -c %s "$img")" -le $((size * 512)) ] ||
    die "$img is larger than partition $n of $disk"
  dd if="$img" of="$disk" bs=1M seek=$((start * 512)) oflag=seek_bytes \
    conv=notrunc,sparse status=none
}

# mkfs_ext4 IMAGE SIZE_BYTES UUID LABEL [DIR]: an ext4 file system image,
# filled from DIR when given (mke2fs -d keeps owners, modes, xattrs).
mkfs_ext4 () {
  local img=$1 size=$2 uuid=$3 label=$4 dir=${5:-}
  rm -f "$img"
  truncate -s "$size" "$img"
  mkfs.ext4 -q -F -U "$uuid" -L "$label" -E root_owner=0:0 \
    ${dir:+-d "$dir"} "$img" || die "$img: mkfs.ext4 failed"
}

# mkfs_ext4_part DISK N UUID LABEL [DIR]: make the ext4 file system right
# in partition N of DISK (mke2fs -E offset=), filled from DIR when given.
mkfs_ext4_part () {
  local disk=$1 n=$2 uuid=$3 label=$4 dir=${5:-} start size
  start=$(part_field "$disk" "$n" start)
  size=$(part_field "$disk" "$n" size)
  mkfs.ext4 -q -F -U "$uuid" -L "$label" \
    -E "offset=$((start * 512)),root_owner=0:0" ${dir:+-d "$dir"} \
    "$disk" "$((size / 2))k" || die "$disk: mkfs.ext4 of partition $n failed"
}

# scratch_tree DIR: make DIR a tmpfs when possible: dpkg's fsyncs and
# the unpacking of ~1 GiB cost minutes on a busy disk, nothing in RAM.
# Falls back to a plain directory.  Undo with drop_tree DIR.
scratch_tree () {
  mkdir -p "$1"
  mount -t tmpfs -o size=4G,mode=0755 azprep-images "$1" 2>/dev/null || true
}
drop_tree () {
  local m
  [ -d "$1" ] || return 0
  for m in proc sys dev/pts dev; do
    mountpoint -q "$1/$m" 2>/dev/null && umount -l "$1/$m"
  done
  mountpoint -q "$1" && umount -l "$1"
  rm -rf "$1"
}

# minimal_linux DIR ID VERSION NAME HOSTNAME ROOTSPEC: the smallest tree
# libguestfs inspection takes for a Linux root (no kernel, no binaries).
minimal_linux () {
  local d=$1 id=$2 ver=$3 name=$4 host=$5 root=$6
  mkdir -p "$d"/{etc,usr/bin,usr/sbin,usr/lib,var/lib,root,tmp,boot,dev,proc,sys}
  ln -sfn usr/bin "$d/bin"
  ln -sfn usr/sbin "$d/sbin"
  ln -sfn usr/lib "$d/lib"
  cat > "$d/etc/os-release" <<EOT
PRETTY_NAME="$name"
NAME="${name% *}"
VERSION_ID="$ver"
ID=$id
EOT
  echo "$host" > "$d/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$host" > "$d/etc/hosts"
  printf '# /etc/fstab\n%s\t/\text4\terrors=remount-ro\t0\t1\n' "$root" \
    > "$d/etc/fstab"
}
