"""What the iSCSI deploy writes to the ramdisk's disk: a whole-disk image, or a partition
image laid out with root (+ swap / ephemeral / config drive) partitions.

The node's config drive (``instance_info/configdrive``) is decoded first, so that bad data
fails the deploy before the disk is touched (``configdrive_partition``). With
``instance_info/preserve_ephemeral`` (a rebuild), the partition table is rewritten but the
ephemeral partition keeps its place, identity and content: no ``mkfs``. Upstream refuses it
when ``root_gb``/``swap_mb``/``ephemeral_gb`` differ from the last deploy
(:func:`check_preserve_ephemeral`, from ``validate``); here the disk's table must also hold that
ephemeral partition, or the deploy fails before writing.

Returns what the node records in ``driver_internal_info``: ``root_uuid_or_disk_id`` (the root
filesystem's UUID for a partition image, falling back to the partition's; the disk
identifier of a whole-disk image), ``partitions`` (``{name: {number, start, size, uuid}}``,
bytes; only ``configdrive`` for a whole-disk image), and for partition images
``root_partition_uuid``, ``disk_label`` and ``instance`` (the layout deployed, upstream's
record for the rebuild check).
"""
from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from oslo_utils import strutils

from ironic_lite.common import exception, image_format
from ironic_lite.drivers.modules import (
    configdrive_partition,
    disk_layout,
    disk_writer,
    pxe_utils,
)

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
LAYOUT_PARAMS = ('root_gb', 'swap_mb', 'ephemeral_gb')   # upstream's DISK_LAYOUT_PARAMS
ProgressSaver = Callable[[str, float, int], Awaitable[None]]


def _mb(info: dict, key: str, factor: int = 1) -> int:
    value = info.get(key)
    return int(value) * factor if value not in (None, '') else 0


def disk_label(node) -> str:
    caps = pxe_utils.parse_capabilities((node.instance_info or {}).get('capabilities'),
                                        'instance_info')
    return caps.get('disk_label') or ('gpt' if pxe_utils.boot_mode(node) == 'uefi'
                                      else 'msdos')


def preserve_ephemeral(node) -> bool:
    """``instance_info/preserve_ephemeral`` as a boolean (InvalidParameterValue if not one)."""
    value = (node.instance_info or {}).get('preserve_ephemeral', False)
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise exception.InvalidParameterValue(
            err=f'instance_info/preserve_ephemeral must be a boolean, not {value!r}') from None


def check_preserve_ephemeral(node, whole_disk: bool) -> None:
    """Upstream's ``_check_disk_layout_unchanged``: preserving the ephemeral partition needs
    the layout of the last deploy (InvalidParameterValue naming what changed)."""
    if not preserve_ephemeral(node) or whole_disk:
        return
    deployed = (node.driver_internal_info or {}).get('instance')
    if not isinstance(deployed, dict):
        return
    info = node.instance_info or {}
    changed = [f'deployed value of {key} was {deployed.get(key, 0)} but requested value is '
               f'{_mb(info, key)}' for key in LAYOUT_PARAMS
               if int(deployed.get(key) or 0) != _mb(info, key)]
    if changed:
        raise exception.InvalidParameterValue(
            err='preserve_ephemeral needs the disk layout of the previous deployment, but: '
                + '; '.join(changed))


async def write_image(task, src: str, target: disk_writer.Target, whole_disk: bool,
                      progress: ProgressSaver) -> dict[str, Any]:
    """Write the cached image ``src`` to ``target``; returns driver_internal_info values."""
    conf = task.conf
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

    scratch = await asyncio.to_thread(tempfile.mkdtemp, prefix='.layout-',
                                      dir=os.path.dirname(src))
    try:
        configdrive = (task.node.instance_info or {}).get('configdrive')
        drive = (await configdrive_partition.fetch(conf, configdrive, scratch, task.node.uuid)
                 if configdrive not in (None, '') else None)
        if whole_disk:
            return await _write_whole_disk(task, src, src_format, fmt, target, disk_size,
                                           report, drive, scratch)
        return await _write_partitions(task, src, src_format, fmt, target, disk_size,
                                       report, drive, scratch)
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)


async def _write_whole_disk(task, src: str, src_format: str, fmt, target, disk_size: int,
                            report: disk_writer.ProgressFn,
                            drive: configdrive_partition.ConfigDrive | None,
                            scratch: str) -> dict[str, Any]:
    conf = task.conf
    if fmt.virtual_size > disk_size:
        raise exception.InstanceDeployFailure(
            reason=f'the image ({fmt.virtual_size} bytes) is larger than the disk of '
                   f'the deploy ramdisk ({disk_size} bytes)')
    if preserve_ephemeral(task.node):
        LOG.info('Node %s: preserve_ephemeral ignored, a whole-disk image has no ephemeral '
                 'partition', task.node.uuid)
    await disk_writer.write(conf, src, src_format, target, progress=report)
    table = await disk_layout.read_table(src) if fmt.is_raw else None
    disk_id = (table or {}).get('id')
    partitions = None
    if drive:
        part = await configdrive_partition.add_to_whole_disk(conf, target, disk_size, drive,
                                                             scratch)
        partitions = {'configdrive': part}
    return {'root_uuid_or_disk_id': str(disk_id).lower() if disk_id else None,
            'partitions': partitions, 'instance': None}


async def _kept_ephemeral(conf, target, layout: disk_layout.Layout, eph: disk_layout.Partition,
                          scratch: str) -> tuple[str | None, dict[str, str]]:
    """preserve_ephemeral: the disk's table must already hold ``eph`` (same table type,
    number, start and size); its disk identifier and GPT partition GUID are kept."""
    path = os.path.join(scratch, 'current')
    await disk_writer.read_head(conf, target, layout.disk_size, path)
    table = await disk_layout.read_table(path) or {}
    kind = 'dos' if layout.label == 'msdos' else 'gpt'
    found = next((p for p in disk_layout.entries(table, path) if p['number'] == eph.number),
                 None) if table.get('label') == kind else None
    if not found or (found['offset'], found['length']) != (eph.start, eph.size):
        now = (f'partition {eph.number} at byte {found["offset"]} of {found["length"]} bytes'
               if found else f'no partition {eph.number} in a {kind} table')
        raise exception.InstanceDeployFailure(
            reason=f'preserve_ephemeral is set but the disk does not hold the ephemeral '
                   f'partition to keep (expected partition {eph.number} at byte {eph.start} '
                   f'of {eph.size} bytes in a {kind} table, found {now}); nothing was '
                   'written. Rebuild without preserve_ephemeral to recreate it.')
    await asyncio.to_thread(disk_layout.remove, [path])
    uuid = str(found.get('uuid') or '')
    return table.get('id'), ({'ephemeral': uuid} if kind == 'gpt' and uuid else {})


async def _write_partitions(task, src: str, src_format: str, fmt, target, disk_size: int,
                            report: disk_writer.ProgressFn,
                            drive: configdrive_partition.ConfigDrive | None,
                            scratch: str) -> dict[str, Any]:
    node, conf = task.node, task.conf
    info = node.instance_info or {}
    layout = disk_layout.plan(disk_size, root_mb=_mb(info, 'root_gb', 1024),
                              swap_mb=_mb(info, 'swap_mb'),
                              ephemeral_mb=_mb(info, 'ephemeral_gb', 1024),
                              label=disk_label(node),
                              configdrive_mb=drive.mb if drive else 0)
    root = layout.get('root')
    if fmt.virtual_size > root.size:
        raise exception.InstanceDeployFailure(
            reason=f'the partition image ({fmt.virtual_size} bytes) is larger than the root '
                   f'partition ({root.size} bytes)')
    eph = layout.get('ephemeral')
    label_id, keep = None, {}
    preserve = bool(eph) and preserve_ephemeral(node)
    if preserve:
        label_id, keep = await _kept_ephemeral(conf, target, layout, eph, scratch)
        LOG.info('Node %s: preserving the ephemeral partition %d', node.uuid, eph.number)
    table = os.path.join(scratch, 'table')
    uuids = await disk_layout.build_table(layout, table, label_id, keep)
    await disk_writer.write_sparse(conf, table, target, 0)
    if swap := layout.get('swap'):
        path = os.path.join(scratch, 'swap')
        await disk_layout.make_swap(path, swap.size)
        await disk_writer.write_sparse(conf, path, target, swap.start)
    if eph and not preserve:
        path = os.path.join(scratch, 'ephemeral')
        await disk_layout.make_filesystem(path, eph.size,
                                          info.get('ephemeral_format') or 'ext4',
                                          'ephemeral0')
        await disk_writer.write_sparse(conf, path, target, eph.start)
    if cd := layout.get('configdrive'):
        await configdrive_partition.write(conf, drive, target, cd.start, cd.size)
    await disk_writer.write(conf, src, src_format, target, offset=root.start,
                            size=fmt.virtual_size, progress=report)
    fs_uuid = await disk_layout.filesystem_uuid(src) if fmt.is_raw else None
    return {
        'root_uuid_or_disk_id': fs_uuid or uuids.get('root'),
        'root_partition_uuid': uuids.get('root'),
        'disk_label': layout.label,
        'partitions': {p.name: {'number': p.number, 'start': p.start, 'size': p.size,
                                'uuid': uuids.get(p.name)} for p in layout.partitions},
        'instance': {key: _mb(info, key) for key in LAYOUT_PARAMS},
    }
