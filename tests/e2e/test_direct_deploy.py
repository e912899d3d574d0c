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

from ironic_lite.testing.machines import GiB, MachineLab
from tests.e2e.steps import INSTANCE_LINE, enroll, nova_deploy

MACS = {'ipa0': '52:54:00:e2:a0:01', 'ipa1': '52:54:00:e2:a0:02'}


def test_two_machines_from_one_cached_qcow2_download(ipa_ramdisk, whole_disk_image, tmp_path):
    lab = MachineLab(str(tmp_path / 'lab'), list(MACS.items()), memory=2048,
                     disk_size=5 * GiB, options={
                         'api': {'ramdisk_heartbeat_timeout': 20},
                         'agent': {'image_download_source': 'local'},
                         'conductor': {'deploy_callback_timeout': 600}})
    with lab:
        qcow2 = os.path.join(lab.dirs['httpboot'], 'images', 'instance.qcow2')
        os.makedirs(os.path.dirname(qcow2))
        subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                        whole_disk_image.image, qcow2], check=True)
        with open(qcow2, 'rb') as f:
            md5 = hashlib.md5(f.read()).hexdigest()  # noqa: S324 - Ironic's image_checksum
        source = f'{lab.http_url}/images/instance.qcow2'
        for name in MACS:
            enroll(lab, name, 'direct', ipa_ramdisk)
            instance_uuid = nova_deploy(lab, name, tmp_path, wait=1200, image_source=source,
                                        image_checksum=md5)
            node = lab.node(name)
            assert node['provision_state'] == 'active', lab.diagnostics(name)
            line = lab.wait_console(name, INSTANCE_LINE, timeout=300)
            assert line == (f'{INSTANCE_LINE} build={whole_disk_image.build_id} '
                            f'instance={instance_uuid}'), lab.diagnostics(name)
            # the real agent heartbeated (its version), the machine runs the instance
            assert node['driver_internal_info'].get('agent_version') == '13.0.0'
            assert node['power_state'] == 'power on'
        # One download of the qcow2 for both machines (the master image cache).
        assert lab.http_gets('/images/instance.qcow2') == 1
