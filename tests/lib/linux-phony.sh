# Shared by tests/test-linux-phony-*.sh: fix each phony guest once
# (one appliance each), read every result back in ONE guestfish
# session, and check that every trap the recipe seeded is gone and the
# stub tools were called with the right arguments for every kernel.
# shellcheck shell=bash

requires guestfish cpio
for g in "${GUESTS[@]}"; do require_image "phony-$g.img" >/dev/null; done

# Per guest: family values (what the recipe seeded, families.sh).
kernels_of () {
  case $1 in
    rhel7) echo 3.10.0-1160.el7.x86_64 3.10.0-1127.el7.x86_64 ;;
    rhel8) echo 4.18.0-477.10.1.el8_8.x86_64 4.18.0-425.3.1.el8.x86_64 ;;
    rhel9) echo 5.14.0-284.11.1.el9_2.x86_64 5.14.0-162.6.1.el9_1.x86_64 ;;
    sles12) echo 4.12.14-122.37-default 4.12.14-122.26-default ;;
    sles15) echo 5.14.21-150500.55.19-default 5.14.21-150500.53-default ;;
    ubuntu2004) echo 5.4.0-150-generic 5.4.0-148-generic ;;
    ubuntu2204) echo 5.15.0-88-generic 5.15.0-86-generic ;;
  esac
}
initrd_of () {          # initrd_of GUEST KVER
  case $1 in
    rhel*) echo "/boot/initramfs-$2.img" ;;
    sles*) echo "/boot/initrd-$2" ;;
    ubuntu*) echo "/boot/initrd.img-$2" ;;
  esac
}
grubcfg_of () { case $1 in ubuntu*) echo /boot/grub/grub.cfg ;; *) echo /boot/grub2/grub.cfg ;; esac; }

# 1. fix each guest, keep the --report.  (PHONY_KEEP=DIR keeps the
# fixed guests there and reuses them: for working on the assertions.)
for g in "${GUESTS[@]}"; do
  if [ -n "${PHONY_KEEP:-}" ] && [ -e "$PHONY_KEEP/$g.fix.out" ]; then
    cp --sparse=always "$PHONY_KEEP/$g.img" "$PHONY_KEEP/$g.json" \
      "$PHONY_KEEP/$g.fix.out" "$T/"
    continue
  fi
  cp --sparse=always "$IMAGES/phony-$g.img" "$T/$g.img"
  expect_exit 0 "$AZPREP" fix --report "$T/$g.json" "$T/$g.img"
  cp "$T/out" "$T/$g.fix.out"
  if [ -n "${PHONY_KEEP:-}" ]; then
    mkdir -p "$PHONY_KEEP"
    cp --sparse=always "$T/$g.img" "$T/$g.json" "$T/$g.fix.out" "$PHONY_KEEP/"
  fi
done

# 2. one read-back session for every guest.
script=$T/readback.gf
echo run > "$script"
i=0
for g in "${GUESTS[@]}"; do
  dev=/dev/sd$(printf "\\x$(printf %x $((97 + i)))")1
  {
    echo "mount-ro $dev /"
    echo "echo ==== $g"
    for f in /etc/fstab /etc/default/grub "$(grubcfg_of "$g")" \
             /var/log/azprep-stub.log /etc/modprobe.d/blacklist-hyperv.conf; do
      echo "echo === $f"
      echo "cat $f"
    done
    echo "echo === find"
    echo "find /"
    echo "echo === sshd"
    echo "-readlink /etc/systemd/system/multi-user.target.wants/sshd.service"
    echo "-readlink /etc/systemd/system/multi-user.target.wants/ssh.service"
    for k in $(kernels_of "$g"); do
      echo "download $(initrd_of "$g" "$k") $T/$g-$k.initrd"
    done
    echo "echo === configs"
    for p in '/etc/sysconfig/network-scripts/ifcfg-*' \
             '/etc/sysconfig/network/ifcfg-*' '/etc/netplan/*.yaml' \
             '/etc/NetworkManager/system-connections/*' /etc/waagent.conf \
             /etc/cloud/cloud.cfg.d/91-azure_datasource.cfg \
             '/boot/loader/entries/*.conf' /boot/grub2/grubenv \
             /etc/sysconfig/kernel '/etc/dracut.conf.d/*.conf' \
             /etc/initramfs-tools/modules; do
      echo "-glob cat $p"
    done
    echo "umount-all"
  } >> "$script"
  i=$((i + 1))
done
args=()
for g in "${GUESTS[@]}"; do args+=(-a "$T/$g.img"); done
guestfish --ro "${args[@]}" -f "$script" > "$T/readback.txt" 2>"$T/readback.err" ||
  { cat "$T/readback.err"; fail "guestfish read-back failed"; }
awk -v dir="$T" '/^==== /{ f = dir "/" $2 ".txt"; next } f { print > f }' \
  "$T/readback.txt"

# section GUEST FILE: the text of one file from the read-back.
section () {
  awk -v want="=== $2" '$0 == want { on = 1; next } /^=== / { on = 0 } on' "$T/$1.txt"
}

for g in "${GUESTS[@]}"; do
  R=$T/$g.txt
  section "$g" /etc/fstab > "$T/$g.fstab"
  section "$g" /etc/default/grub > "$T/$g.grub"
  section "$g" "$(grubcfg_of "$g")" > "$T/$g.grubcfg"
  section "$g" /var/log/azprep-stub.log > "$T/$g.log"
  section "$g" find > "$T/$g.find"

  # fstab: device names gone, everything else byte for byte.
  assert_not_contains "$T/$g.fstab" '^[[:space:]]*/dev/sd' "$g fstab"
  assert_contains "$T/$g.fstab" $'^UUID=01234567-0123-0123-0123-0123456789a[0-9]\t/\text4\tdefaults,noatime\t1 1$' "$g fstab root"
  assert_contains "$T/$g.fstab" '^   UUID=01234567-0123-0123-0123-0123456789b[0-9]    none    swap   sw     0  0   $' "$g fstab swap"
  assert_contains "$T/$g.fstab" '^#/dev/sdc1 /old ext4 defaults 0 0$' "$g fstab comment"
  assert_contains "$T/$g.fstab" $'^fileserver:/export/home\t/mnt/home\tnfs\trw,hard,intr,_netdev,nofail\t0 0$' "$g fstab nfs"
  assert_contains "$T/$g.fstab" '^# <file system>  <mount point>' "$g fstab header"

  # Hyper-V modules no longer blacklisted.
  section "$g" /etc/modprobe.d/blacklist-hyperv.conf > "$T/$g.modprobe"
  assert_not_contains "$T/$g.modprobe" '^(blacklist|install) hv_' "$g modprobe"
  assert_contains "$T/$g.modprobe" '^# disabled by azprep.*: blacklist hv_netvsc$' "$g modprobe"

  # Boot parameters, GRUB serial terminal, regenerated grub.cfg.
  for p in console=tty1 console=ttyS0,115200n8 earlyprintk=ttyS0,115200 \
           net.ifnames=0; do
    assert_contains "$T/$g.grub" "^GRUB_CMDLINE_LINUX=\".*$p" "$g grub $p"
  done
  # rootdelay=300 only where the initramfs does not sleep that long.
  case $g in
    ubuntu*) assert_not_contains "$T/$g.grub" 'rootdelay' "$g rootdelay" ;;
    *) assert_contains "$T/$g.grub" '^GRUB_CMDLINE_LINUX=".*rootdelay=300' "$g rootdelay" ;;
  esac
  assert_not_contains "$T/$g.grub" '^GRUB_CMDLINE_LINUX=.*(rhgb|quiet|resume=/dev)' "$g grub"
  assert_contains "$T/$g.grub" '^GRUB_CMDLINE_LINUX=".*resume=UUID=01234567-0123-0123-0123-0123456789b' "$g resume"
  assert_contains "$T/$g.grub" '^GRUB_TERMINAL="serial console"$' "$g terminal"
  assert_contains "$T/$g.grub" '^GRUB_SERIAL_COMMAND="serial --speed=115200' "$g serial"
  assert_contains "$T/$g.grubcfg" 'generated by the azprep stub' "$g grub.cfg regenerated"
  assert_contains "$T/$g.grubcfg" '^serial --speed=115200' "$g grub.cfg serial"

  # Persistent net rules gone (backup kept), sshd on, VMware tools off.
  assert_not_contains "$T/$g.find" '^etc/udev/rules.d/70-persistent-net.rules$' "$g udev"
  assert_contains "$T/$g.find" '^etc/udev/rules.d/70-persistent-net.rules.azprep-orig$' "$g udev backup"
  section "$g" sshd > "$T/$g.sshd"
  assert_contains "$T/$g.sshd" '^/(usr/)?lib/systemd/system/sshd?\.service$' "$g sshd link"
  assert_not_contains "$T/$g.find" 'multi-user.target.wants/(vmtoolsd|open-vm-tools)\.service$' "$g vmware tools"

  # Every kernel: rebuilt with the guest's tool, verified, old one kept.
  for k in $(kernels_of "$g"); do
    initrd=$(initrd_of "$g" "$k")
    cpio -it --quiet < "$T/$g-$k.initrd" > "$T/$g-$k.list"
    for m in hv_vmbus hv_storvsc hv_netvsc; do
      assert_contains "$T/$g-$k.list" "modules/$k/kernel/.*/$m\.ko" "$g $k initrd"
    done
    assert_not_contains "$T/$g-$k.list" 'etc/lvm/devices/system.devices' "$g $k initrd"
    assert_contains "$T/$g.find" "^${initrd#/}.azprep-orig$" "$g $k initrd backup"
    case $g in
      rhel*|sles15)
        assert_contains "$T/$g.log" "^dracut '-f' '--add-drivers' 'hv_vmbus hv_storvsc hv_netvsc nvme_core nvme' '$initrd' '$k'$" "$g $k dracut" ;;
      sles12)
        assert_contains "$T/$g.log" "^mkinitrd '-k' '/boot/vmlinuz-$k' '-i' '$initrd' '-m' 'hv_vmbus hv_storvsc hv_netvsc nvme_core nvme'$" "$g $k mkinitrd" ;;
      ubuntu*)
        assert_contains "$T/$g.log" "^update-initramfs '-u' '-k' '$k'$" "$g $k update-initramfs" ;;
    esac
  done
  n=$(grep -cE '^(dracut|mkinitrd|update-initramfs) ' "$T/$g.log")
  [ "$n" = 2 ] || fail "$g: $n initramfs tool runs, expected one per kernel"
  case $g in
    ubuntu*) assert_contains "$T/$g.log" "^update-grub$" "$g update-grub" ;;
    *) assert_contains "$T/$g.log" "^grub2-mkconfig '-o' '/boot/grub2/grub.cfg'$" "$g grub2-mkconfig" ;;
  esac
  # The fix's own report names every change.
  assert_contains "$T/$g.fix.out" '^changed: \[linux-initramfs\] initramfs ' "$g output"
done
