#!/usr/bin/env bash
# tiny.sh OUT: the smallest machine that proves a boot — Debian's kernel (OUT/vmlinuz) and a
# busybox initramfs (OUT/initramfs) whose init prints "IRONIC-LITE-TINY up <tiny_id=…>" on the
# serial console and powers the machine off (reboots it with tiny_reboot on the kernel command
# line). Used by the virtual BMC's tests.
. "$(dirname "$0")/lib.sh"
OUT=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
kver=$(kernel_tree "$work/kernel")
busybox_root "$work/root"
cat > "$work/root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
id=$(tr ' ' '\n' < /proc/cmdline | grep '^tiny_id=')
echo "IRONIC-LITE-TINY up $id"
if grep -q tiny_reboot /proc/cmdline; then reboot -f; else poweroff -f; fi
INIT
chmod +x "$work/root/init"
mkdir -p "$OUT"
cp "$work/kernel/boot/vmlinuz-$kver" "$OUT/vmlinuz"
pack "$work/root" "$OUT/initramfs"
