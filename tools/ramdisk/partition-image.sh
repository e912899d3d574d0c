#!/usr/bin/env bash
# partition-image.sh OUT: a partition instance image that proves itself, as upstream's
# partition images come: OUT/root.img (raw ext4 root filesystem, no partition table),
# OUT/vmlinuz and OUT/initramfs (the image's kernel and initramfs, what instance_info/kernel and
# /ramdisk name), OUT/build-id and OUT/root-uuid (the filesystem's UUID).
#
# The root filesystem holds a busybox system, the same kernel and initramfs in /boot, and
# /boot/extlinux/extlinux.conf (serial console: its banner shows on the machine's log) — but
# no boot loader: on local boot the iSCSI deploy ramdisk
# installs one (extlinux + syslinux's MBR code) after the conductor wrote the image into the
# disk's root partition. The initramfs loads the virtio, ext4 and ISO 9660 modules, mounts the
# root= filesystem and switches to its /sbin/init, which finds the config drive (label
# config-2, a partition the conductor made), reads the instance UUID and prints
#   IRONIC-LITE-INSTANCE build=<build id> instance=<uuid> root=<device>
# on the serial console (the build id read from the root filesystem's /etc/build-id), then
# powers off. Needs e2fsprogs (mke2fs -d) on the build host.
. "$(dirname "$0")/lib.sh"
OUT=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
kver=$(kernel_tree "$work/kernel")
build_id=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
fs_uuid=$(cat /proc/sys/kernel/random/uuid)

# The initramfs: modules, then mount root= and switch_root into it.
initrd=$work/initrd
busybox_root "$initrd"
add_modules "$initrd" "$work/kernel" "$kver" "${VIRTIO_MODULES[@]}" cdrom isofs \
  crc16 mbcache jbd2 crc32c_generic ext4
cat > "$initrd/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules); do insmod "/lib/modules/$m.ko" 2>/dev/null; done
root=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^root=//p' | tail -n 1)
t=0
while [ $t -lt 40 ]; do
  dev=$(findfs "$root" 2>/dev/null) && break
  t=$((t + 1)); sleep 0.5
done
mkdir -p /newroot
if [ -z "$dev" ] || ! mount -t ext4 -o ro "$dev" /newroot; then
  echo "IRONIC-LITE-INSTANCE-FAILED no root filesystem $root"
  poweroff -f
fi
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
INIT
chmod +x "$initrd/init"
pack "$initrd" "$work/initramfs"

# The root filesystem.
root=$work/root
busybox_root "$root"
mkdir -p "$root/boot/extlinux" "$root/sbin"
cp "$work/kernel/boot/vmlinuz-$kver" "$root/boot/vmlinuz"
cp "$work/initramfs" "$root/boot/initrd.img"
echo "$build_id" > "$root/etc/build-id"
printf 'SERIAL 0 115200\nDEFAULT instance\nLABEL instance\n  KERNEL /boot/vmlinuz\n  INITRD /boot/initrd.img\n  APPEND root=UUID=%s console=ttyS0 quiet panic=-1\n' \
  "$fs_uuid" > "$root/boot/extlinux/extlinux.conf"
cat > "$root/sbin/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
rootdev=$(awk '$2 == "/" && $1 != "rootfs" {print $1; exit}' /proc/mounts)
uuid=none
t=0
while [ $t -lt 20 ]; do
  dev=$(findfs LABEL=config-2 2>/dev/null) && break
  t=$((t + 1)); sleep 0.5
done
if [ -n "$dev" ] && mount -t iso9660 -o ro "$dev" /mnt 2>/dev/null; then
  uuid=$(grep -o '"uuid": *"[^"]*"' /mnt/openstack/latest/meta_data.json | head -n 1 |
         sed 's/.*: *"\(.*\)"/\1/')
  umount /mnt
fi
echo "IRONIC-LITE-INSTANCE build=$(cat /etc/build-id) instance=${uuid:-none} root=$rootdev"
sync
poweroff -f
INIT
chmod +x "$root/sbin/init"

mkdir -p "$OUT"
# No 64bit feature: syslinux's ext4 support predates it.
mkfs.ext4 -q -F -b 4096 -O ^64bit -L instance-root -U "$fs_uuid" -d "$root" "$OUT/root.img" 48M
cp "$work/kernel/boot/vmlinuz-$kver" "$OUT/vmlinuz"
cp "$work/initramfs" "$OUT/initramfs"
echo "$build_id" > "$OUT/build-id"
echo "$fs_uuid" > "$OUT/root-uuid"
