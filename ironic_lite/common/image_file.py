"""Image source for local files (file://), only below ``[conductor]file_url_allowed_paths``.

``..`` components, symlinks leading outside the allowed directories, host names and the host's
system directories are refused; the file is opened without following a symlink swapped in
after the check.
"""
from __future__ import annotations

import asyncio
import email.utils
import os
import urllib.parse
from collections.abc import AsyncIterator
from typing import IO

from ironic_lite.common import exception
from ironic_lite.common.image_source import (
    CHUNK_SIZE,
    BaseImageService,
    Checksum,
    ImageInfo,
    ProgressCallback,
    _at_most,
    stream_to_file,
)

# Never readable through file://, whatever [conductor]file_url_allowed_paths says (as upstream
# after OSSA-2025-001): devices, kernel interfaces, boot files and host configuration.
FORBIDDEN_FILE_PATHS = ('/dev', '/sys', '/proc', '/boot', '/run', '/etc')


def _is_under(path: str, base: str) -> bool:
    return os.path.commonpath([path, base]) == base


def _open_nofollow(real_path: str) -> IO[bytes]:
    # The path was checked symlink-free; a symlink swapped in since then is refused (ELOOP).
    return open(real_path, 'rb', opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW))


def _refuse(href: str, reason: str) -> exception.ImageRefValidationFailed:
    return exception.ImageRefValidationFailed(image_href=href, reason=reason)


def _check_under_allowed(href: str, path: str, allowed: list[str]) -> None:
    for forbidden in FORBIDDEN_FILE_PATHS:
        if _is_under(path, forbidden):
            raise _refuse(href, f'files under {forbidden} are never served')
    if not any(_is_under(path, base) for base in allowed):
        raise _refuse(href, f'{path} is not under [conductor]file_url_allowed_paths '
                            f'({", ".join(allowed) or "empty"})')


def check_href_form(href: str, allowed_paths: list[str]) -> str:
    """The path of a file:// href, checked without touching the file system (the API can run
    on another host than the conductor that reads the file): no host, absolute, no ``..``,
    not under the forbidden directories, and under ``allowed_paths`` as written."""
    parts = urllib.parse.urlsplit(href)
    if parts.scheme != 'file':
        raise _refuse(href, 'not a file:// URL')
    if parts.netloc not in ('', 'localhost'):
        raise _refuse(href, 'file:// URLs must not name a host')
    path = urllib.parse.unquote(parts.path)
    if not path.startswith('/') or '\x00' in path:
        raise _refuse(href, 'file:// paths must be absolute')
    if '..' in path.split('/'):
        raise _refuse(href, '".." is not allowed in file:// paths')
    _check_under_allowed(href, os.path.normpath(path),
                         [os.path.normpath(p) for p in allowed_paths if p])
    return path


class FileImageService(BaseImageService):
    """Local files, only below ``[conductor]file_url_allowed_paths``."""

    def validate_href(self, href: str) -> str:
        """Return the real path of a file:// href, refusing anything outside the allow list
        (blocking: it resolves symlinks and looks at the file)."""
        allowed_paths = self.conf.conductor.file_url_allowed_paths
        path = check_href_form(href, allowed_paths)
        # realpath resolves symlinks: a link inside an allowed dir pointing outside is refused.
        real = os.path.realpath(path)
        _check_under_allowed(href, real, [os.path.realpath(p) for p in allowed_paths if p])
        if not os.path.isfile(real):
            raise _refuse(href, f'{real} does not exist or is not a regular file')
        return real

    async def show(self, href: str) -> ImageInfo:
        real = await asyncio.to_thread(self.validate_href, href)
        st = await asyncio.to_thread(os.stat, real)
        # The inode, size and nanosecond mtime identify this version of the file.
        etag = f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'
        return ImageInfo(href=href, size=st.st_size, etag=etag,
                         last_modified=email.utils.formatdate(st.st_mtime, usegmt=True))

    async def download(self, href: str, dest_path: str, *, checksum: Checksum | None = None,
                       progress: ProgressCallback | None = None) -> ImageInfo:
        info = await self.show(href)
        real = await asyncio.to_thread(self.validate_href, href)
        src = await asyncio.to_thread(_open_nofollow, real)

        async def chunks() -> AsyncIterator[bytes]:
            while data := await asyncio.to_thread(src.read, CHUNK_SIZE):
                yield data

        try:
            info.size = await stream_to_file(chunks(), dest_path, href=href, checksum=checksum,
                                             progress=self._progress(progress, info.size))
        finally:
            src.close()
        return info

    async def read_small(self, href: str, max_bytes: int) -> bytes:
        real = await asyncio.to_thread(self.validate_href, href)

        def read() -> bytes:
            with _open_nofollow(real) as f:
                return f.read(max_bytes + 1)

        return _at_most(href, await asyncio.to_thread(read), max_bytes)
