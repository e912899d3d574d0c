"""End to end: a qemu machine deployed through the ``iscsi`` interface by a real ironic_lite.

Everything runs inside a network namespace the test creates (``MachineLab``): the all-in-one
``ironic-lite`` (``ipmi`` hardware, ``ipxe`` boot, ``iscsi`` deploy, the ``dnsmasq`` DHCP
provider), dnsmasq, an HTTP server for ``[deploy]http_root`` and ``ironic-lite-vbmc`` with one
machine (TCG). The test drives it with the ``openstack baremetal`` CLI as an operator (or
Nova) does. The machine PXE-boots the seed's bash ramdisk (``tools/ramdisk/iscsi-ramdisk.sh``:
Debian kernel, busybox, tgtd), which exports its disk over iSCSI and posts
``pass_deploy_info``; the conductor writes a whole-disk image (``instance-image.sh``) with
qemu-img over libiscsi, sends ``done`` and reboots the machine from its disk; the deployed
image prints its build id and the instance UUID it read from the config drive. Needs root and
Debian qemu-system-x86, ipxe-qemu, dnsmasq-base, tgt, qemu-block-extra, genisoimage, syslinux,
mtools (tools/ensure-services.sh): skipped without them, failed in CI (tests/e2e/conftest.py).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

from ironic_lite.testing import ramdisks
from ironic_lite.testing.machines import MachineLab
from tests.e2e.steps import INSTANCE_LINE, Built, enroll, nova_deploy

MAC = '52:54:00:e2:e0:01'


def test_iscsi_whole_disk_image_boots_and_names_itself(iscsi_ramdisk, whole_disk_image,
                                                       tmp_path):
    with MachineLab(str(tmp_path / 'lab'), [('m0', MAC)]) as lab:
        enroll(lab, 'm0', 'iscsi', iscsi_ramdisk)
        image = lab.image(whole_disk_image.image, 'instance.img')
        instance_uuid = nova_deploy(lab, 'm0', tmp_path, validate=True, image_source=image,
                                    root_gb='1')
        node = lab.node('m0')
        assert node['provision_state'] == 'active' and node['last_error'] is None
        assert node['power_state'] == 'power on'     # it was recorded as off before the fix
        # The ramdisk did its part on the machine, then the machine booted its disk.
        console = lab.console('m0')
        assert 'ironic-lite-ramdisk: got: done' in console, lab.diagnostics('m0')
        # a whole-disk image brings its boot loader: none installed, no second callback
        assert 'pass_bootloader_install_info' not in console, lab.diagnostics('m0')
        line = lab.wait_console('m0', INSTANCE_LINE)
        assert line == (f'{INSTANCE_LINE} build={whole_disk_image.build_id} '
                        f'instance={instance_uuid}'), lab.diagnostics('m0')
        # Undeploy: available and powered off.
        lab.cli('node', 'undeploy', 'm0', '--wait', '300', timeout=360)
        node = lab.wait_node('m0', lambda n: n['provision_state'] == 'available'
                             and n['reservation'] is None, 'available after undeploy')
        assert node['power_state'] == 'power off'


def _variant(src: str, dest: str, build_id: str) -> None:
    """A copy of the instance image whose boot entry names another build id."""
    shutil.copyfile(src, dest)
    part = f'{dest}@@1M'
    cfg = subprocess.run(['mtype', '-i', part, '::syslinux.cfg'], capture_output=True,
                         text=True, check=True).stdout
    cfg = re.sub(r'build_id=\S+', f'build_id={build_id}', cfg)
    with tempfile.NamedTemporaryFile('w', suffix='.cfg') as f:
        f.write(cfg)
        f.flush()
        subprocess.run(['mcopy', '-o', '-i', part, f.name, '::syslinux.cfg'], check=True)


def test_silent_ramdisk_fails_then_a_changed_image_at_the_same_url_boots(
        iscsi_ramdisk, whole_disk_image, tmp_path):
    """A deploy ramdisk that never calls back (the tiny one: it powers off) ends in ``deploy
    failed`` after ``deploy_callback_timeout`` with the machine off. Then the image behind the
    same URL changes and a redeploy with the real ramdisk boots the NEW image: the master copy
    cached by the failed deploy must not be written (the seed notes' stale-cache trap)."""
    tiny = ramdisks.build('tiny')
    silent = Built(kernel=os.path.join(tiny, 'vmlinuz'), ramdisk=os.path.join(tiny, 'initramfs'))
    # The timeout also bounds the real ramdisk's callback in the redeploy: 45 s was too short
    # on 2 cores at load 12 (the ramdisk was starting its target when the deploy failed).
    lab = MachineLab(str(tmp_path / 'lab'), [('m1', MAC)],
                     options={'conductor': {'deploy_callback_timeout': 90}})
    with lab:
        image = lab.image(whole_disk_image.image, 'instance.img')
        enroll(lab, 'm1', 'iscsi', silent)
        lab.cli('node', 'set', 'm1', '--instance-info', f'image_source={image}')
        lab.cli('node', 'deploy', 'm1')
        node = lab.wait_node('m1', lambda n: n['provision_state'] == 'deploy failed'
                             and n['reservation'] is None, 'deploy failed', timeout=240)
        assert 'Timeout reached while waiting for callback' in node['last_error'] \
            or 'callback' in node['last_error'], node['last_error']
        assert node['power_state'] == 'power off'
        assert 'IRONIC-LITE-TINY up' in lab.console('m1')    # it did boot the silent ramdisk

        _variant(whole_disk_image.image, image[len('file://'):], 'changed0001')
        lab.cli('node', 'set', 'm1',
                '--driver-info', f'deploy_kernel={lab.image(iscsi_ramdisk.kernel)}',
                '--driver-info', f'deploy_ramdisk={lab.image(iscsi_ramdisk.ramdisk)}')
        offset = len(lab.console('m1'))
        lab.cli('node', 'deploy', 'm1', '--wait', '900', timeout=960)
        line = lab.wait_console('m1', INSTANCE_LINE, after=offset)
        assert line.startswith(f'{INSTANCE_LINE} build=changed0001 '), lab.diagnostics('m1')
