"""Format detection from content and qcow2 -> raw conversion with the real qemu-img."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from oslo_config import cfg

from ironic_lite.common import exception, image_format
from ironic_lite.conf import images as images_conf

pytestmark = pytest.mark.skipif(shutil.which('qemu-img') is None,
                                reason='qemu-img (Debian package qemu-utils) is not installed')


@pytest.fixture
def conf(tmp_path):
    conf = cfg.ConfigOpts()
    images_conf.register_opts(conf)
    conf.set_override('image_convert_attempts', 1, group='disk_utils')
    conf.set_override('tempdir', str(tmp_path))
    return conf


def qemu_img(*args: str) -> None:
    subprocess.run(['qemu-img', *args], check=True, capture_output=True)


@pytest.fixture
def raw_and_qcow2(tmp_path):
    """A 4 MiB raw disk with data and holes, and the same disk as qcow2 (misleading names)."""
    raw = tmp_path / 'disk.qcow2'          # raw content despite the name
    with open(raw, 'wb') as f:
        f.write(os.urandom(1024 * 1024))
        f.seek(3 * 1024 * 1024)
        f.write(os.urandom(1024 * 1024))
    qcow2 = tmp_path / 'disk.raw'          # qcow2 content despite the name
    qemu_img('convert', '-f', 'raw', '-O', 'qcow2', str(raw), str(qcow2))
    return raw, qcow2


async def test_detect_from_content_not_names(raw_and_qcow2):
    raw, qcow2 = raw_and_qcow2
    fmt = await image_format.detect_format(str(raw))
    assert (fmt.format, fmt.is_raw, fmt.virtual_size) == ('raw', True, 4 * 1024 * 1024)
    fmt = await image_format.detect_format(str(qcow2))
    assert (fmt.format, fmt.is_raw) == ('qcow2', False)
    assert fmt.virtual_size == 4 * 1024 * 1024
    assert fmt.actual_size == os.path.getsize(qcow2)


async def test_sparse_raw_virtual_size_is_file_size(tmp_path):
    sparse = tmp_path / 'sparse'
    with open(sparse, 'wb') as f:
        f.truncate(64 * 1024 * 1024)
    fmt = await image_format.detect_format(str(sparse))
    assert (fmt.format, fmt.virtual_size) == ('raw', 64 * 1024 * 1024)


async def test_unsafe_qcow2_refused(tmp_path, raw_and_qcow2, conf):
    raw, _ = raw_and_qcow2
    evil = tmp_path / 'evil.img'
    qemu_img('create', '-f', 'qcow2', '-b', str(raw), '-F', 'raw', str(evil))
    with pytest.raises(exception.InvalidImage, match='backing_file'):
        await image_format.detect_format(str(evil))
    with pytest.raises(exception.InvalidImage):
        await image_format.convert_to_raw(str(evil), str(tmp_path / 'out'), conf=conf)
    assert not (tmp_path / 'out').exists()


async def test_qcow2_to_raw_byte_identical(tmp_path, raw_and_qcow2, conf):
    raw, qcow2 = raw_and_qcow2
    out = tmp_path / 'out' / 'converted'
    out.parent.mkdir()
    fmt = await image_format.convert_to_raw(str(qcow2), str(out), conf=conf)
    assert fmt.format == 'raw'
    assert out.read_bytes() == raw.read_bytes()
    assert not qcow2.exists()                       # the source is consumed
    assert os.listdir(out.parent) == ['converted']  # no temp file left


async def test_raw_source_is_renamed_not_converted(tmp_path, raw_and_qcow2, conf, monkeypatch):
    raw, _ = raw_and_qcow2
    data = raw.read_bytes()
    monkeypatch.setenv('PATH', str(tmp_path / 'empty'))  # qemu-img would not be found
    fmt = await image_format.convert_to_raw(str(raw), str(tmp_path / 'out'), conf=conf)
    assert fmt.format == 'raw' and (tmp_path / 'out').read_bytes() == data


async def test_missing_qemu_img_is_a_clear_error(tmp_path, raw_and_qcow2, conf, monkeypatch):
    _, qcow2 = raw_and_qcow2
    monkeypatch.setenv('PATH', str(tmp_path / 'empty'))
    with pytest.raises(exception.ImageConvertFailed, match='qemu-utils'):
        await image_format.convert_to_raw(str(qcow2), str(tmp_path / 'out'), conf=conf)
    assert not (tmp_path / 'out').exists()


async def test_qemu_img_failure_leaves_nothing(tmp_path, conf):
    garbage = tmp_path / 'garbage'
    garbage.write_bytes(b'not a qcow2 at all' * 100)
    with pytest.raises(exception.ImageConvertFailed, match='qcow2'):
        await image_format.convert_image(str(garbage), str(tmp_path / 'out'),
                                         source_format='qcow2', conf=conf)
    assert sorted(os.listdir(tmp_path)) == ['garbage']


async def test_memory_limit_applies(tmp_path, raw_and_qcow2, conf):
    _, qcow2 = raw_and_qcow2
    # 1 MiB of address space: qemu-img cannot even start, which shows the limit is applied.
    conf.set_override('image_convert_memory_limit', 1, group='disk_utils')
    with pytest.raises(exception.ImageConvertFailed):
        await image_format.convert_image(str(qcow2), str(tmp_path / 'out'),
                                         source_format='qcow2', conf=conf)
    assert not (tmp_path / 'out').exists()
    assert not [n for n in os.listdir(tmp_path) if n.endswith('.part')]
