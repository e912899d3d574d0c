"""What the end-to-end tests share: the built ramdisks and instance images (fixtures, built
once per session and cached by :mod:`ironic_lite.testing.ramdisks`) and the steps every test
takes the way Nova does (:mod:`tests.e2e.steps`). Without root and the Debian packages
``tools/ensure-services.sh`` installs, the fixtures skip (fail in CI)."""
from __future__ import annotations

import os
import shutil

import pytest

from ironic_lite.testing import iscsi, machines, ramdisks
from tests.conftest import require
from tests.e2e.steps import Built


def _built(ramdisk: str | None, image: str | None, image_file: str | None) -> Built:
    out = Built()
    if ramdisk:
        path = ramdisks.build(ramdisk)
        out.kernel, out.ramdisk = os.path.join(path, 'vmlinuz'), os.path.join(path, 'initramfs')
    if image:
        path = ramdisks.build(image)
        out.image = os.path.join(path, image_file)
        with open(os.path.join(path, 'build-id')) as f:
            out.build_id = f.read().strip()
        out.dir = path
    return out


@pytest.fixture(scope='session')
def iscsi_ramdisk() -> Built:
    """The seed's bash iSCSI deploy ramdisk (kernel, ramdisk)."""
    require(machines.tools_ok() and ramdisks.tools_ok() and iscsi.tools_ok(),
            'root, qemu-system-x86, ipxe-qemu, dnsmasq, tgt, qemu-block-extra')
    return _built('iscsi-ramdisk', None, None)


@pytest.fixture(scope='session')
def ipa_ramdisk() -> Built:
    """The real ironic-python-agent ramdisk (kernel, ramdisk)."""
    require(machines.tools_ok() and ramdisks.tools_ok() and ramdisks.debootstrap_ok(),
            'root, qemu-system-x86, ipxe-qemu, dnsmasq, debootstrap, zstd')
    return _built('ipa-ramdisk', None, None)


@pytest.fixture(scope='session')
def whole_disk_image() -> Built:
    """``instance-image.sh``: a whole-disk image (image, build_id)."""
    require(ramdisks.tools_ok(), 'apt-get, dpkg-deb, cpio')
    return _built(None, 'instance-image', 'disk.img')


@pytest.fixture(scope='session')
def partition_image() -> Built:
    """``partition-image.sh``: a root filesystem image (image) with its kernel and initramfs
    (``dir``/vmlinuz, ``dir``/initramfs), build_id."""
    require(ramdisks.tools_ok() and bool(shutil.which('mkfs.ext4')),
            'apt-get, dpkg-deb, cpio, e2fsprogs')
    return _built(None, 'partition-image', 'root.img')
