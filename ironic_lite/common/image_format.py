"""Disk image format detection (from content, never from names) and conversion to raw.

Detection uses oslo.utils' format inspector and its safety checks (a qcow2 with a backing or
data file, a vmdk with remote extents... would make qemu-img read files of the conductor).
Conversion runs ``qemu-img convert`` (Debian package ``qemu-utils``) as an asyncio subprocess
under address-space and CPU-time limits, with the source format given explicitly so qemu-img
never probes. Output goes to a temp file that is renamed into place only on success.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import resource
import shutil

import tenacity
from oslo_config import cfg
from oslo_utils.imageutils import format_inspector

from ironic_lite.common import exception, fileutils
from ironic_lite.common.image_service import get_conf

LOG = logging.getLogger(__name__)

#: Formats that are written to a disk as they are (a GPT or ISO image is raw bytes too).
RAW_COMPATIBLE_FORMATS = frozenset({'raw', 'gpt', 'iso'})
_STDERR_TAIL = 2000


@dataclasses.dataclass(frozen=True)
class ImageFormatInfo:
    format: str          # inspector name: raw, qcow2, vmdk, gpt, iso...
    virtual_size: int    # bytes the image occupies once written to a disk
    actual_size: int     # bytes of the file itself

    @property
    def is_raw(self) -> bool:
        return self.format in RAW_COMPATIBLE_FORMATS


def _inspect(path: str, href: str, safety_check: bool) -> ImageFormatInfo:
    try:
        inspector = format_inspector.detect_file_format(path)
    except format_inspector.ImageFormatError as exc:
        # Several formats matched at once: a crafted file, refuse it.
        raise exception.InvalidImage(image_href=href or path, reason=str(exc)) from exc
    name = inspector.NAME if inspector is not None else 'raw'
    size = os.stat(path).st_size
    if safety_check and inspector is not None:
        try:
            inspector.safety_check()
        except (format_inspector.SafetyCheckFailed, format_inspector.ImageFormatError) as exc:
            raise exception.InvalidImage(
                image_href=href or path, reason=f'{name} image failed safety checks: {exc}'
            ) from exc
    # The inspector's virtual size is wrong for raw files (it counts what it read): a raw
    # image is exactly as large as the file.
    virtual = size if name in RAW_COMPATIBLE_FORMATS else inspector.virtual_size
    return ImageFormatInfo(format=name, virtual_size=virtual, actual_size=size)


async def detect_format(path: str, *, href: str = '', safety_check: bool = True
                        ) -> ImageFormatInfo:
    """Format of the file at ``path`` from its content; InvalidImage if unsafe/ambiguous."""
    return await asyncio.to_thread(_inspect, path, href, safety_check)


def _limit_resources(address_space: int, cpu_seconds: int) -> None:  # pragma: no cover
    # Runs in the child between fork and exec (fallback when util-linux prlimit is missing).
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


class _RetryableConvertError(Exception):
    """qemu-img ran out of memory or threads under the address-space limit."""


# Upstream (ironic-lib) retries on exactly these: pressure that may be gone a second later.
_RETRYABLE_STDERR = ('Resource temporarily unavailable', 'Cannot allocate memory',
                     'std::bad_alloc')


async def _run_limited(cmd: list[str], *, address_space: int, cpu_seconds: int,
                       tmpdir: str) -> tuple[int, str]:
    """Run ``cmd`` with rlimits, return (returncode, stderr); kill it if we are cancelled."""
    prlimit = shutil.which('prlimit')
    kwargs = {}
    if prlimit:
        # prlimit(1) sets the limits in the child itself: no preexec_fn, which is unsafe in a
        # process with threads (asyncio.to_thread workers).
        cmd = [prlimit, f'--as={address_space}', f'--cpu={cpu_seconds}', '--', *cmd]
    else:
        kwargs['preexec_fn'] = lambda: _limit_resources(address_space, cpu_seconds)
    env = dict(os.environ, TMPDIR=tmpdir, LC_ALL='C')
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, env=env, **kwargs)
    try:
        _out, err = await proc.communicate()
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await asyncio.shield(proc.wait())
        raise
    return proc.returncode, err.decode('utf-8', 'replace')[-_STDERR_TAIL:]


async def convert_image(source: str, dest: str, *, source_format: str,
                        out_format: str = 'raw', href: str = '',
                        conf: cfg.ConfigOpts | None = None) -> None:
    """``qemu-img convert -f source_format -O out_format source dest``, atomically.

    Raises ImageConvertFailed when qemu-img is missing or fails; ``dest`` then does not exist.
    """
    conf = get_conf(conf)
    qemu_img = shutil.which('qemu-img')
    if qemu_img is None:
        raise exception.ImageConvertFailed(
            image_href=href or source,
            reason='qemu-img not found: install the qemu-utils package')
    limits = {'address_space': conf.disk_utils.image_convert_memory_limit * 1024 * 1024,
              'cpu_seconds': conf.disk_utils.image_convert_cpu_time_limit,
              'tmpdir': conf.tempdir}

    async def attempt(tmp: str) -> None:
        cmd = [qemu_img, 'convert', '-f', source_format, '-O', out_format, source, tmp]
        rc, err = await _run_limited(cmd, **limits)
        if rc == 0:
            return
        if any(text in err for text in _RETRYABLE_STDERR):
            raise _RetryableConvertError(err.strip())
        reason = err.strip() or f'exit code {rc}'
        if rc < 0:  # killed by a signal, e.g. SIGXCPU from the CPU-time limit
            reason = f'qemu-img killed by signal {-rc}: {reason}'
        raise exception.ImageConvertFailed(image_href=href or source, reason=reason)

    # The temp file is created, and renamed or unlinked, on the loop (instant calls), not in a
    # thread: a cancellation meanwhile must not leave an unknown file.
    with fileutils.replacing(dest, 'part') as tmp:
        os.close(fileutils.create_private(tmp))
        try:
            async for retry in tenacity.AsyncRetrying(
                    stop=tenacity.stop_after_attempt(conf.disk_utils.image_convert_attempts),
                    retry=tenacity.retry_if_exception_type(_RetryableConvertError),
                    wait=tenacity.wait_fixed(1), reraise=True):
                with retry:
                    await attempt(tmp)
        except _RetryableConvertError as exc:
            raise exception.ImageConvertFailed(image_href=href or source,
                                               reason=str(exc)) from exc


async def convert_to_raw(source: str, dest: str, *, href: str = '',
                         fmt: ImageFormatInfo | None = None,
                         conf: cfg.ConfigOpts | None = None) -> ImageFormatInfo:
    """Make ``dest`` a raw copy of ``source`` and remove ``source``.

    A raw-compatible source is just renamed. ``fmt`` is a previous :func:`detect_format`
    result (the caller may have needed it to check disk space). Returns the output's format.
    """
    fmt = fmt or await detect_format(source, href=href)
    if fmt.is_raw:
        # rename on the loop: instant, and never racing a cancellation
        os.replace(source, dest)
        return fmt
    LOG.info('Converting image %s from %s to raw (%d bytes virtual)', href or source,
             fmt.format, fmt.virtual_size)
    await convert_image(source, dest, source_format=fmt.format, href=href, conf=conf)
    await asyncio.to_thread(os.unlink, source)
    out = await detect_format(dest, href=href)
    if not out.is_raw:  # qemu-img wrote something else: never hand that to a node
        await asyncio.to_thread(os.unlink, dest)
        raise exception.ImageConvertFailed(image_href=href or source,
                                           reason=f'output detected as {out.format}, not raw')
    return out
