# Helpers for tests/test-windows-*.sh (sourced after functions.sh).

requires guestfish hivexsh hivexregedit

# win_image NAME: a scratch copy of a phony Windows image (or skip).
win_image () {
  local src
  src=$(require_image "windows/$1.img")
  cp --sparse=always "$src" "$T/$1.img"
  echo "$T/$1.img"
}

# win_readback NAME...: with one appliance, copy each fixed image's
# SYSTEM, SOFTWARE and BCD hives to $T/NAME.{SYSTEM,SOFTWARE,BCD}.
# Partition 1 is the boot partition (System Reserved or ESP), 2 Windows.
win_readback () {
  local args=() script= i=0 dev n
  for n; do
    args+=(-a "$T/$n.img")
    dev=/dev/sd$(printf "\\x$(printf %x $((97 + i)))")
    local cfg=/Windows/System32/config bcd=/Boot/BCD o
    case $n in *uefi*) bcd=/EFI/Microsoft/Boot/BCD ;; esac
    script+="mount-ro ${dev}2 /
download $cfg/SYSTEM $T/$n.SYSTEM
download $cfg/SOFTWARE $T/$n.SOFTWARE
"
    # WIN_ORIG=1: the backups fix keeps (NAME.azprep-orig) too.
    for o in ${WIN_ORIG:+SYSTEM SOFTWARE}; do
      script+="download $cfg/$o.azprep-orig $T/$n.$o.orig
"
    done
    script+="umount-all
mount-ro ${dev}1 /
download $bcd $T/$n.BCD
"
    [ -z "${WIN_ORIG:-}" ] || script+="download $bcd.azprep-orig $T/$n.BCD.orig
"
    script+="umount-all
"
    i=$((i + 1))
  done
  guestfish --ro "${args[@]}" <<<"run
$script" || fail "guestfish could not read the fixed images back"
}

# win_dump NAME: every key and value of the three hives, as .reg text.
win_dump () {
  local h
  for h in SYSTEM SOFTWARE BCD; do
    echo "quit" | hivexsh "$T/$1.$h" >/dev/null 2>&1 \
      || fail "$1: hivexsh cannot open the $h hive after fix"
    echo "### $h"
    case $h in
      BCD) hivexregedit --export --unsafe-printable-strings "$T/$1.$h" '\' ;;
      *) hivexregedit --export --unsafe-printable-strings --prefix "HKEY_LOCAL_MACHINE\\$h" \
           "$T/$1.$h" '\' ;;
    esac
  done | tr -d '\r'
}

# win_compare NAME: the dump against tests/expected/windows-NAME.txt
# (WIN_EXPECTED_UPDATE=1 writes it instead, to review and commit).
win_compare () {
  local exp="tests/expected/windows-$1.txt"
  win_dump "$1" > "$T/$1.dump"
  if [ "${WIN_EXPECTED_UPDATE:-0}" = 1 ]; then
    cp "$T/$1.dump" "$exp"
    return 0
  fi
  diff -u "$exp" "$T/$1.dump" || fail "$1: hives differ from $exp"
}
