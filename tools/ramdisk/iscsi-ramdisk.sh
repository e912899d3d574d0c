#!/usr/bin/env bash
# iscsi-ramdisk.sh OUT: the seed's bash deploy ramdisk for the `iscsi` deploy interface —
# Debian's kernel (OUT/vmlinuz) and an initramfs (OUT/initramfs) with static busybox, tgtd and
# tgtadm (Debian `tgt` and the libraries it links), the virtio modules, and an /init that does
# what diskimage-builder's deploy-ironic init did: read ironic_api_url, deployment_id,
# deployment_key, iscsi_target_iqn and boot_option from the kernel command line, bring up the
# NIC iPXE booted from (BOOTIF) with DHCP, find the disk, export it as an iSCSI target,
# POST pass_deploy_info, wait for "done" on TCP 10000, stop the target; with local boot of a
# partition image install a boot loader, POST pass_bootloader_install_info and wait again. The
# conductor then reboots the machine (the ramdisk reboots itself if that has not happened
# after 120 s).
#
# The boot loader comes with this ramdisk (Debian's extlinux and its MBR code, plus the ext4
# modules): where upstream's init chroots into the image to run its grub-install, this one
# mounts the root partition (the disk's last, as the conductor lays it out), runs
# `extlinux --install` on the image's /boot/extlinux (the image brings extlinux.conf) and writes
# syslinux's MBR; the conductor marked the root partition active. Whole-disk images carry their
# own boot loader: the conductor says so with whole_disk_image=1 and nothing is installed.
. "$(dirname "$0")/lib.sh"
OUT=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
kver=$(kernel_tree "$work/kernel")
root=$work/root
busybox_root "$root"
add_modules "$root" "$work/kernel" "$kver" "${VIRTIO_MODULES[@]}" \
  crc16 mbcache jbd2 crc32c_generic ext4
extract_debs "$work/tgt" extlinux tgt libaio1 libibverbs1 librdmacm1 libsystemd0 libnl-route-3-200 \
  libnl-3-200 libcap2 libgcrypt20 liblzma5 libzstd1 liblz4-1 libgpg-error0 libc6
mkdir -p "$root/usr/bin" "$root/usr/lib/EXTLINUX"
add_binary "$root" "$work/tgt" usr/sbin/tgtd usr/sbin/tgtadm usr/bin/extlinux
cp "$work/tgt/usr/lib/EXTLINUX/mbr.bin" "$root/usr/lib/EXTLINUX/"

mkdir -p "$root/usr/share/udhcpc"
cat > "$root/usr/share/udhcpc/default.script" <<'DHCP'
#!/bin/sh
# busybox udhcpc hook: configure the leased address and default route.
case "$1" in
  deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
DHCP
chmod +x "$root/usr/share/udhcpc/default.script"

cat > "$root/init" <<'INIT'
#!/bin/sh
# ironic_lite's iSCSI deploy ramdisk (see tools/ramdisk/iscsi-ramdisk.sh).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /var/run /run /tmp
say() { echo "ironic-lite-ramdisk: $*"; }
param() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
troubleshoot() {
  say "FAILED: $*"
  say "powering off in 30 s"
  sleep 30
  poweroff -f
}
for m in $(cat /etc/modules); do insmod "/lib/modules/$m.ko" || say "insmod $m failed"; done

IRONIC_API_URL=$(param ironic_api_url)
DEPLOYMENT_ID=$(param deployment_id)
DEPLOYMENT_KEY=$(param deployment_key)
ISCSI_TARGET_IQN=$(param iscsi_target_iqn)
IRONIC_BOOT_OPTION=$(param boot_option)
WHOLE_DISK_IMAGE=$(param whole_disk_image)
BOOTIF=$(param BOOTIF | tr 'A-F-' 'a-f:' | sed 's/^01://')
[ -n "$ISCSI_TARGET_IQN" ] || troubleshoot "iscsi_target_iqn is not defined"
[ -n "$IRONIC_API_URL" ] || troubleshoot "ironic_api_url is not defined"
say "node $DEPLOYMENT_ID, API $IRONIC_API_URL, boot option ${IRONIC_BOOT_OPTION:-netboot}"

# The NIC the machine booted from (BOOTIF), else the first one; DHCP on it.
iface=
t=0
while [ -z "$iface" ] && [ $t -lt 30 ]; do
  for dev in /sys/class/net/*; do
    name=${dev##*/}
    [ "$name" = lo ] && continue
    if [ -z "$BOOTIF" ] || [ "$(cat "$dev/address")" = "$BOOTIF" ]; then iface=$name; break; fi
  done
  [ -n "$iface" ] || { sleep 1; t=$((t + 1)); }
done
[ -n "$iface" ] || troubleshoot "no network interface ${BOOTIF:+with MAC $BOOTIF}"
ip link set lo up
ip link set "$iface" up
udhcpc -i "$iface" -s /usr/share/udhcpc/default.script -n -q -t 20 -T 2 || troubleshoot "no DHCP answer on $iface"
BOOT_IP_ADDRESS=$(ip -4 -o addr show dev "$iface" | awk '{split($4, a, "/"); print a[1]; exit}')
say "$iface has $BOOT_IP_ADDRESS"

# The disk: the first virtio/SCSI/IDE disk, waiting up to 60 s for it to appear.
find_disk() {
  for dev in /sys/block/vd* /sys/block/sd* /sys/block/hd*; do
    [ -e "$dev" ] && { echo "/dev/${dev##*/}"; return 0; }
  done
  return 1
}
t=0
while ! target_disk=$(find_disk); do
  [ $t -ge 60 ] && troubleshoot "could not find a disk to use"
  t=$((t + 1)); sleep 1
done

say "start iSCSI target on $target_disk"
tgtd -f --iscsi portal="$BOOT_IP_ADDRESS:3260" > /tmp/tgtd.log 2>&1 &
t=0
until tgtadm --lld iscsi --op show --mode system > /dev/null 2>&1; do
  [ $t -ge 50 ] && troubleshoot "tgtd did not start: $(cat /tmp/tgtd.log)"
  t=$((t + 1)); sleep 0.2
done
tgtadm --lld iscsi --op new --mode target --tid 1 -T "$ISCSI_TARGET_IQN" &&
  tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$target_disk" &&
  tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL ||
  troubleshoot "failed to start the iSCSI target"

stop_iscsi_target() {
  tgtadm --lld iscsi --op delete --mode logicalunit --tid 1 --lun 1
  tgtadm --lld iscsi --op delete --mode target --tid 1 --force
  tgtadm --lld iscsi --op delete --mode system
}

# POST to the node's vendor passthru, then wait for the conductor's "done" on port 10000.
do_vendor_passthru_and_wait() {
  say "POST $2"
  if ! wget -q -O /tmp/answer --header 'Content-Type: application/json' \
      --header 'Accept: application/json' --post-data "$1" \
      "$IRONIC_API_URL/v1/nodes/$DEPLOYMENT_ID/vendor_passthru/$2"; then
    say "$2 refused: $(cat /tmp/answer 2>/dev/null)"
    return 1
  fi
  say "waiting for notice of complete"
  notice=$(nc -l -p 10000)
  say "got: $notice"
}

deploy_data="{\"address\": \"$BOOT_IP_ADDRESS\", \"key\": \"$DEPLOYMENT_KEY\", \"iqn\": \"$ISCSI_TARGET_IQN\", \"error\": \"\"}"
do_vendor_passthru_and_wait "$deploy_data" pass_deploy_info ||
  { stop_iscsi_target; troubleshoot "pass_deploy_info failed"; }
say "stopping iSCSI target on $target_disk"
stop_iscsi_target
sync

# Local boot of a partition image: extlinux into the root partition, syslinux's MBR code.
install_bootloader() {
  disk=${target_disk##*/}
  blockdev --rereadpt "$target_disk" || { ERROR="could not re-read the partition table"; return 1; }
  # The root partition is the disk's last (highest number).
  root_part= last=0
  for p in /sys/block/"$disk"/"$disk"*; do
    [ -e "$p/partition" ] || continue
    n=$(cat "$p/partition")
    [ "$n" -gt "$last" ] && { last=$n; root_part=/dev/${p##*/}; }
  done
  [ -n "$root_part" ] || { ERROR="no partition on $target_disk"; return 1; }
  t=0
  while [ ! -b "$root_part" ] && [ $t -lt 20 ]; do t=$((t + 1)); sleep 0.5; done
  if [ "$(dd if="$target_disk" bs=8 count=1 skip=64 2>/dev/null)" = "EFI PART" ]; then
    ERROR="GPT disk: this ramdisk installs extlinux on MBR disks only"; return 1
  fi
  mkdir -p /mnt/root
  mount -t ext4 "$root_part" /mnt/root ||
    { ERROR="could not mount the root partition $root_part as ext4"; return 1; }
  if [ ! -f /mnt/root/boot/extlinux/extlinux.conf ]; then
    umount /mnt/root
    ERROR="the image has no /boot/extlinux/extlinux.conf"; return 1
  fi
  say "installing extlinux on $root_part"
  if ! extlinux --install /mnt/root/boot/extlinux > /tmp/extlinux.log 2>&1; then
    umount /mnt/root
    ERROR="extlinux --install failed: $(tail -n 1 /tmp/extlinux.log | tr -d '\"')"; return 1
  fi
  umount /mnt/root
  dd if=/usr/lib/EXTLINUX/mbr.bin of="$target_disk" bs=440 count=1 conv=notrunc 2>/dev/null ||
    { ERROR="could not write the MBR boot code"; return 1; }
  sync
}

if [ "$IRONIC_BOOT_OPTION" = local ] && [ "$WHOLE_DISK_IMAGE" != 1 ]; then
  ERROR=
  if install_bootloader; then status=SUCCEEDED; else status=FAILED; say "boot loader: $ERROR"; fi
  data="{\"address\": \"$BOOT_IP_ADDRESS\", \"key\": \"$DEPLOYMENT_KEY\", \"status\": \"$status\", \"error\": \"$ERROR\"}"
  do_vendor_passthru_and_wait "$data" pass_bootloader_install_info ||
    troubleshoot "pass_bootloader_install_info failed"
fi
say "deploy done; waiting for the conductor to reboot the machine"
sleep 120
reboot -f
INIT
chmod +x "$root/init"
mkdir -p "$OUT"
cp "$work/kernel/boot/vmlinuz-$kver" "$OUT/vmlinuz"
pack "$root" "$OUT/initramfs"
