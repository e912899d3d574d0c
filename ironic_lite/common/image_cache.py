"""Master image cache: one validated copy per image, hard-linked into per-node folders.

The rules come from the seed notes' warning (a failed deploy left ``master_images`` and the
node folder behind, and the next deploy wrote the old image) and DESIGN.md section 2:

* A master is named by a hash of the full href plus the conversion (``<sha256(href)[:32]>``
  or ``<...>.converted``), so two images with the same file name never collide.
* Next to each master, ``<key>.meta.json`` records what the source said when it was fetched
  (checksum / os_hash, ETag, Last-Modified, Glance updated_at) and the checksum verified. Every
  fetch asks the source again (``show``) and re-fetches when anything differs or when nothing
  proves the master current. A stale master is removed *before* the new download starts, so a
  failed download can never leave the old one in use.
* ``fetch_image`` first removes whatever ``dest_path`` held, then hard-links the master there:
  on any failure the node's path holds nothing, never an old image.
* Writes go to temp files renamed into place; ``meta.json`` is removed before a master is
  replaced and written after, so a crash in between leaves "no metadata" = stale.
* Concurrent requests for one image share one download (one task per key in this process) and
  an ``fcntl`` lock per key (``.locks/<key>.lock``) serialises processes: exclusive to write a
  master, shared to link it. Clean-up only takes locks without waiting, and skips busy keys.
* Clean-up by TTL (time since last use, kept in the master's atime) and by total size (LRU)
  never removes a master that a node still links (``st_nlink > 1``): ``image_cache_eviction``,
  which also holds the directory layout and the per-key file locks.
* Masters are read-only and their mtime is recorded: one modified in place (written through a
  node's hard link) is stale.
"""
from __future__ import annotations

import asyncio
import dataclasses
import errno
import inspect
import json
import logging
import os
import shutil
import time
import uuid
import weakref
from typing import Any

import tenacity
from oslo_config import cfg

from ironic_lite.common import exception, fileutils, image_format
from ironic_lite.common import image_service as images
from ironic_lite.common.image_cache_eviction import _LOCK_DIR, MasterDirectory, _unlink, master_key
from ironic_lite.common.image_service import BaseImageService, Checksum, ImageInfo

__all__ = ['PROGRESS_FIELD', 'ImageCache', 'InstanceImageCache', 'TFTPImageCache',
           'NodeProgress', 'fetch_images', 'master_key']

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
#: driver_internal_info key of the download progress of a node's images (NodeProgress).
PROGRESS_FIELD = 'image_download_progress'
# Fields that identify a version of the source image; size alone proves nothing.
_VALIDATORS = ('os_hash_value', 'checksum', 'etag', 'last_modified', 'updated_at')


@dataclasses.dataclass
class _Inflight:
    reg_key: tuple[str, str]
    request: tuple[str, bool, Checksum | None]
    callbacks: list[images.ProgressCallback]
    task: asyncio.Task | None = None
    waiters: int = 0

    async def wait(self) -> None:
        """Wait for the shared task; the last caller to give up cancels it."""
        self.waiters += 1
        try:
            # shield: one caller being cancelled must not abort the download for the others.
            await asyncio.shield(self.task)
        except asyncio.CancelledError:
            if self.waiters == 1 and not self.task.done():
                # Nobody wants the image any more (deploy aborted, conductor stopping): stop
                # the download and let it clean up before this caller goes. Unregistered at
                # once, so a new request starts afresh instead of joining a dying task.
                if _INFLIGHT.get(self.reg_key) is self:
                    del _INFLIGHT[self.reg_key]
                self.task.cancel()
                await asyncio.wait([self.task])
            raise
        finally:
            self.waiters -= 1


# Shared by every ImageCache object of this process (drivers create caches per call), keyed by
# (master_dir, key): concurrent fetches of one image join the running task.
_INFLIGHT: dict[tuple[str, str], _Inflight] = {}
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary())


def _download_slots(conf: cfg.ConfigOpts) -> asyncio.Semaphore:
    """[DEFAULT]image_download_concurrency downloads/conversions at once, per event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _SLOTS:
        _SLOTS[loop] = asyncio.Semaphore(conf.image_download_concurrency)
    return _SLOTS[loop]


def _fan_out(callbacks: list[images.ProgressCallback], href: str) -> images.ProgressCallback:
    async def progress(done: int, total: int | None) -> None:
        LOG.info('Downloading %s: %d of %s bytes (%d waiting)', href, done,
                 total if total is not None else 'unknown', len(callbacks))
        for callback in list(callbacks):  # callers joining later are appended to the list
            try:
                result = callback(done, total)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one caller's broken callback must not starve the others
                LOG.warning('Image progress callback failed', exc_info=True)
    return progress


def _same_source(stored: dict[str, Any], current: ImageInfo, verified_match: bool) -> bool:
    """True when the stored source fingerprint provably describes the current image."""
    proven = verified_match
    for field in _VALIDATORS:
        new = getattr(current, field)
        if new is None:
            continue
        if stored.get(field) != new:
            return False
        proven = True
    if current.size is not None and stored.get('size') not in (None, current.size):
        return False
    return proven


def _hardlink_replace(src: str, dest: str) -> bool:
    """Atomically make ``dest`` a hard link to ``src``; False if ``src`` vanished."""
    os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
    try:
        with fileutils.replacing(dest, 'link') as tmp:
            try:
                _link_or_copy(src, tmp, dest)
            except FileNotFoundError:
                raise _Vanished() from None
    except _Vanished:
        return False   # nothing is left at the temporary name, dest is unchanged
    return True


class _Vanished(Exception):
    """The master to link is gone."""


def _link_or_copy(src: str, tmp: str, dest: str) -> None:
    try:
        os.link(src, tmp)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Different filesystems: a copy works but wastes space; the config should be fixed.
        LOG.warning('%s and %s are on different filesystems; copying instead of linking',
                    src, dest)
        shutil.copyfile(src, tmp)


class ImageCache(MasterDirectory):
    """A directory of master images (``master_dir``) bounded by size and TTL.

    ``master_dir`` empty or None disables caching: images are downloaded straight to the
    destination. ``image_service`` forces one source (tests); by default the href's scheme
    picks it.
    """

    def __init__(self, master_dir: str | None, cache_size_bytes: int, cache_ttl_s: float,
                 image_service: BaseImageService | None = None, *,
                 conf: cfg.ConfigOpts | None = None) -> None:
        super().__init__(master_dir, cache_size_bytes, cache_ttl_s)
        self.image_service = image_service
        self.conf = images.get_conf(conf)

    def _service(self, href: str) -> BaseImageService:
        return self.image_service or images.get_image_service(href, self.conf)

    # -- public API ----------------------------------------------------------------------
    async def fetch_image(self, href: str, dest_path: str, *,
                          image_info: dict[str, Any] | None = None, force_raw: bool = False,
                          progress: images.ProgressCallback | None = None) -> str:
        """Ensure a current master of ``href`` and hard-link it to ``dest_path``.

        ``image_info`` may carry ``image_checksum`` (bare hex, ``algo:hex`` or a checksum file
        URL) or ``image_os_hash_algo``/``image_os_hash_value`` (node instance_info names; the
        Glance names without ``image_`` work too). Returns the master path (``dest_path``
        when caching is disabled).
        """
        info = image_info or {}
        checksum = await images.resolve_checksum(
            info.get('image_checksum') or info.get('checksum'), href,
            os_hash_algo=info.get('image_os_hash_algo') or info.get('os_hash_algo'),
            os_hash_value=info.get('image_os_hash_value') or info.get('os_hash_value'),
            conf=self.conf)
        # Whatever dest_path held is from an earlier attempt: it goes first, so that a failure
        # below can never leave it there to be booted or written to a disk.
        await asyncio.to_thread(_unlink, dest_path)
        if not self.master_dir:
            await self._download(href, dest_path, checksum, force_raw, progress)
            return dest_path
        key = master_key(href, force_raw)
        # Created on first use, not in __init__: building a cache object must not need write
        # access to the configured paths.
        await asyncio.to_thread(os.makedirs, os.path.join(self.master_dir, _LOCK_DIR),
                                exist_ok=True)

        async def fetch_and_link() -> bool:
            await self._ensure_master_shared(key, href, checksum, force_raw, progress)
            lock = self._lock(key)
            await lock.acquire(exclusive=False)  # no one replaces or deletes it meanwhile
            try:
                return await asyncio.to_thread(_hardlink_replace, self.master_path(key),
                                               dest_path)
            finally:
                lock.release()

        def log_vanished(state: tenacity.RetryCallState) -> None:
            LOG.info('Master %s of %s vanished before it was linked; fetching again', key, href)

        linked = await tenacity.AsyncRetrying(
            retry=tenacity.retry_if_result(lambda linked: not linked),
            stop=tenacity.stop_after_attempt(3), before_sleep=log_vanished,
            retry_error_callback=lambda _: False)(fetch_and_link)
        if not linked:
            raise exception.ImageDownloadFailed(
                image_href=href, reason='the cached master kept disappearing (cache too small?)')
        return self.master_path(key)

    def _busy_keys(self) -> set[str]:
        return {key for (mdir, key) in _INFLIGHT if mdir == self.master_dir}

    # -- master maintenance --------------------------------------------------------------
    async def _ensure_master_shared(self, key: str, href: str, checksum: Checksum | None,
                                    force_raw: bool,
                                    progress: images.ProgressCallback | None) -> None:
        loop = asyncio.get_running_loop()
        reg_key = (self.master_dir, key)
        request = (href, force_raw, checksum)
        while (entry := _INFLIGHT.get(reg_key)) and entry.task.get_loop() is loop:
            if entry.request == request:
                if progress:
                    entry.callbacks.append(progress)
                return await entry.wait()
            # Same master, different expectations (another checksum): wait, then check anew.
            await asyncio.wait([entry.task])
        entry = _Inflight(reg_key, request, [progress] if progress else [])
        entry.task = loop.create_task(
            self._ensure_master(key, href, checksum, force_raw, _fan_out(entry.callbacks, href)))
        _INFLIGHT[reg_key] = entry

        def done(task: asyncio.Task) -> None:
            if _INFLIGHT.get(reg_key) is entry:
                del _INFLIGHT[reg_key]
            if not task.cancelled():
                task.exception()  # retrieved: no "never retrieved" noise if all callers left

        entry.task.add_done_callback(done)
        await entry.wait()

    def _load_state(self, key: str) -> tuple[dict[str, Any] | None, os.stat_result | None]:
        try:
            with open(self._meta_path(key)) as f:
                meta = json.load(f)
        except (FileNotFoundError, ValueError):
            meta = None
        try:
            st = os.stat(self.master_path(key))
        except FileNotFoundError:
            st = None
        return meta, st

    def _is_fresh(self, meta: dict[str, Any] | None, st: os.stat_result | None, href: str,
                  current: ImageInfo, checksum: Checksum | None, force_raw: bool) -> bool:
        if meta is None or st is None:
            return False
        if (meta.get('href'), meta.get('force_raw')) != (href, force_raw):
            return False
        if (st.st_size, st.st_mtime_ns) != (meta.get('master_size'),
                                            meta.get('master_mtime_ns')):
            return False  # modified in place, e.g. written through a node's hard link
        verified = meta.get('verified') or {}
        if checksum is not None and verified.get(checksum.algo) != checksum.value:
            return False
        return _same_source(meta.get('source') or {}, current, checksum is not None)

    async def _ensure_master(self, key: str, href: str, checksum: Checksum | None,
                             force_raw: bool, progress: images.ProgressCallback) -> None:
        lock = self._lock(key)
        await lock.acquire(exclusive=True)
        try:
            service = self._service(href)
            current = await service.show(href)
            meta, st = await asyncio.to_thread(self._load_state, key)
            if self._is_fresh(meta, st, href, current, checksum, force_raw):
                # atime is the "last used" time TTL and LRU clean-up look at; mtime stays
                # as published, so a write through any link is noticed (see _is_fresh).
                await asyncio.to_thread(os.utime, self.master_path(key),
                                        ns=(time.time_ns(), st.st_mtime_ns))
                LOG.debug('Master %s of %s is current', key, href)
                return
            if meta is not None or st is not None:
                LOG.info('Master %s of %s is stale or unverifiable; fetching again', key, href)
            # The stale master goes before the download starts: if the download fails, no
            # old image remains for a later deploy to pick up.
            await asyncio.to_thread(self._remove_master, key)
            await self._download_master(key, href, service, current, checksum, force_raw,
                                        progress)
            # The cache just grew: enforce TTL and size now, as upstream does (this key is
            # busy, so its fresh master is spared until it is linked).
            try:
                await self.clean_up()
            except OSError:  # housekeeping must not fail a fetch that succeeded
                LOG.warning('Image cache %s: clean-up failed', self.master_dir, exc_info=True)
        finally:
            lock.release()

    def _remove_master(self, key: str) -> None:
        _unlink(self._meta_path(key))  # metadata first: a master without it is never trusted
        _unlink(self.master_path(key))

    async def _download(self, href: str, dest: str, checksum: Checksum | None, force_raw: bool,
                        progress: images.ProgressCallback | None,
                        service: BaseImageService | None = None,
                        current: ImageInfo | None = None, tmp_key: str = ''
                        ) -> tuple[ImageInfo, image_format.ImageFormatInfo | None]:
        """Download (and convert) ``href`` into ``dest`` atomically; nothing left on failure."""
        service = service or self._service(href)
        current = current or await service.show(href)
        dest_dir = os.path.dirname(os.path.abspath(dest))
        await asyncio.to_thread(os.makedirs, dest_dir, exist_ok=True)
        base = os.path.basename(dest)
        tmp_download = os.path.join(dest_dir, f'.{tmp_key or base}.{uuid.uuid4().hex[:8]}.dl')
        try:
            async with _download_slots(self.conf):
                await self._check_space(dest_dir, current.size or 0, href)
                got = await service.download(href, tmp_download, checksum=checksum,
                                             progress=progress)
                fmt = None
                if force_raw:
                    fmt = await image_format.detect_format(tmp_download, href=href)
                    if not fmt.is_raw:
                        await self._check_space(dest_dir, fmt.virtual_size, href)
                    await image_format.convert_to_raw(tmp_download, dest, href=href, fmt=fmt,
                                                      conf=self.conf)
                else:
                    # rename on the loop: instant, and never racing a cancellation
                    os.replace(tmp_download, dest)
        except BaseException:
            _unlink(tmp_download)  # synchronous: also runs on cancellation
            raise
        # What the download response said wins over the earlier show().
        merged = dataclasses.replace(
            current, **{k: v for k, v in dataclasses.asdict(got).items() if v is not None})
        return merged, fmt

    async def _download_master(self, key: str, href: str, service: BaseImageService,
                               current: ImageInfo, checksum: Checksum | None, force_raw: bool,
                               progress: images.ProgressCallback) -> None:
        tmp_master = self._temp_path(key, 'master')
        try:
            source, fmt = await self._download(href, tmp_master, checksum, force_raw, progress,
                                               service, current, tmp_key=key)
            meta = {
                'href': href, 'key': key, 'force_raw': force_raw,
                'source': source.to_dict(),
                'verified': {checksum.algo: checksum.value} if checksum else {},
                'format': fmt.format if fmt else None, 'fetched_at': time.time(),
            }
            await asyncio.to_thread(self._publish, key, tmp_master, meta)
        except BaseException:
            _unlink(tmp_master)
            raise
        LOG.info('Cached %s as master %s', href, key)

    def _publish(self, key: str, tmp_master: str, meta: dict[str, Any]) -> None:
        # Read-only: node copies are hard links of this inode and must never be written to.
        os.chmod(tmp_master, 0o444)
        _unlink(self._meta_path(key))
        os.replace(tmp_master, self.master_path(key))
        st = os.stat(self.master_path(key))
        meta['master_size'], meta['master_mtime_ns'] = st.st_size, st.st_mtime_ns
        fileutils.write_atomic(self._meta_path(key), json.dumps(meta, indent=1, sort_keys=True))

    async def _check_space(self, path: str, required: int, href: str) -> None:
        """Make sure ``required`` bytes fit in ``path``'s filesystem, cleaning the cache first."""
        if required <= 0:
            return
        free = (await asyncio.to_thread(shutil.disk_usage, path)).free
        if free < required and self.master_dir:
            await self.clean_up(amount=required - free)
            free = (await asyncio.to_thread(shutil.disk_usage, path)).free
        if free < required:
            raise exception.InsufficientDiskSpace(
                path=path, required=required, required_mib=-(-required // MiB),
                available=free, available_mib=free // MiB)


class InstanceImageCache(ImageCache):
    """Instance (user) images: ``[pxe]instance_master_path``."""

    def __init__(self, image_service: BaseImageService | None = None, *,
                 conf: cfg.ConfigOpts | None = None) -> None:
        conf = images.get_conf(conf)
        super().__init__(conf.pxe.instance_master_path, conf.pxe.image_cache_size * MiB,
                         conf.pxe.image_cache_ttl * 60, image_service, conf=conf)


class TFTPImageCache(ImageCache):
    """Deploy/instance kernels and ramdisks: ``[pxe]tftp_master_path`` (same filesystem as
    the TFTP/HTTP root, since node copies are hard links)."""

    def __init__(self, image_service: BaseImageService | None = None, *,
                 conf: cfg.ConfigOpts | None = None) -> None:
        conf = images.get_conf(conf)
        super().__init__(conf.pxe.tftp_master_path, conf.pxe.image_cache_size * MiB,
                         conf.pxe.image_cache_ttl * 60, image_service, conf=conf)


class NodeProgress:
    """Records downloads in the node's driver_internal_info:
    ``image_download_progress: {label: {"bytes": so_far, "total": size or null}}`` (throttled
    by the source: every 100 MiB or 10 s, and at the end). One object per task: concurrent
    downloads of one node write one after the other. Needs the task's exclusive lock."""

    def __init__(self, task: Any) -> None:
        self.task = task
        self._lock = asyncio.Lock()

    def callback(self, label: str) -> images.ProgressCallback:
        async def progress(done: int, total: int | None) -> None:
            async with self._lock:
                node = self.task.node
                current = (node.driver_internal_info or {}).get(PROGRESS_FIELD) or {}
                await self.task.set_driver_internal_info(**{PROGRESS_FIELD: {
                    **current, label: {'bytes': done, 'total': total}}})
        return progress


async def fetch_images(cache: ImageCache, images_info: list[tuple[str, str]], *,
                       force_raw: bool = False, image_info: dict[str, Any] | None = None,
                       progress: images.ProgressCallback | None = None,
                       task: Any = None) -> list[str]:
    """Fetch several (href, dest_path) pairs concurrently (bounded by the download slots).

    With ``task``, each download's progress is recorded on the node (:class:`NodeProgress`,
    labelled by the destination's file name) instead of going to ``progress``.

    If one fails, the others are cancelled and every destination is removed: a node folder is
    either complete or empty.
    """
    recorder = NodeProgress(task) if task is not None else None
    tasks = [asyncio.ensure_future(cache.fetch_image(
        href, path, image_info=image_info, force_raw=force_raw,
        progress=recorder.callback(os.path.basename(path)) if recorder else progress))
        for href, path in images_info]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _href, path in images_info:
            await asyncio.to_thread(_unlink, path)
        raise
