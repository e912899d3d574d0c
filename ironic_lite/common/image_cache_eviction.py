"""A master image directory on disk: its layout, per-key file locks, and eviction.

Layout of ``master_dir``: ``<key>`` (the read-only master), ``<key>.meta.json`` (what the
source said when it was fetched), ``.locks/<key>.lock`` (``flock``: exclusive to write a
master, shared to link it) and dot-prefixed temp files carrying the key.

Eviction (:meth:`MasterDirectory.clean_up`): crash leftovers of keys nobody holds a lock on go
first; then masters unused for longer than the TTL (last use kept in the master's atime), then
the least recently used while the directory is over its size (or until a requested amount is
freed). A master a node still links (``st_nlink > 1``) or a fetch is using is never removed,
and clean-up never waits for a lock: busy keys are skipped. Fetching is ``image_cache``.
"""
from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import re
import time
from collections.abc import Iterator

import tenacity

from ironic_lite.common import fileutils

LOG = logging.getLogger(__name__)

_MASTER_RE = re.compile(r'^[0-9a-f]{32}(\.converted)?$')
_KEY_IN_NAME = re.compile(r'[0-9a-f]{32}(?:\.converted)?')
_META_SUFFIX = '.meta.json'
_LOCK_DIR = '.locks'


def master_key(href: str, force_raw: bool) -> str:
    """Cache key of an image: hash of the full href, plus the conversion applied."""
    return hashlib.sha256(href.encode()).hexdigest()[:32] + ('.converted' if force_raw else '')


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _allocated(st: os.stat_result) -> int:
    # Disk space really used: raw masters are often sparse.
    return st.st_blocks * 512


class _FileLock:
    """``flock`` on a per-key lock file; polled so no thread ever blocks waiting for it.

    Not fasteners (nor oslo.concurrency, built on it), neither of which this project declares:
    their inter-process locks are POSIX ``lockf`` record locks, which belong to the process —
    two holders in one process never exclude each other, and closing any descriptor of the
    file drops them all. Here one conductor's clean-up must skip a master that its own fetch
    is linking, so the lock must be per descriptor: ``flock``. Their waits also block a thread.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def try_acquire(self, exclusive: bool = True) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    async def acquire(self, exclusive: bool = True) -> None:
        """Wait for the lock: tries 5 ms apart at first, doubling up to 250 ms."""
        await tenacity.AsyncRetrying(
            retry=tenacity.retry_if_result(lambda got: not got), stop=tenacity.stop_never,
            wait=tenacity.wait_exponential(multiplier=0.005, max=0.25),
        )(self.try_acquire, exclusive)

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None



class MasterDirectory:
    """Paths, locks and eviction of one master directory (``master_dir``; None: no cache)."""

    def __init__(self, master_dir: str | None, cache_size_bytes: int,
                 cache_ttl_s: float) -> None:
        self.master_dir = os.path.abspath(master_dir) if master_dir else None
        self.cache_size = cache_size_bytes
        self.cache_ttl = cache_ttl_s

    # -- paths ---------------------------------------------------------------------------
    def master_path(self, key: str) -> str:
        return os.path.join(self.master_dir, key)

    def _meta_path(self, key: str) -> str:
        return os.path.join(self.master_dir, key + _META_SUFFIX)

    def _lock(self, key: str) -> _FileLock:
        return _FileLock(os.path.join(self.master_dir, _LOCK_DIR, key + '.lock'))

    def _temp_path(self, key: str, what: str) -> str:
        # Dot-prefixed and carrying the key: clean-up recognises leftovers of a crash.
        return fileutils.temp_path(self.master_path(key), what)

    def _busy_keys(self) -> set[str]:
        """Keys being fetched right now in this process (spared by clean-up)."""
        return set()

    async def clean_up(self, amount: int | None = None) -> int:
        """Remove unused masters older than the TTL, then least recently used ones while the
        cache is over its size (or until ``amount`` bytes are freed). Returns bytes freed."""
        if not self.master_dir or not os.path.isdir(self.master_dir):
            return 0
        freed = await asyncio.to_thread(self._clean_up, amount, time.time(), self._busy_keys())
        if freed:
            LOG.info('Image cache %s: freed %d bytes', self.master_dir, freed)
        return freed

    # -- clean-up (runs in a worker thread: directory walks and unlinks) ------------------
    def _scan(self) -> Iterator[tuple[str, os.stat_result]]:
        with os.scandir(self.master_dir) as entries:
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    if entry.is_file(follow_symlinks=False):
                        yield entry.name, entry.stat(follow_symlinks=False)

    def _clean_up(self, amount: int | None, now: float, busy: set[str]) -> int:
        os.makedirs(os.path.join(self.master_dir, _LOCK_DIR), exist_ok=True)
        masters, metas, leftovers = [], [], []
        for name, st in self._scan():
            if _MASTER_RE.match(name):
                masters.append((st.st_atime, name, st))
            elif name.endswith(_META_SUFFIX) and _MASTER_RE.match(name[:-len(_META_SUFFIX)]):
                metas.append(name[:-len(_META_SUFFIX)])
            elif name.startswith('.') and (match := _KEY_IN_NAME.search(name)):
                leftovers.append((name, match.group(0), st))
        freed = 0
        master_keys = {name for _, name, _ in masters}
        # Temp files and orphan metadata of keys no one holds a lock on: crash leftovers.
        for name, key, st in leftovers:
            if key not in busy and self._locked_unlink(key, [name]):
                freed += _allocated(st)
        for key in metas:
            if key not in master_keys and key not in busy:
                self._locked_unlink(key, [key + _META_SUFFIX])
        total = sum(_allocated(st) for _, _, st in masters)
        masters.sort(key=lambda m: m[0])  # least recently used first
        for last_used, key, st in masters:
            if st.st_nlink > 1 or key in busy:
                continue  # a node links it (or a fetch is using it): never removed
            expired = now - last_used > self.cache_ttl
            over = total > self.cache_size or (amount is not None and freed < amount)
            if not (expired or over):
                continue
            if self._locked_unlink(key, [key + _META_SUFFIX, key], unlinked_only=True):
                LOG.debug('Removed master %s (%s)', key, 'expired' if expired else 'size')
                freed += _allocated(st)
                total -= _allocated(st)
        return freed

    def _locked_unlink(self, key: str, names: list[str], unlinked_only: bool = False) -> bool:
        """Unlink ``names`` if the key's lock is free right now (never waits)."""
        lock = self._lock(key)
        if not lock.try_acquire(exclusive=True):
            return False
        try:
            if unlinked_only:
                try:
                    if os.stat(self.master_path(key)).st_nlink > 1:
                        return False  # linked since the scan
                except FileNotFoundError:
                    return False
            for name in names:
                _unlink(os.path.join(self.master_dir, name))
            return True
        finally:
            lock.release()
