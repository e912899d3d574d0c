"""Ramdisks and images built by the scripts in ``tools/ramdisk/``, cached.

``build('tiny')`` runs ``tools/ramdisk/tiny.sh OUT`` once and keeps ``OUT`` under
``~/.cache/ironic-lite/ramdisks/tiny-<hash>`` (``$IRONIC_LITE_RAMDISK_CACHE``), where the hash
covers the script and ``lib.sh``: a changed script builds anew, an unchanged one is reused
across test runs. Concurrent builders of one ramdisk wait for each other (a file lock).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'tools', 'ramdisk')
CACHE = os.environ.get('IRONIC_LITE_RAMDISK_CACHE') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'ironic-lite',
    'ramdisks')
# What every build needs on the host: Debian's package tools and cpio/gzip.
HOST_TOOLS = ('apt-get', 'apt-cache', 'dpkg-deb', 'cpio', 'gzip', 'ldd')
BUILD_TIMES: dict[str, float] = {}   # name -> seconds of the builds this process ran


class BuildError(Exception):
    pass


def script(name: str) -> str:
    return os.path.join(TOOLS, f'{name}.sh')


def tools_ok() -> bool:
    return os.path.isdir(TOOLS) and all(shutil.which(t) for t in HOST_TOOLS)


def debootstrap_ok() -> bool:
    """What ``ipa-ramdisk.sh`` needs beyond :func:`tools_ok` (root: it chroots)."""
    return bool(shutil.which('debootstrap') and shutil.which('zstd')) and os.geteuid() == 0


def _digest(name: str) -> str:
    h = hashlib.sha256()
    for path in (os.path.join(TOOLS, 'lib.sh'), script(name)):
        with open(path, 'rb') as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def build(name: str, timeout: float = 1800) -> str:
    """The directory holding what ``tools/ramdisk/<name>.sh`` builds (cached)."""
    out = os.path.join(CACHE, f'{name}-{_digest(name)}')
    if os.path.isdir(out):
        return out
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, f'.{name}.lock'), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.isdir(out):
            return out
        tmp = f'{out}.tmp{os.getpid()}'
        shutil.rmtree(tmp, ignore_errors=True)
        started = time.monotonic()
        # Scripts that need PyPI use this interpreter's pip (its index and CA settings).
        env = dict(os.environ, IRONIC_LITE_PIP=f'{sys.executable} -m pip')
        proc = subprocess.run(['bash', script(name), tmp], capture_output=True, text=True,
                              timeout=timeout, env=env)
        if proc.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise BuildError(f'{script(name)} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}')
        os.rename(tmp, out)
        BUILD_TIMES[name] = time.monotonic() - started
        # Older builds of the same script are dead weight.
        for entry in os.listdir(CACHE):
            if entry.startswith(f'{name}-') and os.path.join(CACHE, entry) != out \
                    and '.tmp' not in entry:
                shutil.rmtree(os.path.join(CACHE, entry), ignore_errors=True)
    return out
