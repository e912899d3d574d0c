#!/usr/bin/env bash
# ipa-ramdisk.sh OUT: the real ironic-python-agent (PyPI) in a Debian ramdisk — OUT/vmlinuz
# (Debian's kernel) and OUT/initramfs (zstd cpio of a debootstrapped bookworm with IPA in a
# venv). Recipe measured in /work/shared/ENVIRONMENT.md: minbase + the tools IPA calls (psmisc
# for fuser, qemu-utils, parted, ...), `pip install ironic-python-agent`, depmod, own /init (no
# systemd): udev, DHCP on every NIC, then IPA (it reads ipa-api-url from the kernel command
# line). Needs debootstrap, zstd and network access to the Debian mirror and PyPI; boot it with
# 2 GiB of memory (it unpacks to ~400 MB in RAM) and a disk >= 4 GiB (IPA ignores smaller
# disks).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
OUT=$1
IPA_VERSION=${IPA_VERSION:-13.0.0}
MIRROR=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
         grep -oE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian/? ' | head -1 | tr -d ' ' || true)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d); trap 'umount "$work/root/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
root=$work/root
log "debootstrap bookworm from $MIRROR"
debootstrap --variant=minbase bookworm "$root" "$MIRROR" >/dev/null
mount -t proc proc "$root/proc"
# The kernel package would build an initramfs-tools initrd nobody uses (slow): skip it.
chroot "$root" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
ln -sf /bin/true "$root/usr/sbin/update-initramfs"
log "apt-get install in the chroot"
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  --no-install-recommends python3 python3-venv util-linux udev iproute2 isc-dhcp-client \
  qemu-utils dmidecode pciutils kmod linux-image-amd64 lshw parted gdisk hdparm e2fsprogs \
  dosfstools ca-certificates procps psmisc >/dev/null
log "pip install ironic-python-agent==$IPA_VERSION"
# Wheels are fetched by the host's pip (its index, proxy and CA settings), for the chroot's
# CPython 3.11, then installed offline in the chroot.
${IRONIC_LITE_PIP:-python3 -m pip} download -q -d "$root/tmp/wheels" --only-binary=:all: \
  --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 "ironic-python-agent==$IPA_VERSION" 2>&1 | grep -v WARNING || true
chroot "$root" python3 -m venv /opt/ipa
chroot "$root" /opt/ipa/bin/pip install -q --no-index --find-links /tmp/wheels \
  "ironic-python-agent==$IPA_VERSION" 2>&1 | grep -v WARNING || true
chroot "$root" /opt/ipa/bin/python -c 'import ironic_python_agent' ||
  { log "ironic-python-agent did not install"; exit 1; }
umount "$root/proc"
kver=$(ls "$root/lib/modules" | head -1)
# Drivers a deploy ramdisk never needs (the unpacked ramdisk must fit in the machine's RAM).
for dir in sound drivers/gpu drivers/media drivers/net/wireless drivers/infiniband \
    drivers/staging drivers/bluetooth net/bluetooth drivers/iio drivers/hid drivers/input \
    drivers/usb/gadget drivers/isdn drivers/video net/wireless net/mac80211; do
  rm -rf "$root/lib/modules/$kver/kernel/$dir"
done
chroot "$root" depmod "$kver"
mkdir -p "$OUT"
cp "$root/boot/vmlinuz-$kver" "$OUT/vmlinuz"
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc \
  "$root"/usr/share/man "$root"/usr/share/locale "$root"/boot/* "$root/tmp/wheels"
mkdir -p "$root/etc/ironic-python-agent"
# No systemd: IPA's power commands (standby.power_off, reboot) run `poweroff` / `reboot`.
for cmd in poweroff:o reboot:b; do
  printf '#!/bin/sh\nsync\necho %s > /proc/sysrq-trigger\n' "${cmd#*:}" > "$root/usr/sbin/${cmd%%:*}"
  chmod +x "$root/usr/sbin/${cmd%%:*}"
done
cat > "$root/init" <<'INIT'
#!/bin/sh
# ironic_lite's IPA ramdisk (tools/ramdisk/ipa-ramdisk.sh): no systemd, just what IPA needs.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run/lock && mount -t tmpfs tmpfs /run && mkdir -p /run/lock
mount -t tmpfs tmpfs /tmp
echo "ironic-lite-ipa-ramdisk: starting udev"
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add
udevadm settle --timeout=30
ip link set lo up
for dev in /sys/class/net/*; do
  name=${dev##*/}
  [ "$name" = lo ] && continue
  ip link set "$name" up
  dhclient -1 -4 "$name" && echo "ironic-lite-ipa-ramdisk: $name: $(ip -4 -o addr show dev "$name" | awk '{print $4}')"
done
echo "ironic-lite-ipa-ramdisk: starting ironic-python-agent"
/opt/ipa/bin/ironic-python-agent
echo "ironic-lite-ipa-ramdisk: ironic-python-agent ended ($?)"
sleep 3600
INIT
chmod +x "$root/init"
log "packing"
(cd "$root" && find . | cpio -o -H newc --quiet | zstd -q -T0 -10) > "$OUT/initramfs"
