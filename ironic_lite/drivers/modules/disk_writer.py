"""Writing images to a deploy ramdisk's iSCSI target, in userspace.

The kernel iSCSI initiator is not needed: ``qemu-img`` (Debian ``qemu-utils`` plus
``qemu-block-extra`` for its libiscsi block driver) logs in to the target itself::

    qemu-img convert -n -S 0 -f raw -O raw SRC iscsi://ADDR:PORT/IQN/LUN

``-n`` writes into the existing LUN, ``-S 0`` writes zero regions as data (tgtd handles
WRITE SAME 512 bytes at a time, which is far slower than plain writes). Writes to a part of
the disk (a partition, a partition table) use qemu's ``raw`` driver ``offset``/``size``
options on both sides; :func:`read` copies a region of the LUN back into a local file the
same way (partition tables and filesystem headers the conductor inspects). Every qemu-img
runs as an asyncio subprocess with a timeout; its ``-p`` progress is passed to a callback.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable

from oslo_config import cfg

from ironic_lite.common import exception
from ironic_lite.drivers.modules import disk_layout

LOG = logging.getLogger(__name__)

ProgressFn = Callable[[float], Awaitable[None]]
_PROGRESS_RE = re.compile(rb'\((\d+(?:\.\d+)?)/100%\)')
_STDERR_TAIL = 1500
MERGE_GAP = 4 * 1024 * 1024  # holes smaller than this are written as zeros with the data


@dataclasses.dataclass(frozen=True)
class Target:
    """The ramdisk's iSCSI LUN, from its pass_deploy_info."""

    address: str
    port: int
    iqn: str
    lun: int = 1

    @property
    def portal(self) -> str:
        try:
            if ipaddress.ip_address(self.address).version == 6:
                return f'[{self.address}]:{self.port}'
        except ValueError:
            pass
        return f'{self.address}:{self.port}'

    @property
    def url(self) -> str:
        return f'iscsi://{self.portal}/{self.iqn}/{self.lun}'

    def image_opts(self, offset: int, size: int) -> str:
        return (f'driver=raw,offset={offset},size={size},file.driver=iscsi,'
                f'file.transport=tcp,file.portal={_esc(self.portal)},'
                f'file.target={_esc(self.iqn)},file.lun={self.lun}')


def _esc(value: str) -> str:
    """qemu option values escape commas by doubling them."""
    return value.replace(',', ',,')


def _file_opts(path: str, fmt: str, offset: int = 0, size: int | None = None) -> str:
    opts = f'driver={_esc(fmt)},file.driver=file,file.filename={_esc(path)}'
    if fmt == 'raw':
        opts += f',offset={offset}' + (f',size={size}' if size is not None else '')
    return opts


async def _run(cmd: list[str], what: str, timeout: float,
               progress: ProgressFn | None = None) -> bytes:
    """Run ``cmd``; InstanceDeployFailure naming ``what`` on failure or timeout."""
    LOG.debug('Running %s', ' '.join(cmd))
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out = bytearray()

    async def read_stdout() -> None:
        last = -1.0
        while chunk := await proc.stdout.read(4096):
            out.extend(chunk)
            if progress is None:
                continue
            found = _PROGRESS_RE.findall(bytes(out[-256:]))
            if found and (pct := float(found[-1])) != last:
                last = pct
                await progress(pct)
            if len(out) > 65536:
                del out[:-4096]

    try:
        _, err = await asyncio.wait_for(
            asyncio.gather(read_stdout(), proc.stderr.read()), timeout)
        rc = await proc.wait()
    except BaseException as e:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(Exception):
            await proc.wait()
        if isinstance(e, TimeoutError):
            raise exception.InstanceDeployFailure(
                reason=f'{what} did not finish within {timeout:.0f} seconds') from None
        raise
    if rc != 0:
        detail = err.decode(errors='replace').strip()[-_STDERR_TAIL:] or f'exit code {rc}'
        raise exception.InstanceDeployFailure(reason=f'{what} failed: {detail}')
    return bytes(out)


async def target_size(conf: cfg.ConfigOpts, target: Target) -> int:
    """Size in bytes of the ramdisk's LUN (``qemu-img info``), which also proves the login."""
    out = await _run([conf.iscsi.qemu_img, 'info', '--output=json', target.url],
                     f'Reading the size of iSCSI target {target.url}',
                     conf.iscsi.notify_timeout)
    try:
        return int(json.loads(out)['virtual-size'])
    except (ValueError, KeyError, TypeError) as e:
        raise exception.InstanceDeployFailure(
            reason=f'qemu-img info of {target.url} gave no size: {e}') from e


async def write(conf: cfg.ConfigOpts, src: str, src_format: str, target: Target, *,
                offset: int = 0, size: int | None = None, src_offset: int = 0,
                progress: ProgressFn | None = None) -> None:
    """Write ``src`` (``src_format``, converted to raw on the fly) to the target.

    Whole LUN by default; with ``size``, exactly ``size`` bytes from ``src_offset`` of a raw
    ``src`` (or the virtual disk of another format) into ``[offset, offset + size)``.
    """
    # -t writeback: qemu-img convert's default cache mode for its target is "unsafe", which
    # never flushes; the ramdisk's tgtd then leaves the last writes in the machine's page
    # cache and the reboot that follows loses them (seen on a qemu machine: a config drive
    # written last was missing). With writeback the final flush reaches tgtd as SYNCHRONIZE
    # CACHE, which syncs the disk.
    base = [conf.iscsi.qemu_img, 'convert', '-t', 'writeback', '-n', '-S', '0', '-p']
    if size is None and offset == 0 and src_offset == 0:
        cmd = base + ['-f', src_format, '-O', 'raw', src, target.url]
        where = target.url
    else:
        if size is None:
            raise ValueError('size is required when writing at an offset')
        cmd = base + ['--image-opts', _file_opts(src, src_format, src_offset,
                                                 size if src_format == 'raw' else None),
                      '--target-image-opts', target.image_opts(offset, size)]
        where = f'{target.url} at offset {offset}'
    await _run(cmd, f'Writing image {os.path.basename(src)} to iSCSI target {where}',
               conf.iscsi.write_timeout, progress)


async def read(conf: cfg.ConfigOpts, target: Target, offset: int, size: int, dest: str,
               dest_offset: int = 0) -> None:
    """Copy ``[offset, offset + size)`` of the LUN into the existing file ``dest`` at
    ``dest_offset`` (``dest`` must already be at least ``dest_offset + size`` bytes)."""
    cmd = [conf.iscsi.qemu_img, 'convert', '-n', '--image-opts', target.image_opts(offset, size),
           '--target-image-opts', _file_opts(dest, 'raw', dest_offset, size)]
    await _run(cmd, f'Reading {size} bytes at offset {offset} of iSCSI target {target.url}',
               conf.iscsi.notify_timeout)


async def read_head(conf: cfg.ConfigOpts, target: Target, disk_size: int, dest: str,
                    length: int = 1024 * 1024) -> None:
    """``dest``: a sparse file as large as the LUN holding its first ``length`` bytes (its
    partition table), so that ``sfdisk`` sees the disk's real size."""
    await asyncio.to_thread(disk_layout.sparse_file, dest, disk_size)
    await read(conf, target, 0, min(length, disk_size), dest)


def data_extents(path: str, merge_gap: int = MERGE_GAP) -> list[tuple[int, int]]:
    """``(offset, length)`` of the data regions of a sparse file, small holes merged.

    Blocking (seeks a file): call in a thread.
    """
    extents: list[tuple[int, int]] = []
    with open(path, 'rb') as f:
        end = os.fstat(f.fileno()).st_size
        pos = 0
        while pos < end:
            try:
                start = os.lseek(f.fileno(), pos, os.SEEK_DATA)
            except OSError:  # ENXIO: no data after pos
                break
            stop = os.lseek(f.fileno(), start, os.SEEK_HOLE)
            if extents and start - (extents[-1][0] + extents[-1][1]) < merge_gap:
                first = extents[-1][0]
                extents[-1] = (first, stop - first)
            else:
                extents.append((start, stop - start))
            pos = stop
    return extents


async def write_sparse(conf: cfg.ConfigOpts, src: str, target: Target, offset: int) -> int:
    """Write only the data regions of the sparse raw file ``src`` at ``offset``."""
    written = 0
    for start, length in await asyncio.to_thread(data_extents, src):
        await write(conf, src, 'raw', target, offset=offset + start, size=length,
                    src_offset=start)
        written += length
    return written
