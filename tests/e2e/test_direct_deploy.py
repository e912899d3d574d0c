"""End to end: two qemu machines deployed by the REAL ironic-python-agent (``direct``).

The IPA ramdisk is built by ``tools/ramdisk/ipa-ramdisk.sh`` (debootstrapped Debian +
``pip install ironic-python-agent``, cached). Inside the lab's namespace (see
``test_iscsi_deploy``), each machine iPXE-boots it; IPA looks the node up, heartbeats (the
conductor reaches its command API over https with automatic TLS), streams the image from the
conductor's HTTP image cache onto its virtio disk with ``prepare_image``; the conductor powers it
off, sets disk boot and powers it on; the image prints its build id and instance UUID. The
image is a qcow2 served over http: both deploys share ONE download through the master image
cache. One machine at a time (IPA's ramdisk needs 2 GiB; two TCG machines on 2 cores would crawl).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import uuid

import pytest

from ironic_lite.testing import machines, ramdisks
from ironic_lite.testing.machines import GiB, MachineLab
from tests.conftest import require
from tests.e2e.test_iscsi_deploy import INSTANCE_LINE, _config_drive

MACS = {'ipa0': '52:54:00:e2:a0:01', 'ipa1': '52:54:00:e2:a0:02'}


@pytest.fixture(scope='module')
def ipa():
    require(machines.tools_ok() and ramdisks.tools_ok() and ramdisks.debootstrap_ok(),
            'root, qemu-system-x86, ipxe-qemu, dnsmasq, debootstrap, zstd')
    ramdisk, image = ramdisks.build('ipa-ramdisk'), ramdisks.build('instance-image')
    with open(os.path.join(image, 'build-id')) as f:
        build_id = f.read().strip()
    return {'kernel': os.path.join(ramdisk, 'vmlinuz'),
            'ramdisk': os.path.join(ramdisk, 'initramfs'),
            'image': os.path.join(image, 'disk.img'), 'build_id': build_id}


def test_two_machines_from_one_cached_qcow2_download(ipa, tmp_path):
    lab = MachineLab(str(tmp_path / 'lab'), list(MACS.items()), memory=2048,
                     disk_size=5 * GiB, options={
                         'api': {'ramdisk_heartbeat_timeout': 20},
                         'agent': {'image_download_source': 'local'},
                         'conductor': {'deploy_callback_timeout': 600}})
    with lab:
        qcow2 = os.path.join(lab.dirs['httpboot'], 'images', 'instance.qcow2')
        os.makedirs(os.path.dirname(qcow2))
        subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', ipa['image'], qcow2],
                       check=True)
        with open(qcow2, 'rb') as f:
            md5 = hashlib.md5(f.read()).hexdigest()  # noqa: S324 - Ironic's image_checksum
        source = f'{lab.http_url}/images/instance.qcow2'
        kernel = lab.image(ipa['kernel'], 'ipa.vmlinuz')
        ramdisk = lab.image(ipa['ramdisk'], 'ipa.initramfs')
        for name in MACS:
            lab.enroll(name, deploy_interface='direct', deploy_kernel=kernel,
                       deploy_ramdisk=ramdisk)
            instance_uuid = str(uuid.uuid4())
            lab.cli('node', 'set', name, '--instance-uuid', instance_uuid,
                    '--instance-info', f'image_source={source}',
                    '--instance-info', f'image_checksum={md5}')
            lab.cli('node', 'deploy', name, '--config-drive',
                    _config_drive(tmp_path / f'cd-{name}', instance_uuid),
                    '--wait', '1200', timeout=1260)
            node = lab.node(name)
            assert node['provision_state'] == 'active', lab.diagnostics(name)
            line = lab.wait_console(name, INSTANCE_LINE, timeout=300)
            assert line == (f"{INSTANCE_LINE} build={ipa['build_id']} "
                            f'instance={instance_uuid}'), lab.diagnostics(name)
            # the real agent heartbeated (its version), the machine runs the instance
            assert node['driver_internal_info'].get('agent_version') == '13.0.0'
            assert node['power_state'] == 'power on'
        # One download of the qcow2 for both machines (the master image cache).
        assert lab.http_gets('/images/instance.qcow2') == 1
