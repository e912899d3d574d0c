"""What the iSCSI deploy writes to the ramdisk's disk: a whole-disk image, or a partition
image laid out with root (+ swap / ephemeral) partitions.

Returns what the node records in ``driver_internal_info``: ``root_uuid_or_disk_id`` (the root
filesystem's UUID for a partition image, falling back to the partition's; the disk
identifier of a whole-disk image), and for partition images ``root_partition_uuid``,
``disk_label`` and ``partitions`` (``{name: {number, start, size, uuid}}``, bytes).
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from ironic_lite.common import exception, image_format
from ironic_lite.drivers.modules import disk_layout, disk_writer, pxe_utils

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
ProgressSaver = Callable[[str, float, int], Awaitable[None]]


def _mb(info: dict, key: str, factor: int = 1) -> int:
    value = info.get(key)
    return int(value) * factor if value not in (None, '') else 0


def disk_label(node) -> str:
    caps = pxe_utils.parse_capabilities((node.instance_info or {}).get('capabilities'),
                                        'instance_info')
    return caps.get('disk_label') or ('gpt' if pxe_utils.boot_mode(node) == 'uefi'
                                      else 'msdos')


async def write_image(task, src: str, target: disk_writer.Target, whole_disk: bool,
                      progress: ProgressSaver) -> dict[str, Any]:
    """Write the cached image ``src`` to ``target``; returns driver_internal_info values."""
    conf = task.res.conf
    if not await asyncio.to_thread(os.path.exists, src):
        raise exception.InstanceDeployFailure(
            reason=f'the cached instance image {src} is gone (was the node cleaned up?)')
    fmt = await image_format.detect_format(src)
    src_format = 'raw' if fmt.is_raw else fmt.format
    disk_size = await disk_writer.target_size(conf, target)
    LOG.info('Node %s: writing a %s %s image (%d bytes) to %s (%d bytes)', task.node.uuid,
             'whole-disk' if whole_disk else 'partition', fmt.format, fmt.virtual_size,
             target.url, disk_size)

    async def report(pct: float) -> None:
        await progress('image', pct, fmt.virtual_size)

    if whole_disk:
        if fmt.virtual_size > disk_size:
            raise exception.InstanceDeployFailure(
                reason=f'the image ({fmt.virtual_size} bytes) is larger than the disk of '
                       f'the deploy ramdisk ({disk_size} bytes)')
        await disk_writer.write(conf, src, src_format, target, progress=report)
        table = await disk_layout.read_table(src) if fmt.is_raw else None
        disk_id = (table or {}).get('id')
        return {'root_uuid_or_disk_id': str(disk_id).lower() if disk_id else None}
    return await _write_partitions(task, src, src_format, fmt, target, disk_size, report)


async def _write_partitions(task, src: str, src_format: str, fmt, target, disk_size: int,
                            report: disk_writer.ProgressFn) -> dict[str, Any]:
    node, conf = task.node, task.res.conf
    info = node.instance_info or {}
    layout = disk_layout.plan(disk_size, root_mb=_mb(info, 'root_gb', 1024),
                              swap_mb=_mb(info, 'swap_mb'),
                              ephemeral_mb=_mb(info, 'ephemeral_gb', 1024),
                              label=disk_label(node))
    root = layout.get('root')
    if fmt.virtual_size > root.size:
        raise exception.InstanceDeployFailure(
            reason=f'the partition image ({fmt.virtual_size} bytes) is larger than the root '
                   f'partition ({root.size} bytes)')
    scratch = await asyncio.to_thread(tempfile.mkdtemp, prefix='.layout-',
                                      dir=os.path.dirname(src))
    try:
        table = os.path.join(scratch, 'table')
        uuids = await disk_layout.build_table(layout, table)
        await disk_writer.write_sparse(conf, table, target, 0)
        if swap := layout.get('swap'):
            path = os.path.join(scratch, 'swap')
            await disk_layout.make_swap(path, swap.size)
            await disk_writer.write_sparse(conf, path, target, swap.start)
        if eph := layout.get('ephemeral'):
            path = os.path.join(scratch, 'ephemeral')
            await disk_layout.make_filesystem(path, eph.size,
                                              info.get('ephemeral_format') or 'ext4',
                                              'ephemeral0')
            await disk_writer.write_sparse(conf, path, target, eph.start)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
    await disk_writer.write(conf, src, src_format, target, offset=root.start,
                            size=fmt.virtual_size, progress=report)
    fs_uuid = await disk_layout.filesystem_uuid(src) if fmt.is_raw else None
    return {
        'root_uuid_or_disk_id': fs_uuid or uuids.get('root'),
        'root_partition_uuid': uuids.get('root'),
        'disk_label': layout.label,
        'partitions': {p.name: {'number': p.number, 'start': p.start, 'size': p.size,
                                'uuid': uuids.get(p.name)} for p in layout.partitions},
    }
