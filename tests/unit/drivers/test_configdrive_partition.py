"""Config drive decoding and placement rules of the iSCSI deploy (no iSCSI target needed).

Downloads go to a real aiohttp server on loopback; the end-to-end behaviour (partitions on a
disk written through tgtd) is in tests/functional/test_iscsi_configdrive.py.
"""
from __future__ import annotations

import base64
import gzip

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from oslo_config import cfg

from ironic_lite.common import configdrive, exception
from ironic_lite.conf import images as images_conf
from ironic_lite.drivers.modules import configdrive_partition as cdp
from ironic_lite.drivers.modules import disk_layout

MiB = 1024 * 1024
ISO = configdrive.build_iso('uuid-1', 'n1', {'meta_data': {'x': 1}})


def _encoded(data: bytes) -> str:
    return base64.b64encode(gzip.compress(data)).decode()


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    images_conf.register_opts(conf)
    conf([], project='ironic_lite_test')
    return conf


def test_decode_gzip_base64_with_line_breaks():
    text = _encoded(ISO)
    wrapped = '\n'.join(text[i:i + 76] for i in range(0, len(text), 76))
    assert cdp.decode(wrapped.encode()) == (ISO, False)


@pytest.mark.parametrize('data, message', [
    (b'not base64!', 'is not base64 encoded'),
    (base64.b64encode(b'plain text'), 'is not gzip-compressed data'),
    (b'', 'is empty'),
    (base64.b64encode(gzip.compress(b'')), 'is empty once decompressed'),
    (base64.b64encode(gzip.compress(b'\0' * (64 * MiB + 1))), 'maximum size of 64 MiB'),
])
def test_decode_refuses_bad_data(data, message):
    with pytest.raises(cdp._Invalid, match=message):
        cdp.decode(data)


def test_decode_takes_a_downloaded_binary_image_as_is():
    assert cdp.decode(ISO, allow_binary=True) == (ISO, True)
    with pytest.raises(cdp._Invalid, match='64 MiB'):
        cdp.decode(b'\xff' * (64 * MiB + 1), allow_binary=True)


async def test_fetch_writes_a_sector_padded_file(conf, tmp_path):
    odd = ISO + b'tail'
    drive = await cdp.fetch(conf, _encoded(odd), str(tmp_path), 'uuid-1')
    assert (drive.size, drive.padded, drive.mb) == (len(odd), -(-len(odd) // 512) * 512, 1)
    data = (tmp_path / 'configdrive').read_bytes()
    assert data[:len(odd)] == odd and len(data) == drive.padded


@pytest.mark.parametrize('value', [{'meta_data': {}}, '', '   ', 'é' * 8])
async def test_fetch_refuses_what_is_not_a_config_drive(conf, tmp_path, value):
    with pytest.raises(exception.InstanceDeployFailure, match='config drive of node uuid-1'):
        await cdp.fetch(conf, value, str(tmp_path), 'uuid-1')


async def test_fetch_over_http_is_size_limited(conf, tmp_path, monkeypatch):
    app = web.Application()
    bodies = {'/ok': _encoded(ISO).encode(), '/iso': ISO, '/big': b'A' * 2000}

    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=bodies[request.path])

    app.router.add_get('/{name}', serve)
    server = TestServer(app, host='127.0.0.1', port=0)
    await server.start_server()
    try:
        drive = await cdp.fetch(conf, str(server.make_url('/ok')), str(tmp_path), 'uuid-1')
        assert drive.size == len(ISO)
        # a body that is not base64 is the image itself (it holds a filesystem)
        drive = await cdp.fetch(conf, str(server.make_url('/iso')), str(tmp_path), 'uuid-1')
        assert (tmp_path / 'configdrive').read_bytes()[:len(ISO)] == ISO
        monkeypatch.setattr(cdp, 'MAX_DOWNLOAD', 1000)
        with pytest.raises(exception.InstanceDeployFailure,
                           match="can't download the config drive.*larger than 1000 bytes"):
            await cdp.fetch(conf, str(server.make_url('/big')), str(tmp_path), 'uuid-1')
    finally:
        await server.close()


def test_partition_image_layout_puts_the_config_drive_before_root():
    layout = disk_layout.plan(4096 * MiB, root_mb=1024, swap_mb=16, ephemeral_mb=1024,
                              configdrive_mb=2)
    assert [(p.name, p.number, p.start, p.size) for p in layout.partitions] == [
        ('ephemeral', 1, MiB, 1024 * MiB), ('swap', 2, 1025 * MiB, 16 * MiB),
        ('configdrive', 3, 1041 * MiB, 2 * MiB), ('root', 4, 1043 * MiB, 1024 * MiB)]


def _part(number: int, start_mb: int, size_mb: int) -> dict:
    return {'number': number, 'offset': start_mb * MiB, 'length': size_mb * MiB}


def test_mbr_placement_last_64_mib_and_the_2_tib_limit():
    assert cdp._new_mbr_partition([_part(1, 1, 8)], 1000 * MiB + 4096) == (
        (1000 - 64) * 2048, 64 * 2048 + 8)
    start, size = cdp._new_mbr_partition([], 3 * 1024 ** 4)
    assert (start + size) * 512 == 2 * 1024 ** 4 - MiB and size * 512 == 64 * MiB
    with pytest.raises(exception.InstanceDeployFailure, match='already has 4 primary'):
        cdp._new_mbr_partition([_part(n, n, 1) for n in (1, 2, 3, 4)] + [_part(5, 9, 1)],
                               1000 * MiB)
    # logical partitions (5+) do not use primary slots
    cdp._new_mbr_partition([_part(1, 1, 1), _part(5, 3, 1), _part(6, 5, 1)], 1000 * MiB)


def test_gpt_placement_ends_at_the_last_usable_sector_and_holds_64_mib():
    total = 1000 * 2048 + 7
    start, size = cdp._new_gpt_partition({'lastlba': total - 34}, total * 512)
    assert start % 2048 == 0 and start + size - 1 == total - 34
    assert 64 * MiB <= size * 512 < 65 * MiB
