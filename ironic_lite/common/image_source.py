"""What every image source shares: image metadata, checksums, streaming downloads.

``ImageInfo`` is what a source says about an image (size, checksums, validators such as
ETag/Last-Modified/updated_at). ``Checksum`` and :func:`parse_checksum` turn node fields
(``image_checksum``, ``image_os_hash_algo``/``image_os_hash_value``) into an expected digest.
:func:`stream_to_file` writes chunks into a temporary file next to the destination, hashing
while streaming, and renames into place only when the checksum matched: a failed or mismatching
download leaves no file behind. :class:`BaseImageService` is the contract of a source; the
sources are in ``image_http`` (http(s)://, Glance) and ``image_file`` (file://), picked by
``image_service.get_image_service``.
"""
from __future__ import annotations

import abc
import asyncio
import dataclasses
import hashlib
import inspect
import logging
import os
import re
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import IO, Any

from oslo_config import cfg

from ironic_lite.common import exception, fileutils

LOG = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
SUPPORTED_ALGOS = ('md5', 'sha256', 'sha512')
_ALGO_BY_HEX_LEN = {32: 'md5', 64: 'sha256', 128: 'sha512'}

#: ``progress(bytes_so_far, total_or_None)``; may be a plain function or a coroutine function.
ProgressCallback = Callable[[int, int | None], Awaitable[None] | None]


def get_conf(conf: cfg.ConfigOpts | None = None) -> cfg.ConfigOpts:
    """``conf`` if given (tests use private ConfigOpts), else the global CONF."""
    if conf is not None:
        return conf
    from ironic_lite.conf import CONF  # late import: registers every option group once
    return CONF


@dataclasses.dataclass
class ImageInfo:
    """What a source says about an image. Unknown fields stay None."""

    href: str
    size: int | None = None
    checksum: str | None = None          # Glance's legacy md5 ``checksum``
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    updated_at: str | None = None        # Glance
    etag: str | None = None              # HTTP
    last_modified: str | None = None     # HTTP, file:// (mtime)
    disk_format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def expected_checksum(self) -> Checksum | None:
        """The checksum the source publishes, preferring os_hash over the legacy md5."""
        if self.os_hash_algo and self.os_hash_value and self.os_hash_algo in SUPPORTED_ALGOS:
            return Checksum(self.os_hash_algo, self.os_hash_value.lower())
        if self.checksum:
            return Checksum('md5', self.checksum.lower())
        return None


@dataclasses.dataclass(frozen=True)
class Checksum:
    algo: str
    value: str

    def __str__(self) -> str:
        return f'{self.algo}:{self.value}'

    def new_hasher(self) -> Any:
        # md5 is an integrity check here, not a security boundary (FIPS builds need the flag).
        return hashlib.new(self.algo, usedforsecurity=self.algo != 'md5')


def _checksum_from_hex(value: str, algo: str | None = None) -> Checksum:
    value = value.strip().lower()
    if not re.fullmatch(r'[0-9a-f]+', value):
        raise exception.InvalidParameterValue(err=f'Checksum {value!r} is not a hex digest.')
    algo = (algo or _ALGO_BY_HEX_LEN.get(len(value), '')).lower()
    if algo not in SUPPORTED_ALGOS:
        raise exception.InvalidParameterValue(
            err=f'Unsupported checksum algorithm {algo or "(unknown)"!r} for {value!r}; '
                f'supported: {", ".join(SUPPORTED_ALGOS)}.')
    if len(value) != hashlib.new(algo, usedforsecurity=False).digest_size * 2:
        raise exception.InvalidParameterValue(
            err=f'Checksum {value!r} has the wrong length for {algo}.')
    return Checksum(algo, value)


def parse_checksum(image_checksum: str | None = None, os_hash_algo: str | None = None,
                   os_hash_value: str | None = None) -> Checksum | None:
    """Checksum from node fields: os_hash_algo + os_hash_value, else image_checksum.

    ``image_checksum`` is a bare hex digest (md5/sha256/sha512 told apart by length) or
    ``algo:hex``. URLs to checksum files are handled by :func:`resolve_checksum`.
    """
    if os_hash_algo and os_hash_value:
        return _checksum_from_hex(os_hash_value, os_hash_algo)
    if not image_checksum:
        return None
    if ':' in image_checksum:
        algo, _, value = image_checksum.partition(':')
        return _checksum_from_hex(value, algo)
    return _checksum_from_hex(image_checksum)


def _checksum_from_file_text(text: str, image_href: str) -> Checksum:
    """Pick the image's line from a checksum file (``sha256sum`` or BSD ``SHA256 (f) = x``)."""
    name = os.path.basename(urllib.parse.urlsplit(image_href).path)
    entries: list[tuple[str | None, str, str | None]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        bsd = re.fullmatch(r'(MD5|SHA256|SHA512) \((.+)\) = ([0-9a-fA-F]+)', line)
        if bsd:
            entries.append((bsd.group(2), bsd.group(3), bsd.group(1).lower()))
            continue
        fields = line.split(None, 1)
        entries.append((fields[1].lstrip('*').strip() if len(fields) > 1 else None,
                        fields[0], None))
    if len(entries) == 1:
        return _checksum_from_hex(entries[0][1], entries[0][2])
    for entry_name, value, algo in entries:
        if entry_name and os.path.basename(entry_name) == name:
            return _checksum_from_hex(value, algo)
    raise exception.ImageRefValidationFailed(
        image_href=image_href, reason=f'no checksum for {name!r} in the checksum file')



class _Progress:
    """Calls the callback at most once per ``every_bytes`` or ``every_s``, and at the end."""

    def __init__(self, callback: ProgressCallback | None, total: int | None,
                 every_bytes: int, every_s: float) -> None:
        self.callback, self.total = callback, total
        self.every_bytes, self.every_s = every_bytes, every_s
        self._last_bytes, self._last_time = 0, time.monotonic()

    async def update(self, done: int, final: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not final and (done - self._last_bytes < self.every_bytes
                          and now - self._last_time < self.every_s):
            return
        self._last_bytes, self._last_time = done, now
        try:
            result = self.callback(done, self.total)
            if inspect.isawaitable(result):
                await result
        except Exception:
            # Reporting progress (a DB write, a log line) must never fail the download itself.
            LOG.warning('Image download progress callback failed', exc_info=True)


def _write_and_hash(f: IO[bytes], hasher: Any, data: bytes) -> None:
    f.write(data)
    if hasher is not None:
        hasher.update(data)  # hashlib releases the GIL on big buffers


def _flush_and_close(f: IO[bytes]) -> None:
    f.flush()
    os.fsync(f.fileno())  # the rename below must never publish a file the disk hasn't got
    f.close()


async def stream_to_file(chunks: AsyncIterator[bytes], dest_path: str, *, href: str,
                         checksum: Checksum | None = None, progress: _Progress | None = None
                         ) -> int:
    """Write ``chunks`` to a temp file beside ``dest_path``, verify, rename; return the size."""
    hasher = checksum.new_hasher() if checksum else None
    size, pending, pending_len = 0, [], 0
    # The temp file is created, and renamed or unlinked, on the loop (instant calls): in a
    # worker thread, a cancellation meanwhile would leave a file nobody knows about.
    with fileutils.replacing(dest_path, 'part') as tmp:
        f = os.fdopen(fileutils.create_private(tmp), 'wb')
        try:
            async for chunk in chunks:
                pending.append(chunk)
                pending_len += len(chunk)
                if pending_len >= CHUNK_SIZE:  # batch small network reads into one thread hop
                    await asyncio.to_thread(_write_and_hash, f, hasher, b''.join(pending))
                    size += pending_len
                    pending, pending_len = [], 0
                    if progress:
                        await progress.update(size)
            if pending:
                await asyncio.to_thread(_write_and_hash, f, hasher, b''.join(pending))
                size += pending_len
            await asyncio.to_thread(_flush_and_close, f)
            if checksum is not None and hasher.hexdigest() != checksum.value:
                raise exception.ImageChecksumError(image_href=href, algo=checksum.algo,
                                                   expected=checksum.value,
                                                   actual=hasher.hexdigest())
        except BaseException:
            f.close()
            raise
    if progress:
        await progress.update(size, final=True)
    return size


def _at_most(href: str, data: bytes, max_bytes: int) -> bytes:
    if len(data) > max_bytes:
        raise exception.ImageRefValidationFailed(
            image_href=href, reason=f'document larger than {max_bytes} bytes')
    return data


class BaseImageService(abc.ABC):
    """One kind of image source."""

    def __init__(self, conf: cfg.ConfigOpts | None = None, *,
                 progress_bytes: int = 100 * 1024 * 1024, progress_seconds: float = 10.0
                 ) -> None:
        self.conf = get_conf(conf)
        self.progress_bytes, self.progress_seconds = progress_bytes, progress_seconds

    @abc.abstractmethod
    async def show(self, href: str) -> ImageInfo:
        """Metadata of the image, raising ImageRefValidationFailed/ImageNotFound if unusable."""

    @abc.abstractmethod
    async def download(self, href: str, dest_path: str, *, checksum: Checksum | None = None,
                       progress: ProgressCallback | None = None) -> ImageInfo:
        """Stream the image into ``dest_path`` (atomically); return what was downloaded."""

    async def read_small(self, href: str, max_bytes: int) -> bytes:
        """Read a small document (a checksum file) into memory."""
        raise exception.ImageRefValidationFailed(
            image_href=href, reason='this source cannot serve checksum files')

    def _progress(self, callback: ProgressCallback | None, total: int | None) -> _Progress:
        return _Progress(callback, total, self.progress_bytes, self.progress_seconds)
