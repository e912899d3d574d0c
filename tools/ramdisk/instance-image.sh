#!/usr/bin/env bash
# instance-image.sh OUT: a whole-disk instance image that proves itself — OUT/disk.img (raw:
# MBR with syslinux's boot code, one bootable FAT partition holding syslinux, Debian's kernel
# and a busybox initramfs) and OUT/build-id. Its init finds the config drive (label config-2,
# ISO 9660), reads the instance UUID from openstack/latest/meta_data.json and prints
#   IRONIC-LITE-INSTANCE build=<build id> instance=<uuid>
# on the serial console, then powers off. The build id is on the kernel command line in the
# partition's syslinux.cfg, so a copy with another id is one `mcopy` away (set_build_id below,
# used by tests for "a changed image at the same URL").
# Needs (Debian) syslinux, syslinux-common, mtools, dosfstools, fdisk on the build host.
. "$(dirname "$0")/lib.sh"
OUT=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
kver=$(kernel_tree "$work/kernel")
root=$work/root
busybox_root "$root"
add_modules "$root" "$work/kernel" "$kver" "${VIRTIO_MODULES[@]}" cdrom isofs

cat > "$root/init" <<'INIT'
#!/bin/sh
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules); do insmod "/lib/modules/$m.ko" 2>/dev/null; done
build=$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^build_id=//p')
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
echo "IRONIC-LITE-INSTANCE build=$build instance=${uuid:-none}"
sync
poweroff -f
INIT
chmod +x "$root/init"

build_id=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
part=$work/part.img
mkfs.vfat -n BOOT -C "$part" $((40 * 1024)) >/dev/null
syslinux --install "$part"
cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
pack "$root" "$work/initrd"
printf 'DEFAULT instance\nLABEL instance\n  KERNEL vmlinuz\n  INITRD initrd\n  APPEND console=ttyS0 quiet panic=-1 build_id=%s\n' \
  "$build_id" > "$work/syslinux.cfg"
mcopy -i "$part" "$work/vmlinuz" "$work/initrd" "$work/syslinux.cfg" ::
mkdir -p "$OUT"
disk=$OUT/disk.img
truncate -s 48M "$disk"
printf 'label: dos\nstart=2048, size=%d, type=e, bootable\n' $((40 * 2048)) |
  sfdisk -q "$disk"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$part" of="$disk" bs=1M seek=1 conv=notrunc status=none
echo "$build_id" > "$OUT/build-id"
