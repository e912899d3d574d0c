"""End to end: a PARTITION image deployed through ``iscsi`` with local boot on a qemu machine.

The image is upstream's kind of partition image (``tools/ramdisk/partition-image.sh``): an ext4
root filesystem plus its kernel and initramfs (instance_info ``kernel``/``ramdisk``), with
``/boot/extlinux/extlinux.conf`` but no boot loader. The conductor lays out the disk (config
drive partition, root partition last and active) and writes the filesystem into the root
partition over the bash ramdisk's iSCSI target, sends ``done``; the ramdisk (the seed's flow)
installs extlinux into the root partition and syslinux's MBR code, posts
``pass_bootloader_install_info``; the conductor sets disk boot, sends ``done`` again and reboots
the machine, which boots from its disk — through the boot loader the ramdisk installed — and the
root filesystem's init prints the build id, the instance UUID from the config drive and the root
device. Set-up as in ``test_iscsi_deploy`` (tests/e2e/conftest.py).
"""
from __future__ import annotations

import os
import re

from ironic_lite.testing.machines import MachineLab
from tests.e2e.steps import INSTANCE_LINE, enroll, nova_deploy

MAC = '52:54:00:e2:e0:03'


def test_partition_image_local_boot_installs_a_boot_loader_and_boots(
        iscsi_ramdisk, partition_image, tmp_path):
    with MachineLab(str(tmp_path / 'lab'), [('p0', MAC)]) as lab:
        enroll(lab, 'p0', 'iscsi', iscsi_ramdisk)
        instance_uuid = nova_deploy(
            lab, 'p0', tmp_path, validate=True,
            image_source=lab.image(partition_image.image, 'root.img'),
            kernel=lab.image(os.path.join(partition_image.dir, 'vmlinuz'), 'root.vmlinuz'),
            ramdisk=lab.image(os.path.join(partition_image.dir, 'initramfs'), 'root.initramfs'),
            root_gb='1', capabilities='{"boot_option": "local"}')
        node = lab.node('p0')
        assert node['provision_state'] == 'active' and node['last_error'] is None, \
            lab.diagnostics('p0')
        assert node['power_state'] == 'power on'
        info = node['driver_internal_info']
        with open(os.path.join(partition_image.dir, 'root-uuid')) as f:
            assert info['root_uuid_or_disk_id'] == f.read().strip()
        root = info['partitions']['root']['number']
        assert root == max(p['number'] for p in info['partitions'].values())
        # The ramdisk's two rounds: the image written, then the boot loader installed.
        console = lab.console('p0')
        assert f'installing extlinux on /dev/vda{root}' in console, lab.diagnostics('p0')
        assert console.count('ironic-lite-ramdisk: got: done') == 2, lab.diagnostics('p0')
        after = console.rindex('ironic-lite-ramdisk: got: done')
        # The machine boots its disk through the installed boot loader, runs the root
        # filesystem's init, which names the image, the instance and the root it runs on.
        line = lab.wait_console('p0', INSTANCE_LINE, after=after)
        assert line == (f'{INSTANCE_LINE} build={partition_image.build_id} '
                        f'instance={instance_uuid} root=/dev/vda{root}'), lab.diagnostics('p0')
        booted = lab.console('p0')[after:]
        assert re.search(r'(EXT|SYS)LINUX 6\.\d+', booted), lab.diagnostics('p0')
