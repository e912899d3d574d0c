"""common/fileutils: files are replaced atomically and failures leave nothing behind."""
from __future__ import annotations

import asyncio
import os
import stat

import pytest

from ironic_lite.common import fileutils


def test_write_atomic_replaces_the_file_with_its_mode(tmp_path):
    path = tmp_path / 'f.conf'
    path.write_text('old')
    fileutils.write_atomic(str(path), 'new', 0o640)
    assert path.read_text() == 'new'
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    fileutils.write_atomic(str(path), b'\x00bytes')
    assert path.read_bytes() == b'\x00bytes'
    assert os.listdir(tmp_path) == ['f.conf']


def test_replacing_keeps_the_old_file_on_error(tmp_path):
    path = tmp_path / 'link'
    path.write_text('old')
    with pytest.raises(RuntimeError), fileutils.replacing(str(path), 'link') as tmp:
        assert os.path.basename(tmp).startswith('.link.') and tmp.endswith('.link')
        os.symlink('target', tmp)
        raise RuntimeError('boom')
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['link']


async def test_replacing_leaves_nothing_when_cancelled(tmp_path):
    path = tmp_path / 'image'
    started = asyncio.Event()

    async def download():
        with fileutils.replacing(str(path), 'part') as tmp:
            os.close(fileutils.create_private(tmp))
            started.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(download())
    await started.wait()
    assert len(os.listdir(tmp_path)) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert os.listdir(tmp_path) == []


def test_create_private_is_exclusive_and_owner_only(tmp_path):
    tmp = fileutils.temp_path(str(tmp_path / 'x'), 'part')
    os.close(fileutils.create_private(tmp))
    assert stat.S_IMODE(os.stat(tmp).st_mode) == 0o600
    with pytest.raises(FileExistsError):
        fileutils.create_private(tmp)
    os.symlink(tmp, tmp + '.sym')
    with pytest.raises(OSError):
        fileutils.create_private(tmp + '.sym')
