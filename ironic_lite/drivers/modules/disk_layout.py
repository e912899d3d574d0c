"""Partition layout for partition images, built in scratch files on the conductor.

Upstream's order (``make_partitions``): ephemeral, swap, config drive, then root as the **last**
partition (the bash ramdisk finds it there to install a boot loader; cloud-init's growroot can
grow it). Partitions are aligned to 1 MiB; a GPT disk keeps its last MiB for the backup table.
The config drive partition is as large as the decoded config drive, rounded up to whole MiB
(upstream's ``configdrive_mb``). The layout is built with real tools in
sparse scratch files, never on the conductor's own disks:

* the partition table: ``sfdisk`` on a sparse file as large as the ramdisk's disk, whose first
  and last MiB are zeroed first (wiping any earlier MBR/GPT, backup GPT included);
* swap: ``mkswap`` on a file of the swap size; ephemeral: ``mkfs -t <ephemeral_format>``.

Only the data regions of those files are then written to the target
(:func:`disk_writer.write_sparse`); the root image is written whole into its partition.
"""
from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re

from ironic_lite.common import exception

MiB = 1024 * 1024
SECTOR = 512
LABELS = ('msdos', 'gpt')
# sfdisk on an image file: no partition re-read or kernel notification, no chatter
SFDISK = ('sfdisk', '--no-reread', '--no-tell-kernel', '-q')
GPT_LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4'                 # Linux filesystem
_GPT_TYPES = {'root': GPT_LINUX, 'ephemeral': GPT_LINUX, 'configdrive': GPT_LINUX,
              'swap': '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F'}       # Linux swap
_MBR_TYPES = {'root': '83', 'ephemeral': '83', 'configdrive': '83', 'swap': '82'}
# ephemeral_format names the mkfs.<format> program: a plain name only (it comes from the API)
_FS_FORMAT_RE = re.compile(r'^[A-Za-z0-9_]{1,32}$')


@dataclasses.dataclass(frozen=True)
class Partition:
    name: str     # root, swap, ephemeral, configdrive
    number: int   # 1-based, as the kernel names it
    start: int    # bytes
    size: int     # bytes


@dataclasses.dataclass(frozen=True)
class Layout:
    label: str
    disk_size: int
    partitions: tuple[Partition, ...]

    def get(self, name: str) -> Partition | None:
        return next((p for p in self.partitions if p.name == name), None)


def plan(disk_size: int, root_mb: int, swap_mb: int = 0, ephemeral_mb: int = 0,
         label: str = 'msdos', configdrive_mb: int = 0) -> Layout:
    """Partitions for a disk of ``disk_size`` bytes; ``root_mb`` 0 takes the rest."""
    if label not in LABELS:
        raise exception.InvalidParameterValue(
            err=f'Unsupported disk_label {label!r}; valid: {", ".join(LABELS)}')
    usable_end = (disk_size // MiB) * MiB - (MiB if label == 'gpt' else 0)
    wanted = [(name, mb) for name, mb in (('ephemeral', ephemeral_mb), ('swap', swap_mb),
                                          ('configdrive', configdrive_mb)) if mb]
    fixed = sum(mb for _, mb in wanted) * MiB + root_mb * MiB
    if root_mb <= 0:
        fixed += MiB  # root needs at least 1 MiB
    if MiB + fixed > usable_end:
        raise exception.InstanceDeployFailure(
            reason=f'the requested partitions (root {root_mb} MiB, swap {swap_mb} MiB, '
                   f'ephemeral {ephemeral_mb} MiB, config drive {configdrive_mb} MiB) do not '
                   f'fit on the {disk_size} byte disk of the deploy ramdisk')
    parts, pos = [], MiB
    for number, (name, mb) in enumerate(wanted, start=1):
        parts.append(Partition(name, number, pos, mb * MiB))
        pos += mb * MiB
    root_size = root_mb * MiB if root_mb > 0 else usable_end - pos
    parts.append(Partition('root', len(parts) + 1, pos, root_size))
    return Layout(label, disk_size, tuple(parts))


def _sfdisk_script(layout: Layout, label_id: str | None = None,
                   keep_uuids: dict[str, str] | None = None) -> str:
    lines = [f'label: {"dos" if layout.label == "msdos" else "gpt"}', 'unit: sectors']
    if label_id:
        lines.append(f'label-id: {label_id}')
    types = _GPT_TYPES if layout.label == 'gpt' else _MBR_TYPES
    for p in layout.partitions:
        line = f'start={p.start // SECTOR}, size={p.size // SECTOR}, type={types[p.name]}'
        if p.name == 'root' and layout.label == 'msdos':
            line += ', bootable'
        if layout.label == 'gpt' and (keep_uuids or {}).get(p.name):
            line += f', uuid={keep_uuids[p.name]}'
        lines.append(line)
    return '\n'.join(lines) + '\n'


async def run_tool(cmd: list[str], what: str, stdin: bytes | None = None) -> bytes:
    """Run a partitioning/formatting tool; InstanceDeployFailure naming ``what`` on failure."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        raise exception.InstanceDeployFailure(
            reason=f'{what} failed: {cmd[0]} is not installed on the conductor') from None
    out, err = await proc.communicate(stdin)
    if proc.returncode != 0:
        detail = err.decode(errors='replace').strip()[-1000:] or f'exit code {proc.returncode}'
        raise exception.InstanceDeployFailure(reason=f'{what} failed: {detail}')
    return out


def sparse_file(path: str, size: int, zero_ranges: tuple[tuple[int, int], ...] = ()) -> None:
    """A sparse file of ``size`` bytes (blocking), with ``zero_ranges`` written as data."""
    with open(path, 'wb') as f:
        f.truncate(size)
        for offset, length in zero_ranges:
            f.seek(offset)
            f.write(b'\0' * length)


async def build_table(layout: Layout, path: str, label_id: str | None = None,
                      keep_uuids: dict[str, str] | None = None) -> dict[str, str]:
    """Write the partition table into the sparse file ``path``; ``{name: partition uuid}``.

    ``label_id`` (disk identifier) and ``keep_uuids`` (GPT partition GUIDs by name) keep the
    identity of partitions that a rebuild preserves.
    """
    last = max(layout.disk_size - MiB, 0)
    await asyncio.to_thread(sparse_file, path, layout.disk_size,
                            ((0, MiB), (last, layout.disk_size - last)))
    await run_tool([*SFDISK, path],
                   'Creating the partition table',
                   _sfdisk_script(layout, label_id, keep_uuids).encode())
    return await partition_uuids(path, layout)


async def read_table(path: str) -> dict | None:
    """``sfdisk -J`` of a disk image, or None when it has no partition table."""
    proc = await asyncio.create_subprocess_exec(
        'sfdisk', '-J', path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        return None
    try:
        return json.loads(out)['partitiontable']
    except (ValueError, KeyError):
        return None


def entries(table: dict, path: str) -> list[dict]:
    """The partitions of ``sfdisk -J path`` with their ``number`` and byte ``offset``/``length``."""
    result = []
    for entry in table.get('partitions', []):
        suffix = str(entry.get('node', ''))[len(path):].lstrip('p')
        if not suffix.isdigit():
            continue
        result.append({**entry, 'number': int(suffix), 'offset': int(entry['start']) * SECTOR,
                       'length': int(entry['size']) * SECTOR})
    return result


async def partition_uuids(path: str, layout: Layout) -> dict[str, str]:
    """GPT partition GUIDs, or ``<disk id>-<nn>`` for MBR (what the kernel's PARTUUID is)."""
    table = await read_table(path) or {}
    found = table.get('partitions', [])
    return {p.name: partuuid(table, entry, p.number)
            for p, entry in zip(layout.partitions, found, strict=False)}


def partuuid(table: dict, entry: dict, number: int) -> str:
    """The kernel's PARTUUID of partition ``number`` (``entry`` of ``sfdisk -J`` ``table``):
    its GPT GUID ('' if none), or ``<disk id>-<nn>`` for MBR."""
    if table.get('label') == 'gpt':
        return str(entry.get('uuid', '')).lower()
    disk_id = str(table.get('id', '0x0'))[2:].zfill(8).lower()
    return f'{disk_id}-{number:02d}'


async def make_swap(path: str, size: int) -> None:
    await asyncio.to_thread(sparse_file, path, size)
    await run_tool(['mkswap', path], 'Creating the swap partition')


def check_fs_format(fs_format: str) -> None:
    """InvalidParameterValue unless ``fs_format`` is a plain filesystem name (``ext4``)."""
    if not isinstance(fs_format, str) or not _FS_FORMAT_RE.match(fs_format):
        raise exception.InvalidParameterValue(
            err=f'instance_info/ephemeral_format must be a filesystem name such as "ext4", '
                f'not {fs_format!r}')


async def make_filesystem(path: str, size: int, fs_format: str, label: str) -> None:
    """A fresh filesystem; ext* zero their inode tables and journal themselves so that no
    region the filesystem relies on is left as a hole (holes are not written)."""
    check_fs_format(fs_format)
    await asyncio.to_thread(sparse_file, path, size)
    cmd = [f'mkfs.{fs_format}']
    if fs_format.startswith('ext'):
        cmd += ['-F', '-q', '-L', label, '-E', 'nodiscard,lazy_itable_init=0,lazy_journal_init=0']
    cmd.append(path)
    await run_tool(cmd, f'Creating the {fs_format} ephemeral filesystem')


async def filesystem_uuid(path: str) -> str | None:
    """UUID of the filesystem in a partition image (``blkid -p``), if it has one."""
    return await probe(path, 'UUID')


async def probe(path: str, tag: str) -> str | None:
    """A ``blkid -p`` tag (``UUID``, ``LABEL``, ``TYPE``) of the filesystem in ``path``."""
    proc = await asyncio.create_subprocess_exec(
        'blkid', '-p', '-o', 'value', '-s', tag, path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    value = out.decode(errors='replace').strip()
    return value or None


def remove(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
