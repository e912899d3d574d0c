"""Image sources: http(s)://, file:// and Glance v2 (a bare image UUID or glance://<uuid>).

The entry point for drivers and the image cache: :func:`get_image_service` picks the source
for an href, :func:`resolve_checksum` turns node fields (or a checksum file URL) into the
expected digest. Every source offers ``show(href) -> ImageInfo`` and ``download(href,
dest_path)`` (streamed, verified, atomic). Shared pieces live in ``image_source``, the sources
in ``image_http`` (web servers, Glance) and ``image_file`` (local files); their public names are
re-exported here.
"""
from __future__ import annotations

import asyncio
import re
import urllib.parse
from typing import Any

from oslo_config import cfg
from oslo_utils import uuidutils

from ironic_lite.common import exception
from ironic_lite.common.image_file import (
    FORBIDDEN_FILE_PATHS,
    FileImageService,
    check_href_form,
)
from ironic_lite.common.image_http import GlanceImageService, HttpImageService
from ironic_lite.common.image_source import (
    CHUNK_SIZE,
    SUPPORTED_ALGOS,
    BaseImageService,
    Checksum,
    ImageInfo,
    ProgressCallback,
    _checksum_from_file_text,
    get_conf,
    parse_checksum,
    stream_to_file,
)

__all__ = ['CHUNK_SIZE', 'FORBIDDEN_FILE_PATHS', 'SUPPORTED_ALGOS', 'BaseImageService',
           'Checksum', 'FileImageService', 'GlanceImageService', 'HttpImageService',
           'ImageInfo', 'ProgressCallback', 'get_conf', 'get_image_service', 'is_glance_image',
           'parse_checksum', 'resolve_checksum', 'stream_to_file']

_MAX_CHECKSUM_FILE = 1024 * 1024


async def resolve_checksum(image_checksum: str | None, image_href: str, *,
                           os_hash_algo: str | None = None, os_hash_value: str | None = None,
                           conf: cfg.ConfigOpts | None = None) -> Checksum | None:
    """Like :func:`parse_checksum`, also accepting an http(s):// or file:// checksum file."""
    if image_checksum and not (os_hash_algo and os_hash_value) and re.match(
            r'(https?|file)://', image_checksum):
        service = get_image_service(image_checksum, conf)
        text = await service.read_small(image_checksum, _MAX_CHECKSUM_FILE)
        return _checksum_from_file_text(text.decode('utf-8', 'replace'), image_href)
    return parse_checksum(image_checksum, os_hash_algo, os_hash_value)


def is_glance_image(href: str) -> bool:
    return uuidutils.is_uuid_like(href) or urllib.parse.urlsplit(href).scheme == 'glance'


def check_file_source(href: Any, conf: cfg.ConfigOpts) -> None:
    """Refuse a file:// ``image_source`` outside ``[conductor]file_url_allowed_paths``
    without I/O (the API checks this before it accepts a deploy, whatever the driver)."""
    if isinstance(href, str) and urllib.parse.urlsplit(href).scheme.lower() == 'file':
        check_href_form(href, conf.conductor.file_url_allowed_paths)


async def validate_source(href: Any, conf: cfg.ConfigOpts) -> None:
    """What deploy interfaces' ``validate`` checks: a known scheme, and for a file:// source
    the path against ``[conductor]file_url_allowed_paths`` and the file itself (symlinks
    resolved, a regular file; in a thread)."""
    if not isinstance(href, str) or not href:
        raise exception.ImageRefValidationFailed(image_href=href,
                                                 reason='the image source must be a string')
    service = get_image_service(href, conf)
    if isinstance(service, FileImageService):
        await asyncio.to_thread(service.validate_href, href)


def get_image_service(href: str, conf: cfg.ConfigOpts | None = None,
                      **kwargs: Any) -> BaseImageService:
    """The service for ``href``'s scheme (a bare UUID means Glance)."""
    scheme = urllib.parse.urlsplit(href).scheme.lower()
    if scheme in ('http', 'https'):
        return HttpImageService(conf, **kwargs)
    if scheme == 'file':
        return FileImageService(conf, **kwargs)
    if is_glance_image(href):
        return GlanceImageService(conf, **kwargs)
    raise exception.ImageRefValidationFailed(
        image_href=href, reason=f'unsupported image source scheme {scheme or "(none)"!r}; '
                                'use http(s)://, file://, glance:// or a Glance image UUID')
