"""Config drives and ``preserve_ephemeral`` on the ``iscsi`` deploy, end to end on loopback.

As ``test_iscsi_deploy.py``: the all-in-one daemon as a subprocess, ``ipmi`` nodes against fake
BMCs, the bash ramdisk simulator exposing sparse disk files through real ``tgtd`` targets,
``qemu-img`` over libiscsi. Config drives are real ISO 9660 images labelled ``config-2`` (built
by the product's JSON config drive builder), passed as gzip+base64 text or served over HTTP by
a real web server in this process. Nothing in the path is mocked.
"""
from __future__ import annotations

import base64
import functools
import gzip
import http.server
import json
import os
import subprocess
import threading

import pytest

from ironic_lite.common import configdrive
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
from ironic_lite.tools.fakebmc import FakeBmcFleet
from tests.conftest import require

SECTOR = 512


@pytest.fixture(scope='module')
def fleet():
    require(tools_ok(), 'tgt, qemu-utils with qemu-block-extra, fdisk')
    with FakeBmcFleet(ports=[0] * 16, user=USER, password=PASSWORD) as f:
        yield f


@pytest.fixture(scope='module')
def aio(fleet, tmp_path_factory):
    with IscsiAio.running(str(tmp_path_factory.mktemp('iscsi_cd_aio'))) as daemon:
        yield daemon


@pytest.fixture(scope='module')
def web(tmp_path_factory):
    """A real web server on loopback serving a directory: (directory, base URL)."""
    root = tmp_path_factory.mktemp('configdrives')
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


# -- helpers ---------------------------------------------------------------------------------
def _iso(marker: str) -> bytes:
    return configdrive.build_iso('0a2b3c4d-0000-4000-8000-000000000000', 'cd-node',
                                 {'meta_data': {'marker': marker},
                                  'user_data': '#cloud-config\n'})


def _encoded(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data)).decode()


def _table(disk: str) -> dict:
    out = subprocess.run(['sfdisk', '-J', disk], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)['partitiontable']


def _parts(disk: str) -> list[tuple]:
    return [(p['node'][len(disk):], p['start'], p['size'], p['type'].upper(), p.get('uuid'))
            for p in _table(disk)['partitions']]


def _blkid(disk: str, offset: int, tag: str) -> str:
    return subprocess.run(['blkid', '-p', '-O', str(offset), '-o', 'value', '-s', tag, disk],
                          capture_output=True, text=True).stdout.strip()


def _assert_iso_at(disk: str, offset: int, iso: bytes) -> None:
    assert read(disk, offset, len(iso)) == iso
    assert _blkid(disk, offset, 'LABEL') == 'config-2'
    assert _blkid(disk, offset, 'TYPE') == 'iso9660'


def _fs_image(tmp_path, size_mb: int = 8) -> bytes:
    root = tmp_path / 'rootfs'
    (root / 'etc').mkdir(parents=True, exist_ok=True)
    (root / 'etc' / 'hostname').write_text('cd-deployed\n')
    image = tmp_path / 'root.img'
    subprocess.run(['mkfs.ext4', '-q', '-F', '-d', str(root), str(image), f'{size_mb}M'],
                   check=True)
    return image.read_bytes()


def _disk_image(path, label: str, parts: list[tuple[int, int]],
                contents: dict[int, bytes] | None = None) -> bytes:
    """An 8 MiB whole-disk image: random bytes, an MBR/GPT table with ``parts`` (start, size
    in sectors), ``contents`` written at the start of partition N."""
    with open(path, 'wb') as f:
        f.write(os.urandom(8 * MiB))
    script = f'label: {label}\n' + ''.join(f'start={s}, size={n}\n' for s, n in parts)
    subprocess.run(['sfdisk', '-q', str(path)], input=script.encode(), check=True,
                   capture_output=True)
    with open(path, 'r+b') as f:
        for number, data in (contents or {}).items():
            f.seek(parts[number - 1][0] * SECTOR)
            f.write(data)
    with open(path, 'rb') as f:
        return f.read()


def _deploy(aio, name: str, drive, target: str = 'active') -> None:
    body = {'target': target}
    if drive is not None:
        body['configdrive'] = drive
    aio.req('PUT', f'/v1/nodes/{name}/states/provision', body, status=202)


def _patch(aio, name: str, **instance_info) -> None:
    aio.req('PATCH', f'/v1/nodes/{name}', [
        {'op': 'add', 'path': f'/instance_info/{k}', 'value': v}
        for k, v in instance_info.items()], status=200)


def _run_ramdisk(aio, mac: str, disk: str) -> list:
    """Start the simulated ramdisk once the node waits for it (its PXE config is the new one)."""
    ramdisk = aio.ramdisk(mac, disk)
    results = Background([ramdisk]).join()
    return results + [ramdisk.events]


# -- partition images ------------------------------------------------------------------------
def test_partition_image_gets_a_config_drive_partition(aio, fleet, tmp_path):
    """GPT partition image + config drive: upstream's order (swap, config drive, root last),
    the config drive partition as large as the ISO rounded up to MiB, holding its exact bytes."""
    data = _fs_image(tmp_path)
    href = aio.write_image('cd-root.img', data)
    iso = _iso('partition-image')
    mac = '52:54:00:4c:00:01'
    aio.available_node('cd-part', fleet.ports[0], mac, image_source=href, root_gb=1,
                       swap_mb=8, capabilities='disk_label:gpt',
                       kernel=f'file://{aio.images}/vmlinuz',
                       ramdisk=f'file://{aio.images}/initrd')
    disk = sparse_disk(str(tmp_path / 'disk'), 1040 * MiB)
    bg = Background([ramdisk := aio.ramdisk(mac, disk)])
    _deploy(aio, 'cd-part', _encoded(iso))
    assert bg.join() == ['done'], ramdisk.events
    node = aio.wait_state('cd-part', ('active',))
    assert node['last_error'] is None
    cd_mb = -(-len(iso) // MiB)
    parts = _parts(disk)
    linux, swap = '0FC63DAF-8483-4772-8E79-3D69D8477DE4', '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F'
    assert [p[:4] for p in parts] == [
        ('1', 2048, 8 * 2048, swap), ('2', 2048 + 8 * 2048, cd_mb * 2048, linux),
        ('3', 2048 + (8 + cd_mb) * 2048, 1024 * 2048, linux)]
    cd_start = parts[1][1] * SECTOR
    _assert_iso_at(disk, cd_start, iso)
    assert read(disk, parts[2][1] * SECTOR, len(data)) == data
    info = node['driver_internal_info']
    assert info['partitions']['configdrive'] == {
        'number': 2, 'start': cd_start, 'size': cd_mb * MiB, 'uuid': parts[1][4].lower()}
    assert info['partitions']['root']['number'] == 3
    assert info['root_partition_uuid'] == parts[2][4].lower()
    assert info['instance'] == {'root_gb': 1, 'swap_mb': 8, 'ephemeral_gb': 0}


# -- whole-disk images -----------------------------------------------------------------------
IMAGE_PARTS = [(2048, 4096), (6144, 8192)]   # sectors, inside the 8 MiB image


@pytest.mark.parametrize('label', ['dos', 'gpt'])
def test_whole_disk_image_gets_a_partition_at_the_end(aio, fleet, web, tmp_path, label):
    """MBR: a primary partition (type 0c) over the disk's last 64 MiB; GPT: backup table moved
    to the disk's end, a partition of at least 64 MiB ending at the last usable sector. The
    image's partitions and their data are intact. The dos case downloads the config drive."""
    image = _disk_image(tmp_path / 'image', label, IMAGE_PARTS)
    href = aio.write_image(f'cd-whole-{label}.raw', image)
    iso = _iso(f'whole-{label}')
    if label == 'dos':
        root, url = web
        (root / 'cd-whole.b64').write_text(_encoded(iso))
        drive = f'{url}/cd-whole.b64'
    else:
        drive = _encoded(iso)
    index = 1 if label == 'dos' else 2
    mac = f'52:54:00:4c:00:0{index + 1}'
    name = f'cd-whole-{label}'
    before = _parts(str(tmp_path / 'image'))
    aio.available_node(name, fleet.ports[index], mac, image_source=href)
    disk = sparse_disk(str(tmp_path / 'disk'), 128 * MiB)
    bg = Background([ramdisk := aio.ramdisk(mac, disk)])
    _deploy(aio, name, drive)
    assert bg.join() == ['done'], ramdisk.events
    node = aio.wait_state(name, ('active',))
    assert node['last_error'] is None
    total = 128 * MiB // SECTOR
    parts = _parts(disk)
    assert [p[1:] for p in parts[:2]] == [p[1:] for p in before]   # incl. types and GUIDs
    if label == 'dos':
        start, size = total - 64 * 2048, 64 * 2048
        assert parts[2][:4] == ('3', start, size, 'C')
        assert read(disk, 0, 446) == image[:446]        # boot code and disk id untouched
        assert read(disk, 446, 32) == image[446:478]    # the image's two entries
        assert _table(disk)['id'] == _table(str(tmp_path / 'image'))['id']
    else:
        table = _table(disk)
        assert table['lastlba'] == total - 34
        start = (total - 33 - 64 * 2048) // 2048 * 2048
        size = total - 34 - start + 1
        assert parts[2][:3] == ('3', start, size) and size * SECTOR >= 64 * MiB
        check = subprocess.run(['sfdisk', '--verify', disk], capture_output=True, text=True)
        assert check.returncode == 0 and 'backup' not in check.stderr.lower(), check
        assert check.stderr.strip() == '', check.stderr
    # everything of the image but its table sectors is on the disk, byte for byte
    table_end = SECTOR if label == 'dos' else 34 * SECTOR
    assert read(disk, table_end, len(image) - table_end - 33 * SECTOR) == \
        image[table_end:len(image) - 33 * SECTOR]
    _assert_iso_at(disk, start * SECTOR, iso)
    assert len(parts) == 3
    record = node['driver_internal_info']['partitions']['configdrive']
    assert (record['number'], record['start'], record['size']) == (
        3, start * SECTOR, size * SECTOR)


def test_whole_disk_image_with_a_config_2_partition_is_overwritten(aio, fleet, tmp_path):
    """Upstream: a partition of the image labelled config-2 receives the new config drive;
    no partition is added."""
    old = _iso('old-config-drive')
    image = _disk_image(tmp_path / 'image', 'dos', IMAGE_PARTS, {2: old})
    href = aio.write_image('cd-labelled.raw', image)
    iso = _iso('new-config-drive-' + 'x' * 100)
    mac = '52:54:00:4c:00:04'
    aio.available_node('cd-labelled', fleet.ports[3], mac, image_source=href)
    disk = sparse_disk(str(tmp_path / 'disk'), 128 * MiB)
    bg = Background([ramdisk := aio.ramdisk(mac, disk)])
    _deploy(aio, 'cd-labelled', _encoded(iso))
    assert bg.join() == ['done'], ramdisk.events
    node = aio.wait_state('cd-labelled', ('active',))
    assert node['last_error'] is None
    cd_start = 6144 * SECTOR
    assert read(disk, 0, cd_start) == image[:cd_start]          # table, partition 1
    _assert_iso_at(disk, cd_start, iso)
    after = cd_start + max(len(iso), len(old))
    assert read(disk, after, 8 * MiB - after) == image[after:]
    assert len(_parts(disk)) == 2
    assert read(disk, 8 * MiB) == b'\0' * (120 * MiB)
    record = node['driver_internal_info']['partitions']['configdrive']
    assert (record['number'], record['start'], record['size']) == (
        2, 6144 * SECTOR, 8192 * SECTOR)


def test_mbr_with_four_primary_partitions_is_refused(aio, fleet, tmp_path):
    image = _disk_image(tmp_path / 'image', 'dos',
                        [(2048, 2048), (4096, 2048), (6144, 2048), (8192, 2048)])
    href = aio.write_image('cd-four.raw', image)
    mac = '52:54:00:4c:00:05'
    aio.available_node('cd-four', fleet.ports[4], mac, image_source=href)
    disk = sparse_disk(str(tmp_path / 'disk'), 128 * MiB)
    ramdisk = aio.ramdisk(mac, disk)
    bg = Background([ramdisk])
    _deploy(aio, 'cd-four', _encoded(_iso('four')))
    node = aio.wait_state('cd-four', ('deploy failed',))
    bg.join()
    assert 'already has 4 primary partitions' in node['last_error'], node['last_error']
    assert 'Traceback' not in node['last_error']
    assert len(_parts(disk)) == 4


# -- bad config drives -----------------------------------------------------------------------
def test_invalid_config_drives_fail_the_deploy_clearly(aio, fleet, web, tmp_path):
    """Each fails before the disk is written, with a last_error saying what is wrong."""
    root, url = web
    (root / 'garbage.bin').write_bytes(b'\x00\xffnot a filesystem' * 100)
    cases = {
        'cd-bad-b64': ('not base64 at all!', 'is not base64 encoded or the content is malformed'),
        'cd-bad-gzip': (base64.b64encode(b'plain, not gzipped').decode(),
                        'is not gzip-compressed data'),
        'cd-too-big': (_encoded(b'\0' * (64 * MiB + SECTOR)),
                       'exceeds the maximum size of 64 MiB'),
        'cd-404': (f'{url}/missing.b64', "can't download the config drive"),
        'cd-garbage': (f'{url}/garbage.bin',
                       'is neither gzipped and base64-encoded nor a filesystem image'),
    }
    href = aio.write_image('cd-bad.raw', os.urandom(MiB))
    disks, ramdisks = {}, []
    for i, name in enumerate(cases):
        mac = f'52:54:00:4c:01:{i:02x}'
        aio.available_node(name, fleet.ports[5 + i], mac, image_source=href)
        disks[name] = sparse_disk(str(tmp_path / name), 16 * MiB)
        ramdisks.append(aio.ramdisk(mac, disks[name]))
    bg = Background(ramdisks)
    for name, (drive, _) in cases.items():
        _deploy(aio, name, drive)
    for name, (_, message) in cases.items():
        node = aio.wait_state(name, ('deploy failed',))
        assert message in node['last_error'], (name, node['last_error'])
        assert 'Traceback' not in node['last_error']
        assert read(disks[name]) == b'\0' * (16 * MiB), name   # nothing written
    assert all(isinstance(r, Exception) for r in bg.join())


# -- preserve_ephemeral ----------------------------------------------------------------------
def _copy_extents(src: str, src_off: int, dst: str, dst_off: int, size: int) -> None:
    """Copy the data regions of ``src[src_off:src_off+size]`` to ``dst`` (sparse-aware)."""
    with open(src, 'rb') as fi, open(dst, 'r+b' if os.path.exists(dst) else 'w+b') as fo:
        if os.fstat(fo.fileno()).st_size < dst_off + size:
            fo.truncate(dst_off + size)
        pos, end = src_off, src_off + size
        while pos < end:
            try:
                start = os.lseek(fi.fileno(), pos, os.SEEK_DATA)
            except OSError:
                break
            if start >= end:
                break
            stop = min(os.lseek(fi.fileno(), start, os.SEEK_HOLE), end)
            fi.seek(start)
            fo.seek(dst_off + start - src_off)
            fo.write(fi.read(stop - start))
            pos = stop


def _ephemeral_fs(disk: str, tmp_path, start: int, size: int) -> str:
    path = str(tmp_path / 'eph.img')
    if os.path.exists(path):
        os.unlink(path)
    _copy_extents(disk, start, path, 0, size)
    return path


def _debugfs(image: str, request: str, write: bool = False) -> str:
    cmd = ['debugfs'] + (['-w'] if write else []) + ['-R', request, image]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def test_rebuild_with_preserve_ephemeral_keeps_the_ephemeral_partition(aio, fleet, tmp_path):
    """Deploy (ephemeral + config drive), put a file into the ephemeral filesystem, rebuild
    with preserve_ephemeral and a new config drive: the file, the filesystem UUID and the
    partition's identity are kept; root and config drive are rewritten. A changed layout is
    refused (upstream's check), a disk whose table lost the partition fails before writing,
    and a rebuild without preserve_ephemeral recreates the filesystem."""
    data = _fs_image(tmp_path)
    href = aio.write_image('cd-eph-root.img', data)
    mac = '52:54:00:4c:00:10'
    name = 'cd-eph'
    aio.available_node(name, fleet.ports[12], mac, image_source=href, root_gb=1,
                       ephemeral_gb=1, kernel=f'file://{aio.images}/vmlinuz',
                       ramdisk=f'file://{aio.images}/initrd')
    disk = sparse_disk(str(tmp_path / 'disk'), 2060 * MiB)
    bg = Background([ramdisk := aio.ramdisk(mac, disk)])
    _deploy(aio, name, _encoded(_iso('first')))
    assert bg.join() == ['done'], ramdisk.events
    node = aio.wait_state(name, ('active',))
    first = node['driver_internal_info']['partitions']
    eph_start, eph_size = first['ephemeral']['start'], first['ephemeral']['size']
    assert (first['ephemeral']['number'], eph_start, eph_size) == (1, MiB, 1024 * MiB)
    assert first['configdrive']['number'] == 2 and first['root']['number'] == 3
    fs_uuid = _blkid(disk, eph_start, 'UUID')
    disk_id = _table(disk)['id']
    # the instance writes a file to its ephemeral filesystem
    eph = _ephemeral_fs(disk, tmp_path, eph_start, eph_size)
    (tmp_path / 'marker').write_text('kept across rebuilds\n')
    _debugfs(eph, f'write {tmp_path / "marker"} marker.txt', write=True)
    _copy_extents(eph, 0, disk, eph_start, eph_size)
    assert _debugfs(_ephemeral_fs(disk, tmp_path, eph_start, eph_size),
                    'cat marker.txt') == 'kept across rebuilds\n'

    # 1. rebuild, preserving it, with a bigger config drive
    _patch(aio, name, preserve_ephemeral=True)
    iso = _iso('second-' + 'y' * 200)
    _deploy(aio, name, _encoded(iso), target='rebuild')
    aio.wait_state(name, ('wait call-back',))
    assert _run_ramdisk(aio, mac, disk)[0] == 'done'
    node = aio.wait_state(name, ('active',))
    assert node['last_error'] is None
    assert _debugfs(_ephemeral_fs(disk, tmp_path, eph_start, eph_size),
                    'cat marker.txt') == 'kept across rebuilds\n'
    assert _blkid(disk, eph_start, 'UUID') == fs_uuid
    assert _table(disk)['id'] == disk_id          # PARTUUIDs (disk id + number) kept
    parts = node['driver_internal_info']['partitions']
    assert parts['ephemeral'] == first['ephemeral']
    _assert_iso_at(disk, parts['configdrive']['start'], iso)
    assert read(disk, parts['root']['start'], len(data)) == data

    # 2. a changed layout is refused before anything happens (upstream's layout check)
    _patch(aio, name, ephemeral_gb=2)
    _deploy(aio, name, None, target='rebuild')
    node = aio.wait_state(name, ('deploy failed',))
    assert 'preserve_ephemeral needs the disk layout of the previous deployment' in \
        node['last_error'] and 'ephemeral_gb was 1 but requested value is 2' in \
        node['last_error'], node['last_error']

    # 3. the disk no longer holds the partition (its table wiped): fails before writing
    _patch(aio, name, ephemeral_gb=1)
    with open(disk, 'r+b') as f:
        saved = f.read(SECTOR)
        f.seek(0)
        f.write(b'\0' * SECTOR)
    _deploy(aio, name, None)
    aio.wait_state(name, ('wait call-back',))
    _run_ramdisk(aio, mac, disk)
    node = aio.wait_state(name, ('deploy failed',))
    assert 'preserve_ephemeral is set but the disk does not hold the ephemeral partition' in \
        node['last_error'], node['last_error']
    assert read(disk, 0, SECTOR) == b'\0' * SECTOR
    assert _blkid(disk, eph_start, 'UUID') == fs_uuid

    # 4. without preserve_ephemeral the ephemeral filesystem is made anew
    with open(disk, 'r+b') as f:
        f.write(saved)
    _patch(aio, name, preserve_ephemeral=False)
    _deploy(aio, name, None)
    aio.wait_state(name, ('wait call-back',))
    assert _run_ramdisk(aio, mac, disk)[0] == 'done'
    aio.wait_state(name, ('active',))
    assert _blkid(disk, eph_start, 'UUID') not in ('', fs_uuid)
    out = subprocess.run(['debugfs', '-R', 'cat marker.txt',
                          _ephemeral_fs(disk, tmp_path, eph_start, eph_size)],
                         capture_output=True, text=True)
    assert 'kept across rebuilds' not in out.stdout

