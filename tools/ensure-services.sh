#!/usr/bin/env bash
# Make sure the services the test suite talks to are installed and running on loopback:
# RabbitMQ, PostgreSQL, MariaDB (and the system tools tests use). Idempotent; root installs
# missing Debian packages, otherwise it only starts what is there.
set -uo pipefail

log() { echo "ensure-services: $*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

APT_UPDATED=0
apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || { log "cannot install $*"; return 1; }
  if [ "$APT_UPDATED" = 0 ]; then apt-get update -qq >/dev/null 2>&1; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

wait_port() {  # port, seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do port_open "$1" && return 0; sleep 0.1; done
  return 1
}

# Tools used by tests (image conversion).
command -v qemu-img >/dev/null || apt_install qemu-utils || true
# iSCSI deploy (tests/functional/test_iscsi_deploy.py, bench/bench_iscsi_deploy.py): a tgtd
# target in userspace, qemu-img's libiscsi driver, sfdisk/mkswap/blkid for partition images.
command -v tgtd >/dev/null || apt_install tgt || true
[ -e /usr/lib/x86_64-linux-gnu/qemu/block-iscsi.so ] || ls /usr/lib/*/qemu/block-iscsi.so \
  >/dev/null 2>&1 || apt_install qemu-block-extra || true
command -v iscsi-ls >/dev/null || apt_install libiscsi-bin || true
command -v sfdisk >/dev/null || apt_install fdisk || true
command -v mkfs.ext4 >/dev/null || apt_install e2fsprogs || true
# Emulated machines (ironic-lite-vbmc, tests/functional/test_vbmc.py, tests/e2e/): qemu under
# TCG with its iPXE ROMs, dnsmasq for DHCP/TFTP in a test namespace, and what the ramdisk and
# image scripts in tools/ramdisk/ use (they fetch the kernel, busybox and tgt themselves with
# apt-get download).
command -v qemu-system-x86_64 >/dev/null || apt_install qemu-system-x86 || true
[ -e /usr/lib/ipxe/qemu/pxe-virtio.rom ] || apt_install ipxe-qemu || true
command -v dnsmasq >/dev/null || apt_install dnsmasq-base || true
command -v cpio >/dev/null || apt_install cpio || true
command -v debootstrap >/dev/null || apt_install debootstrap || true
command -v zstd >/dev/null || apt_install zstd || true
command -v genisoimage >/dev/null || apt_install genisoimage || true
command -v mcopy >/dev/null || apt_install mtools || true
command -v mkfs.vfat >/dev/null || apt_install dosfstools || true
[ -e /usr/lib/syslinux/mbr/mbr.bin ] || apt_install syslinux-common syslinux || true
command -v syslinux >/dev/null || apt_install syslinux || true

# tools/try-it.sh needs only the machine tools above.
[ "${IRONIC_LITE_MACHINES_ONLY:-0}" = 1 ] && exit 0

# RabbitMQ
if ! port_open 5672; then
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  log "starting RabbitMQ"
  RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-server -detached \
    >/dev/null 2>&1 || true
  rabbitmqctl -q await_startup >/dev/null 2>&1 || wait_port 5672 60
fi
port_open 5672 && log "RabbitMQ up" || log "RabbitMQ NOT reachable"

# PostgreSQL
if ! port_open 5432; then
  ls /etc/postgresql >/dev/null 2>&1 || apt_install postgresql
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start \
    >/dev/null 2>&1 || true
  wait_port 5432 30
fi
if port_open 5432 && command -v psql >/dev/null; then
  # trust auth for the postgres role on loopback is what the tests expect
  psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1 \
    || su postgres -c "psql -c \"ALTER USER postgres PASSWORD NULL\"" >/dev/null 2>&1 || true
fi
port_open 5432 && log "PostgreSQL up" || log "PostgreSQL NOT reachable"

# MariaDB
if ! port_open 3306; then
  command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || apt_install mariadb-server
  log "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 \
    || true
  wait_port 3306 30
fi
port_open 3306 && log "MariaDB up" || log "MariaDB NOT reachable"
exit 0
