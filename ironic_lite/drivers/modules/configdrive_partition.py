"""The node's config drive on the iSCSI deploy: decoding it, and the partition that holds it.

Sources, as upstream's ``get_configdrive``: ``instance_info['configdrive']`` is the ISO 9660
image gzipped and base64-encoded, or an http(s) URL serving that text (downloaded through the
project's HTTP image code, size-limited, retried; a downloaded body that is not base64 is taken
as the binary image itself, as ironic-python-agent does, but must then carry a filesystem).
The decoded drive may be at most 64 MiB (upstream's ``MAX_CONFIG_DRIVE_SIZE_MB``). Bad data is
an :class:`~ironic_lite.common.exception.InstanceDeployFailure` saying what is wrong.

Partition images get a partition of their own in the layout (``disk_layout``). For
whole-disk images :func:`add_to_whole_disk` does upstream's ``create_config_drive_partition``
in userspace: when a partition of the written image already carries a ``config-2``
filesystem label it is overwritten; otherwise a partition is added at the end of the disk —
GPT: the backup table is moved to the disk's end first (``sfdisk --relocate gpt-bak-std``),
then a partition of at least 64 MiB ends at the last usable sector; MBR: a primary partition
(type ``0c``, as ``parted mkpart primary fat32``) over the last 64 MiB, refused when the table
already has 4 primary partitions, and kept below 2 TiB on larger disks. The table is edited
by ``sfdisk`` in a sparse scratch file holding the disk's first MiB; only the changed regions
go back to the disk.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import gzip
import io
import logging
import math
import os
import re
import zlib

from oslo_config import cfg

from ironic_lite.common import exception, image_http
from ironic_lite.drivers.modules import disk_layout, disk_writer

LOG = logging.getLogger(__name__)

MiB = 1024 * 1024
SECTOR = disk_layout.SECTOR
LABEL = 'config-2'
MAX_MB = 64
MAX_BYTES = MAX_MB * MiB
# base64 of gzip of a 64 MiB image, line breaks and gzip's overhead on incompressible data
MAX_DOWNLOAD = MAX_BYTES * 3 // 2
MBR_LIMIT = 2 ** 32 * SECTOR   # an MBR partition must end below 2 TiB
MBR_TYPE = 'c'                 # W95 FAT32 (LBA): what parted's "mkpart primary fat32" sets
PROBE_BYTES = MiB              # of each partition, enough for blkid to find a label


@dataclasses.dataclass(frozen=True)
class ConfigDrive:
    """The decoded config drive in a local file, zero-padded to whole sectors."""

    path: str
    size: int       # bytes of the decoded image
    padded: int     # bytes in ``path``

    @property
    def mb(self) -> int:
        """Its size in whole MiB: the size of its partition in a partition image."""
        return max(1, math.ceil(self.size / MiB))


class _Invalid(Exception):
    """Config drive data that cannot be used; the message says why."""


def is_http_url(value: str) -> bool:
    return bool(re.match(r'^https?://', value.strip(), re.IGNORECASE))


def _gunzip(raw: bytes) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw), mode='rb') as f:
            data = f.read(MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise _Invalid(f'is not gzip-compressed data ({e})') from None
    if len(data) > MAX_BYTES:
        raise _Invalid(f'exceeds the maximum size of {MAX_MB} MiB once decompressed')
    return data


def decode(data: bytes, allow_binary: bool = False) -> tuple[bytes, bool]:
    """The image in ``data`` (gzip + base64), and whether it was taken as binary.

    Blocking, CPU work: call in a thread. ``allow_binary``: data that is not base64 is the
    image itself (a downloaded body).
    """
    compact = re.sub(rb'\s+', b'', data)
    try:
        raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as e:
        if not allow_binary:
            raise _Invalid(f'is not base64 encoded or the content is malformed ({e})') from None
        if len(data) > MAX_BYTES:
            raise _Invalid(f'exceeds the maximum size of {MAX_MB} MiB') from None
        return data, True
    if not raw:
        raise _Invalid('is empty')
    image = _gunzip(raw)
    if not image:
        raise _Invalid('is empty once decompressed')
    return image, False


def _save(image: bytes, path: str) -> int:
    """Write ``image`` to ``path`` padded to whole sectors (qemu writes whole sectors)."""
    padded = -(-len(image) // SECTOR) * SECTOR
    with open(path, 'wb') as f:
        f.write(image)
        f.truncate(padded)
    return padded


async def _download(conf: cfg.ConfigOpts, url: str, node_uuid: str) -> bytes:
    try:
        return await image_http.HttpImageService(conf).read_small(url, MAX_DOWNLOAD)
    except (exception.ImageRefValidationFailed, exception.ImageDownloadFailed) as e:
        raise exception.InstanceDeployFailure(
            reason=f"can't download the config drive of node {node_uuid} from {url}: "
                   f'{e}') from None


async def fetch(conf: cfg.ConfigOpts, configdrive, workdir: str,
                node_uuid: str) -> ConfigDrive:
    """Decode (or download and decode) ``configdrive`` into ``workdir``."""
    if not isinstance(configdrive, str) or not configdrive.strip():
        raise exception.InstanceDeployFailure(
            reason=f'the config drive of node {node_uuid} must be a gzipped, base64-encoded '
                   f'image or an http(s) URL, not {type(configdrive).__name__} '
                   f'{str(configdrive)[:40]!r}')
    url = configdrive.strip() if is_http_url(configdrive) else None
    where = f' (downloaded from {url})' if url else ''
    if url:
        data = await _download(conf, url, node_uuid)
    else:
        try:
            data = configdrive.encode('ascii')
        except UnicodeEncodeError:
            raise exception.InstanceDeployFailure(
                reason=f'the config drive of node {node_uuid} is not base64 encoded or the '
                       'content is malformed (non-ASCII characters)') from None
    path = os.path.join(workdir, 'configdrive')
    try:
        image, binary = await asyncio.to_thread(decode, data, bool(url))
    except _Invalid as e:
        raise exception.InstanceDeployFailure(
            reason=f'the config drive of node {node_uuid}{where} {e}') from None
    padded = await asyncio.to_thread(_save, image, path)
    if binary and not await disk_layout.probe(path, 'TYPE'):
        raise exception.InstanceDeployFailure(
            reason=f'the config drive of node {node_uuid}{where} is neither gzipped and '
                   'base64-encoded nor a filesystem image')
    LOG.info('Node %s: config drive of %d bytes%s', node_uuid, len(image), where)
    return ConfigDrive(path, len(image), padded)


async def write(conf: cfg.ConfigOpts, drive: ConfigDrive, target: disk_writer.Target,
                offset: int, room: int) -> None:
    """Write the config drive into the partition at ``offset`` of ``room`` bytes."""
    if drive.padded > room:
        raise exception.InstanceDeployFailure(
            reason=f'the config drive ({drive.size} bytes) is larger than its partition '
                   f'({room} bytes)')
    await disk_writer.write(conf, drive.path, 'raw', target, offset=offset, size=drive.padded)


# -- whole-disk images -----------------------------------------------------------------------
async def _labelled(conf: cfg.ConfigOpts, target: disk_writer.Target, parts: list[dict],
                    workdir: str) -> dict | None:
    """The partition whose filesystem is labelled ``config-2`` (upstream: lsblk LABEL)."""
    found = []
    for part in parts:
        if part['length'] <= 0:
            continue
        path = os.path.join(workdir, f'probe-{part["number"]}')
        await asyncio.to_thread(disk_layout.sparse_file, path, part['length'])
        await disk_writer.read(conf, target, part['offset'], min(PROBE_BYTES, part['length']),
                               path)
        label = await disk_layout.probe(path, 'LABEL')
        await asyncio.to_thread(disk_layout.remove, [path])
        if label and label.upper() == LABEL.upper():
            found.append(part)
    if len(found) > 1:
        raise exception.InstanceDeployFailure(
            reason=f'more than one partition with label "{LABEL}" exists on the disk: '
                   f'partitions {" and ".join(str(p["number"]) for p in found)}')
    return found[0] if found else None


def _new_gpt_partition(table: dict, disk_size: int) -> tuple[int, int]:
    """(start, size) in sectors: at least 64 MiB, 1 MiB aligned, ending at the last usable
    sector (upstream: ``sgdisk -n 0:-64MB:0``)."""
    last = int(table.get('lastlba') or disk_size // SECTOR - 34)
    start = (last + 1 - MAX_BYTES // SECTOR) // 2048 * 2048
    return start, last - start + 1


def _new_mbr_partition(parts: list[dict], disk_size: int) -> tuple[int, int]:
    """(start, size) in sectors: the last 64 MiB of the disk (upstream's ``-64MiB -0``), or
    of the first 2 TiB less 1 MiB on larger disks (upstream's 2 TB limit rule)."""
    primaries = [p for p in parts if p['number'] <= 4]
    if len(primaries) > 3:
        raise exception.InstanceDeployFailure(
            reason='a config drive partition cannot be added: the disk uses MBR '
                   f'partitioning and already has {len(primaries)} primary partitions')
    if disk_size > MBR_LIMIT:
        LOG.warning('Disk larger than 2 TiB: the config drive partition goes below 2 TiB')
        end = MBR_LIMIT // SECTOR - MiB // SECTOR
        return end - MAX_BYTES // SECTOR, MAX_BYTES // SECTOR
    total = disk_size // SECTOR
    start = (total - MAX_BYTES // SECTOR) // 2048 * 2048
    return start, total - start


async def add_to_whole_disk(conf: cfg.ConfigOpts, target: disk_writer.Target, disk_size: int,
                            drive: ConfigDrive, workdir: str) -> dict:
    """Put the config drive on a disk holding a whole-disk image; its partition's record
    ``{number, start, size, uuid}`` (bytes). Scratch files go to ``workdir``."""
    scratch = os.path.join(workdir, 'disk-head')
    await disk_writer.read_head(conf, target, disk_size, scratch)
    table = await disk_layout.read_table(scratch)
    if not table or table.get('label') not in ('dos', 'gpt'):
        raise exception.InstanceDeployFailure(
            reason='a config drive partition cannot be added: the whole-disk image has no '
                   'MBR or GPT partition table')
    gpt = table['label'] == 'gpt'
    parts = disk_layout.entries(table, scratch)
    part = await _labelled(conf, target, parts, workdir)
    sfdisk = list(disk_layout.SFDISK)
    added = part is None
    if gpt:
        # The image's backup GPT sits where the image ended: move it to the disk's end, which
        # also moves the last usable sector there (upstream's "sgdisk -e"), in both cases.
        await disk_layout.run_tool(sfdisk + ['--relocate', 'gpt-bak-std', scratch],
                                   'Moving the backup GPT to the end of the disk')
        table = await disk_layout.read_table(scratch) or table
    if part:
        LOG.info('Partition %d of the image is labelled %s: the config drive goes there',
                 part['number'], LABEL)
    else:
        start, size = (_new_gpt_partition(table, disk_size) if gpt
                       else _new_mbr_partition(parts, disk_size))
        used = max((p['offset'] + p['length'] for p in parts), default=MiB)
        if start * SECTOR < used:
            raise exception.InstanceDeployFailure(
                reason=f'no room for a {MAX_MB} MiB config drive partition at the end of '
                       f'the {disk_size} byte disk: the image\'s partitions end at byte {used}')
        kind = disk_layout.GPT_LINUX if gpt else MBR_TYPE
        await disk_layout.run_tool(sfdisk + ['--append', scratch],
                                   'Adding the config drive partition',
                                   f'start={start}, size={size}, type={kind}\n'.encode())
        table = await disk_layout.read_table(scratch) or {}
        known = {p['number'] for p in parts}
        new = [p for p in disk_layout.entries(table, scratch)
               if p['offset'] == start * SECTOR and p['number'] not in known]
        if len(new) != 1:  # sfdisk says nothing when, e.g., no table slot is left
            raise exception.InstanceDeployFailure(
                reason='disk partitioning failed: the config drive partition was not created')
        part = new[0]
        LOG.info('Added config drive partition %d at byte %d of %s', part['number'],
                 part['offset'], target.url)
    if gpt:
        # the primary table (the first MiB, as read) and the backup at the disk's end
        await disk_writer.write_sparse(conf, scratch, target, 0)
    elif added:
        # only the MBR itself: EBRs of logical partitions were never read and stay untouched
        await disk_writer.write(conf, scratch, 'raw', target, offset=0, size=SECTOR)
    await write(conf, drive, target, part['offset'], part['length'])
    return _record(part, table)


def _record(part: dict, table: dict) -> dict:
    return {'number': part['number'], 'start': part['offset'], 'size': part['length'],
            'uuid': disk_layout.partuuid(table, part, part['number']) or None}
