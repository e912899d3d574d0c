# Shared by the ramdisk and image build scripts in tools/ramdisk/ (sourced, bash).
# Everything comes from Debian packages fetched with `apt-get download` (no chroot, no host
# binaries copied): a kernel (linux-image-amd64, modules loaded by hand: dpkg-deb -x leaves
# no modules.dep), busybox-static, and whatever a script adds.
set -euo pipefail

DEB_CACHE=${IRONIC_LITE_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ironic-lite/debs}
mkdir -p "$DEB_CACHE"

log() { echo "ramdisk-build: $*" >&2; }

# fetch_deb PKG: path of PKG's .deb (downloaded once into $DEB_CACHE).
fetch_deb() {
  local pkg=$1 found
  found=$(ls "$DEB_CACHE/${pkg}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$found" ]; then
    if ! (cd "$DEB_CACHE" && apt-get download "$pkg" >/dev/null 2>&1); then
      # A fresh machine may have no package lists yet.
      [ "$(id -u)" = 0 ] && apt-get update -qq >/dev/null 2>&1 || true
      (cd "$DEB_CACHE" && apt-get download "$pkg" >/dev/null 2>&1) || {
        log "apt-get download $pkg failed"; return 1; }
    fi
    found=$(ls "$DEB_CACHE/${pkg}_"*.deb | head -1)
  fi
  echo "$found"
}

# extract_debs DEST PKG...: unpack the packages into DEST.
extract_debs() {
  local dest=$1; shift
  mkdir -p "$dest"
  local pkg
  for pkg in "$@"; do dpkg-deb -x "$(fetch_deb "$pkg")" "$dest"; done
}

# kernel_package: the versioned package linux-image-amd64 points at.
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}

# kernel_tree DEST: the Debian kernel unpacked into DEST; prints its version.
kernel_tree() {
  local dest=$1 pkg
  pkg=$(kernel_package)
  [ -n "$pkg" ] || { log "no linux-image-amd64 in the apt lists"; return 1; }
  extract_debs "$dest" "$pkg"
  ls "$dest/lib/modules" | head -1
}

# busybox_root ROOT: a root with static busybox and its applets, /dev, /proc, /sys, /tmp.
busybox_root() {
  local root=$1 staging applet
  staging=$(mktemp -d)
  extract_debs "$staging" busybox-static
  mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt,var/run,lib/modules}
  cp "$staging/bin/busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  rm -rf "$staging"
}

# add_modules ROOT KTREE KVER MODULE...: copy kernel modules (by file name, no .ko) in the
# order given into ROOT/lib/modules/ and list them in ROOT/etc/modules (the init loads them
# in that order).
add_modules() {
  local root=$1 ktree=$2 kver=$3; shift 3
  local mod path
  for mod in "$@"; do
    path=$(find "$ktree/lib/modules/$kver" -name "$mod.ko" | head -1)
    [ -n "$path" ] || { log "kernel module $mod not found"; return 1; }
    cp "$path" "$root/lib/modules/"
    echo "$mod" >> "$root/etc/modules"
  done
}

# add_binary ROOT STAGING PATH...: copy binaries from STAGING (unpacked debs) into ROOT with
# the shared libraries they need, resolved inside STAGING.
add_binary() {
  local root=$1 staging=$2; shift 2
  local libpath="$staging/lib/x86_64-linux-gnu:$staging/usr/lib/x86_64-linux-gnu"
  local bin lib
  mkdir -p "$root/lib/x86_64-linux-gnu" "$root/lib64" "$root/usr/sbin"
  for bin in "$@"; do
    cp "$staging/$bin" "$root/$bin"
    for lib in $(LD_LIBRARY_PATH=$libpath ldd "$staging/$bin" | awk '/=> \// {print $3}'); do
      case $lib in
        "$staging"/*) cp -L "$lib" "$root/lib/x86_64-linux-gnu/" ;;
        *) log "$bin needs $lib, which no listed package provides"; return 1 ;;
      esac
    done
  done
  cp -L "$staging/lib64/ld-linux-x86-64.so.2" "$root/lib64/"
}

# pack ROOT OUT: a gzip'd newc cpio initramfs.
pack() {
  (cd "$1" && find . | sort | cpio -o -H newc --quiet --owner 0:0 | gzip -6) > "$2"
}

# VIRTIO_MODULES: what a Debian kernel needs, in load order, for a virtio disk and NIC.
VIRTIO_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
                failover net_failover virtio_net virtio_blk)
