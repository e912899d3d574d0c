"""Issue 4 acceptance for the ``iscsi`` deploy interface, end to end on loopback.

The all-in-one ``ironic-lite`` daemon runs as a subprocess (SQLite, in-process RPC) with
``ipmi`` nodes (``ipmitool`` power/management against fake BMCs in this process), ``pxe`` boot
and ``iscsi`` deploy. The bash ramdisk simulator (``ironic_lite.tools.bash_ramdisk``) reads
the PXE config the conductor wrote, exposes a sparse file through a real ``tgtd`` and posts
``pass_deploy_info``; the conductor writes the image with ``qemu-img`` over libiscsi. Nothing
in the path is mocked. Needs Debian ``tgt``, ``qemu-utils``, ``qemu-block-extra``, ``fdisk``
(tools/ensure-services.sh installs them); missing tools skip here and fail in CI.
"""
from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from ironic_lite.testing.iscsi import (
    PASSWORD,
    USER,
    Background,
    IscsiAio,
    MiB,
    read,
    sparse_disk,
    tools_ok,
)
from ironic_lite.tools import bash_ramdisk
from ironic_lite.tools.fakebmc import FakeBmcFleet
from tests.conftest import require


@pytest.fixture(scope='module')
def fleet():
    require(tools_ok(), 'tgt, qemu-utils with qemu-block-extra, fdisk')
    with FakeBmcFleet(ports=[0] * 30, user=USER, password=PASSWORD) as f:
        yield f


@pytest.fixture(scope='module')
def aio(fleet, tmp_path_factory):
    with IscsiAio.running(str(tmp_path_factory.mktemp('iscsi_aio'))) as daemon:
        yield daemon


@pytest.fixture(scope='module')
def whole_disk(aio) -> bytes:
    data = os.urandom(3 * MiB) + b'\0' * MiB + os.urandom(MiB)
    aio.write_image('disk.raw', data)
    return data


def _port(fleet, i: int) -> int:
    return fleet.ports[i]


def test_cli_deploy_whole_disk_image_byte_identical(aio, fleet, whole_disk, tmp_path):
    mac = '52:54:00:4a:00:01'
    aio.available_node('iscsi-cli', _port(fleet, 0), mac,
                       image_source=f'file://{aio.images}/disk.raw')
    disk = sparse_disk(str(tmp_path / 'disk0'), 64 * MiB)
    ramdisk = aio.ramdisk(mac, disk)
    bg = Background([ramdisk])
    aio.cli('node', 'deploy', 'iscsi-cli', '--wait', '120', timeout=180)
    assert bg.join() == ['done'], ramdisk.events
    node = aio.wait_state('iscsi-cli', ('active',))
    assert read(disk, 0, len(whole_disk)) == whole_disk
    assert read(disk, len(whole_disk)) == b'\0' * (64 * MiB - len(whole_disk))
    info = node['driver_internal_info']
    assert 'deploy_key_hash' not in info and node['last_error'] is None
    assert info['deploy_write_progress']['percent'] == 100.0
    assert info['image_download_progress']['instance_image']['bytes'] == len(whole_disk)
    assert ramdisk.events[:2] == ['pass_deploy_info:202', 'done']
    # the key was on the ramdisk's command line only; the API never showed it
    assert ramdisk.params['deployment_key'] not in json.dumps(node)
    assert fleet.state(_port(fleet, 0))['power'] == 'on'


def test_qcow2_source_written_as_raw(aio, fleet, whole_disk, tmp_path):
    qcow2 = os.path.join(aio.images, 'disk.qcow2')
    subprocess.run(['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2',
                    os.path.join(aio.images, 'disk.raw'), qcow2], check=True)
    assert read(qcow2, 0, 4) == b'QFI\xfb'
    mac = '52:54:00:4a:00:02'
    aio.available_node('iscsi-qcow2', _port(fleet, 1), mac, image_source=f'file://{qcow2}')
    disk = sparse_disk(str(tmp_path / 'disk1'), 32 * MiB)
    bg = Background([aio.ramdisk(mac, disk)])
    aio.deploy('iscsi-qcow2')
    assert bg.join() == ['done']
    aio.wait_state('iscsi-qcow2', ('active',))
    assert read(disk, 0, len(whole_disk)) == whole_disk


def _fs_image(tmp_path, size_mb: int = 8) -> tuple[bytes, str]:
    root = tmp_path / 'rootfs'
    (root / 'etc').mkdir(parents=True)
    (root / 'etc' / 'hostname').write_text('iscsi-deployed\n')
    image = tmp_path / 'root.img'
    subprocess.run(['mkfs.ext4', '-q', '-F', '-d', str(root), str(image), f'{size_mb}M'],
                   check=True)
    fs_uuid = subprocess.run(['blkid', '-p', '-o', 'value', '-s', 'UUID', str(image)],
                             capture_output=True, text=True, check=True).stdout.strip()
    return image.read_bytes(), fs_uuid


def test_partition_image_layout_and_local_boot(aio, fleet, tmp_path):
    data, fs_uuid = _fs_image(tmp_path)
    href = aio.write_image('root.img', data)
    mac = '52:54:00:4a:00:03'
    aio.available_node('iscsi-part', _port(fleet, 2), mac, image_source=href, root_gb=1,
                       swap_mb=16, kernel=f'file://{aio.images}/vmlinuz',
                       ramdisk=f'file://{aio.images}/initrd')
    disk = sparse_disk(str(tmp_path / 'disk2'), 1100 * MiB)
    ramdisk = aio.ramdisk(mac, disk)
    bg = Background([ramdisk])
    aio.deploy('iscsi-part')
    assert bg.join() == ['done'], ramdisk.events
    node = aio.wait_state('iscsi-part', ('active',))
    # local boot of a partition image: the ramdisk installed the boot loader first
    assert ramdisk.events == ['pass_deploy_info:202', 'done',
                              'pass_bootloader_install_info:202', 'done']
    table = json.loads(subprocess.run(['sfdisk', '-J', disk], capture_output=True,
                                      text=True, check=True).stdout)['partitiontable']
    assert table['label'] == 'dos'
    parts = table['partitions']
    assert [(p['start'], p['size'], p['type']) for p in parts] == [
        (2048, 16 * 2048, '82'), (2048 + 16 * 2048, 1024 * 2048, '83')]
    assert parts[1].get('bootable') is True
    root_start = parts[1]['start'] * 512
    assert read(disk, root_start, len(data)) == data
    assert read(disk, 2048 * 512 + 4086, 10) == b'SWAPSPACE2'
    info = node['driver_internal_info']
    assert info['root_uuid_or_disk_id'] == fs_uuid
    disk_id = table['id'][2:].zfill(8).lower()
    assert info['root_partition_uuid'] == f'{disk_id}-02'
    assert info['partitions']['root']['start'] == root_start



def _blkid(disk: str, offset: int, tag: str) -> str:
    return subprocess.run(['blkid', '-p', '-O', str(offset), '-o', 'value', '-s', tag, disk],
                          capture_output=True, text=True).stdout.strip()


def test_partition_image_with_ephemeral_partition(aio, fleet, tmp_path):
    """ephemeral_gb/ephemeral_format: upstream's order (ephemeral, swap, root last), each of
    the requested size, the ephemeral partition carrying a fresh filesystem of the requested
    format (not the default ext4) labelled ``ephemeral0`` that fsck finds clean, even over a
    disk that held other data."""
    data, fs_uuid = _fs_image(tmp_path)
    href = aio.write_image('root-eph.img', data)
    mac = '52:54:00:4a:00:07'
    aio.available_node('iscsi-eph', _port(fleet, 6), mac, image_source=href, root_gb=1,
                       swap_mb=16, ephemeral_gb=1, ephemeral_format='ext3',
                       kernel=f'file://{aio.images}/vmlinuz',
                       ramdisk=f'file://{aio.images}/initrd')
    disk = sparse_disk(str(tmp_path / 'disk-eph'), 2100 * MiB)
    eph_start, eph_size = 2048 * 512, 1024 * MiB
    with open(disk, 'r+b') as f:  # an earlier tenant's data where the ephemeral fs goes
        for offset in range(0, 64 * MiB, 4 * MiB):
            f.seek(eph_start + offset)
            f.write(b'\xa5' * MiB)
    ramdisk = aio.ramdisk(mac, disk)
    bg = Background([ramdisk])
    aio.deploy('iscsi-eph')
    assert bg.join() == ['done'], ramdisk.events
    node = aio.wait_state('iscsi-eph', ('active',))
    assert node['last_error'] is None
    table = json.loads(subprocess.run(['sfdisk', '-J', disk], capture_output=True,
                                      text=True, check=True).stdout)['partitiontable']
    parts = table['partitions']
    eph_sectors, swap_sectors = 1024 * 2048, 16 * 2048
    assert [(p['start'], p['size'], p['type']) for p in parts] == [
        (2048, eph_sectors, '83'),
        (2048 + eph_sectors, swap_sectors, '82'),
        (2048 + eph_sectors + swap_sectors, 1024 * 2048, '83')]
    assert [p.get('bootable', False) for p in parts] == [False, False, True]
    # ephemeral: an ext superblock (magic 0xEF53 at 1080) of the requested format
    assert read(disk, eph_start + 1080, 2) == b'\x53\xef'
    assert _blkid(disk, eph_start, 'TYPE') == 'ext3'
    assert _blkid(disk, eph_start, 'LABEL') == 'ephemeral0'
    eph = tmp_path / 'eph.img'
    subprocess.run(['dd', f'if={disk}', f'of={eph}', 'bs=4M', 'iflag=skip_bytes,count_bytes',
                    f'skip={eph_start}', f'count={eph_size}', 'conv=sparse', 'status=none'],
                   check=True)
    fsck = subprocess.run(['e2fsck', '-fn', str(eph)], capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    swap_start = parts[1]['start'] * 512
    assert read(disk, swap_start + 4086, 10) == b'SWAPSPACE2'
    root_start = parts[2]['start'] * 512
    assert read(disk, root_start, len(data)) == data
    info = node['driver_internal_info']
    assert info['root_uuid_or_disk_id'] == fs_uuid
    disk_id = table['id'][2:].zfill(8).lower()
    assert info['root_partition_uuid'] == f'{disk_id}-03'
    assert {name: (p['number'], p['start'], p['size'])
            for name, p in info['partitions'].items()} == {
        'ephemeral': (1, eph_start, eph_size), 'swap': (2, swap_start, 16 * MiB),
        'root': (3, root_start, 1024 * MiB)}

def test_wrong_key_refused_before_cast_node_unchanged(aio, fleet, whole_disk):
    mac = '52:54:00:4a:00:04'
    aio.available_node('iscsi-key', _port(fleet, 3), mac,
                       image_source=f'file://{aio.images}/disk.raw')
    aio.deploy('iscsi-key')
    before = aio.wait_state('iscsi-key', ('wait call-back',))
    path = '/v1/nodes/iscsi-key/vendor_passthru/pass_deploy_info'
    body = {'address': '127.0.0.1', 'iqn': f'iqn.2008-10.org.openstack:{before["uuid"]}',
            'error': ''}
    for key_body in ({**body, 'key': 'wrong'}, body, {**body, 'key': ''}):
        resp = aio.req('POST', path, key_body, status=400)
        assert 'Deploy key does not match' in resp.text, resp.text
    resp = aio.req('POST', '/v1/nodes/iscsi-key/vendor_passthru?method=pass_deploy_info',
                   {**body, 'key': 'x', 'bogus': 1}, status=400)
    assert 'bogus' in resp.text and 'Traceback' not in resp.text
    assert aio.node('iscsi-key') == before
    # The real ramdisk (right key) still deploys the node afterwards.
    assert re.search(r'deployment_key=\S+', open(bash_ramdisk.config_path(
        aio.tftp_root, mac)).read())


def test_ramdisk_error_fails_the_deploy_with_its_message(aio, fleet, whole_disk, tmp_path):
    mac = '52:54:00:4a:00:05'
    aio.available_node('iscsi-err', _port(fleet, 4), mac,
                       image_source=f'file://{aio.images}/disk.raw')
    bg = Background([aio.ramdisk(mac, str(tmp_path / 'none'),
                                 fail_with='Could not find disk to use.')])
    aio.deploy('iscsi-err')
    assert bg.join()[0].startswith('error reported (202)')
    node = aio.wait_state('iscsi-err', ('deploy failed',))
    assert 'Could not find disk to use.' in node['last_error'], node['last_error']
    assert not os.path.exists(os.path.join(aio.tftp_root, node['uuid']))


def test_ramdisk_never_calls_back_times_out(fleet, tmp_path):
    aio = IscsiAio(str(tmp_path / 'aio'), callback_timeout=2)
    aio.write_image('disk.raw', b'x' * MiB)
    aio.daemon.start()
    try:
        aio.available_node('iscsi-silent', _port(fleet, 5), '52:54:00:4a:00:06',
                           image_source=f'file://{aio.images}/disk.raw')
        aio.deploy('iscsi-silent')
        node = aio.wait_state('iscsi-silent', ('deploy failed',), timeout=60)
        assert 'Timeout reached while waiting for callback' in node['last_error']
        assert 'deploy_callback_timeout' in node['last_error']
    finally:
        aio.daemon.stop()


def test_twenty_nodes_concurrently(aio, fleet, whole_disk, tmp_path):
    count = 20
    macs = [f'52:54:00:4b:00:{i:02x}' for i in range(count)]
    names = [f'iscsi-many-{i}' for i in range(count)]
    for i, (name, mac) in enumerate(zip(names, macs, strict=True)):
        aio.available_node(name, _port(fleet, 10 + i), mac,
                           image_source=f'file://{aio.images}/disk.raw')
    disks = [sparse_disk(str(tmp_path / f'many{i}'), 16 * MiB) for i in range(count)]
    ramdisks = [aio.ramdisk(mac, disk) for mac, disk in zip(macs, disks, strict=True)]
    bg = Background(ramdisks)
    for name in names:
        aio.deploy(name)
    assert bg.join(300) == ['done'] * count, [r.events for r in ramdisks]
    log = aio.log()
    for name, disk, ramdisk in zip(names, disks, ramdisks, strict=True):
        node = aio.wait_state(name, ('active',))
        assert node['reservation'] is None and node['last_error'] is None
        assert read(disk, 0, len(whole_disk)) == whole_disk
        # exactly one write per node, one "done" per ramdisk
        assert log.count(f'Node {node["uuid"]}: writing a whole-disk') == 1
        assert ramdisk.events.count('done') == 1
    locked = [n for n in aio.req('GET', '/v1/nodes?fields=reservation,name',
                                 status=200).json()['nodes'] if n['reservation']]
    assert locked == []
