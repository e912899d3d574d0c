"""The simulated agent's ``standby.prepare_image``: download, verify and write an image to the
disk file, as IPA does (qcow2 converted to raw with ``qemu-img``), and IPA's command errors.

Used by :class:`ironic_lite.tools.agent_sim.SimAgent`; file work runs in threads.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from typing import Any

import aiohttp

_QCOW2_MAGIC = b'QFI\xfb'
_CHUNK = 1024 * 1024


class CommandError(Exception):
    """A failed command, reported in IPA's ``command_error`` shape."""

    def __init__(self, type_: str, message: str, details: str, code: int = 500):
        super().__init__(details)
        self.payload = {'type': type_, 'code': code, 'message': message, 'details': details}


async def write_image(session: aiohttp.ClientSession, info: dict[str, Any], disk_path: str,
                      disk_size: int | None) -> None:
    """Write the image of ``image_info`` (its first URL) to ``disk_path``, or raise
    :class:`CommandError` as IPA reports it (no URL or checksum, download failure, checksum
    mismatch, conversion failure, image larger than ``disk_size``)."""
    image_id, urls = info.get('id'), info.get('urls') or []
    if not urls:
        raise CommandError('InvalidCommandParamsError', 'Invalid command parameters',
                           'image_info has no urls')
    algo, expected = info.get('os_hash_algo'), info.get('os_hash_value')
    if not (algo and expected) and info.get('checksum'):
        algo, expected = 'md5', info['checksum']
    if not (algo and expected):
        raise CommandError('InvalidCommandParamsError', 'Invalid command parameters',
                           f'image {image_id} has no checksum to verify')
    tmp = f'{disk_path}.download'
    try:
        actual = await _download(session, urls[0], tmp, algo)
        if actual != expected.lower():
            raise CommandError(
                'ImageChecksumError', 'Error verifying image checksum',
                f'Image failed to verify against checksum. location: {urls[0]}; image '
                f'ID: {image_id}; image checksum: {actual}; verification checksum: '
                f'{expected}')
        if await asyncio.to_thread(_read_magic, tmp) == _QCOW2_MAGIC:
            await _convert(tmp, disk_path)
        else:
            await asyncio.to_thread(os.replace, tmp, disk_path)
        size = await asyncio.to_thread(os.path.getsize, disk_path)
        if disk_size is not None and size > disk_size:
            raise CommandError('ImageWriteError', 'Error writing image to device',
                               f'image {image_id} ({size} bytes) does not fit the '
                               f'{disk_size} byte disk')
    finally:
        await asyncio.to_thread(_unlink, tmp)


async def _download(session: aiohttp.ClientSession, url: str, dest: str, algo: str) -> str:
    try:
        hasher = hashlib.new(algo, usedforsecurity=False)
    except ValueError:
        raise CommandError('InvalidCommandParamsError', 'Invalid command parameters',
                           f'unsupported checksum algorithm {algo!r}') from None
    try:
        async with session.get(url, headers={}) as resp:
            if resp.status != 200:
                raise CommandError('ImageDownloadError', 'Error downloading image',
                                   f'Download of {url} failed: HTTP {resp.status}')
            f = await asyncio.to_thread(open, dest, 'wb')
            try:
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    hasher.update(chunk)
                    await asyncio.to_thread(f.write, chunk)
            finally:
                await asyncio.to_thread(f.close)
    except aiohttp.ClientError as e:
        raise CommandError('ImageDownloadError', 'Error downloading image',
                           f'Download of {url} failed: {e}') from e
    return hasher.hexdigest()


async def _convert(source: str, dest: str) -> None:
    proc = await asyncio.create_subprocess_exec(
        'qemu-img', 'convert', '-f', 'qcow2', '-O', 'raw', source, dest,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    if proc.returncode != 0:
        raise CommandError('ImageWriteError', 'Error writing image to device',
                           f'qemu-img convert failed: {err.decode(errors="replace")}')


def _read_magic(path: str) -> bytes:
    with open(path, 'rb') as f:
        return f.read(4)


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
