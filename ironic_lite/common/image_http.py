"""Image sources over HTTP: plain web servers (http://, https://) and Glance v2.

Both stream downloads through :func:`~ironic_lite.common.image_source.stream_to_file` (hashed
while streaming, renamed into place only when the checksum matched) and retry transient
network errors and 5xx/408/429 answers (tenacity), each attempt starting from scratch. A web
server's validators are ETag and Last-Modified; Glance's are its checksums and ``updated_at``.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import tenacity
from oslo_config import cfg
from oslo_utils import strutils, uuidutils

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

LOG = logging.getLogger(__name__)


class _TransientHTTPError(Exception):
    """A 5xx/408/429 answer: worth another attempt."""


_RETRIABLE = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError,
              _TransientHTTPError)


class _HTTPBase(BaseImageService):
    """Shared aiohttp plumbing for plain web servers and Glance."""

    def __init__(self, conf: cfg.ConfigOpts | None = None, *, attempts: int | None = None,
                 retry_wait: float = 1.0, **kwargs: Any) -> None:
        super().__init__(conf, **kwargs)
        self.attempts, self.retry_wait = attempts, retry_wait

    def _timeout_s(self) -> int:
        return self.conf.webserver_connection_timeout

    def _ssl(self) -> ssl.SSLContext | bool:
        verify = self.conf.webserver_verify_ca
        as_bool = strutils.bool_from_string(verify, default=None)
        if as_bool is not None:
            return as_bool
        return ssl.create_default_context(cafile=verify)

    def _session(self) -> aiohttp.ClientSession:
        # A session per operation: image transfers are long, and a session must not outlive
        # the event loop it was created on (services are plain objects, not loop-bound).
        t = self._timeout_s()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=t, sock_read=t)
        # identity: the bytes as stored (what checksums are about), never compressed on the fly.
        return aiohttp.ClientSession(timeout=timeout, headers={'Accept-Encoding': 'identity'},
                                     connector=aiohttp.TCPConnector(ssl=self._ssl()))

    def _retrying(self) -> tenacity.AsyncRetrying:
        return tenacity.AsyncRetrying(
            stop=tenacity.stop_after_attempt(self.attempts or 3),
            wait=tenacity.wait_exponential(multiplier=self.retry_wait, max=30),
            retry=tenacity.retry_if_exception_type(_RETRIABLE), reraise=True,
            before_sleep=lambda rs: LOG.warning('Retrying image request (attempt %d): %s',
                                                rs.attempt_number, rs.outcome.exception()))

    @staticmethod
    def _check_status(href: str, resp: aiohttp.ClientResponse) -> None:
        if resp.status == 200:
            return
        if resp.status >= 500 or resp.status in (408, 429):
            raise _TransientHTTPError(f'HTTP {resp.status} {resp.reason}')
        raise exception.ImageRefValidationFailed(
            image_href=href, reason=f'got HTTP {resp.status} {resp.reason}')

    async def _guarded(self, href: str, operation: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``operation`` with retries, mapping the last transport error to our exceptions."""
        try:
            async for attempt in self._retrying():
                with attempt:
                    return await operation()
        except _RETRIABLE as exc:
            raise exception.ImageDownloadFailed(
                image_href=href, reason=str(exc) or type(exc).__name__) from exc
        except aiohttp.ClientError as exc:
            raise exception.ImageDownloadFailed(image_href=href, reason=str(exc)) from exc

    async def _get_to_file(self, url: str, href: str, dest_path: str,
                           checksum: Checksum | None, progress: ProgressCallback | None
                           ) -> tuple[int, aiohttp.ClientResponse]:
        async with self._session() as session, session.get(url) as resp:
            self._check_status(href, resp)
            size = await stream_to_file(
                resp.content.iter_chunked(CHUNK_SIZE), dest_path, href=href,
                checksum=checksum, progress=self._progress(progress, resp.content_length))
            return size, resp

    async def read_small(self, href: str, max_bytes: int) -> bytes:
        async def get() -> bytes:
            async with self._session() as session, session.get(href) as resp:
                self._check_status(href, resp)
                return await resp.content.read(max_bytes + 1)

        return _at_most(href, await self._guarded(href, get), max_bytes)


class HttpImageService(_HTTPBase):
    """Plain web servers. Validators are ETag and Last-Modified; redirects are followed."""

    @staticmethod
    def validate_href(href: str) -> None:
        parts = urllib.parse.urlsplit(href)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise exception.ImageRefValidationFailed(image_href=href,
                                                     reason='not an http(s) URL')

    @staticmethod
    def _info(href: str, resp: aiohttp.ClientResponse) -> ImageInfo:
        return ImageInfo(href=href, size=resp.content_length, etag=resp.headers.get('ETag'),
                         last_modified=resp.headers.get('Last-Modified'))

    async def show(self, href: str) -> ImageInfo:
        self.validate_href(href)

        async def head() -> ImageInfo:
            async with self._session() as session:
                async with session.head(href, allow_redirects=True) as resp:
                    if resp.status not in (405, 501):
                        self._check_status(href, resp)
                        return self._info(href, resp)
                # Some servers refuse HEAD: read the headers of a GET, then drop the body.
                async with session.get(href) as resp:
                    self._check_status(href, resp)
                    return self._info(href, resp)

        return await self._guarded(href, head)

    async def download(self, href: str, dest_path: str, *, checksum: Checksum | None = None,
                       progress: ProgressCallback | None = None) -> ImageInfo:
        self.validate_href(href)

        async def get() -> ImageInfo:
            size, resp = await self._get_to_file(href, href, dest_path, checksum, progress)
            info = self._info(href, resp)
            info.size = size
            return info

        return await self._guarded(href, get)


class GlanceImageService(_HTTPBase):
    """Glance v2 without auth: ``GET /v2/images/{id}`` then ``GET /v2/images/{id}/file``."""

    def __init__(self, conf: cfg.ConfigOpts | None = None, **kwargs: Any) -> None:
        super().__init__(conf, **kwargs)
        if self.attempts is None:
            self.attempts = self.conf.glance.num_retries + 1

    def _timeout_s(self) -> int:
        return self.conf.glance.timeout

    def _ssl(self) -> ssl.SSLContext | bool:
        if self.conf.glance.insecure:
            return False
        if self.conf.glance.cafile:
            return ssl.create_default_context(cafile=self.conf.glance.cafile)
        return True

    @staticmethod
    def image_id(href: str) -> str:
        if uuidutils.is_uuid_like(href):
            return href
        parts = urllib.parse.urlsplit(href)
        candidate = (parts.netloc or parts.path.strip('/')) if parts.scheme == 'glance' else ''
        if not uuidutils.is_uuid_like(candidate):
            raise exception.ImageRefValidationFailed(
                image_href=href, reason='expected a Glance image UUID or glance://<uuid>')
        return candidate

    def _url(self, image_id: str, suffix: str = '') -> str:
        endpoint = self.conf.glance.endpoint_override
        if not endpoint:
            raise exception.ImageRefValidationFailed(
                image_href=image_id, reason='no Glance endpoint: set [glance]endpoint_override')
        endpoint = endpoint.rstrip('/')
        if not endpoint.endswith('/v2'):
            endpoint += '/v2'
        return f'{endpoint}/images/{image_id}{suffix}'

    async def show(self, href: str) -> ImageInfo:
        image_id = self.image_id(href)
        url = self._url(image_id)

        async def get_meta() -> ImageInfo:
            async with self._session() as session, session.get(url) as resp:
                if resp.status == 404:
                    raise exception.ImageNotFound(image_id=image_id)
                self._check_status(href, resp)
                body = await resp.json()
            if body.get('status') != 'active':
                raise exception.ImageRefValidationFailed(
                    image_href=href, reason=f'image status is {body.get("status")!r}, '
                                            'not "active"')
            return ImageInfo(href=href, size=body.get('size'), checksum=body.get('checksum'),
                             os_hash_algo=body.get('os_hash_algo'),
                             os_hash_value=body.get('os_hash_value'),
                             updated_at=body.get('updated_at'),
                             disk_format=body.get('disk_format'))

        return await self._guarded(href, get_meta)

    async def download(self, href: str, dest_path: str, *, checksum: Checksum | None = None,
                       progress: ProgressCallback | None = None) -> ImageInfo:
        info = await self.show(href)
        # Without an explicit checksum, Glance's own hash protects the transfer.
        checksum = checksum or info.expected_checksum()
        url = self._url(self.image_id(href), '/file')

        async def get() -> ImageInfo:
            size, _resp = await self._get_to_file(url, href, dest_path, checksum, progress)
            return dataclasses.replace(info, size=size)

        return await self._guarded(href, get)
