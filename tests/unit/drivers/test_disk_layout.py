"""The partition layout of partition images: the ephemeral partition's plan and filesystem."""
import shutil

import pytest

from ironic_lite.common import exception
from ironic_lite.drivers.modules import disk_layout

MiB = 1024 * 1024


def test_plan_puts_ephemeral_first_swap_then_root_last():
    layout = disk_layout.plan(4096 * MiB, root_mb=1024, swap_mb=16, ephemeral_mb=2048)
    assert [(p.name, p.number, p.start, p.size) for p in layout.partitions] == [
        ('ephemeral', 1, MiB, 2048 * MiB), ('swap', 2, 2049 * MiB, 16 * MiB),
        ('root', 3, 2065 * MiB, 1024 * MiB)]
    with pytest.raises(exception.InstanceDeployFailure, match='ephemeral 4096 MiB'):
        disk_layout.plan(4096 * MiB, root_mb=1024, ephemeral_mb=4096)


@pytest.mark.parametrize('fs_format', ['../../tmp/x', 'ext4 -O x', '', 'a' * 33, 4])
def test_ephemeral_format_must_be_a_plain_name(fs_format):
    with pytest.raises(exception.InvalidParameterValue, match='ephemeral_format'):
        disk_layout.check_fs_format(fs_format)
    disk_layout.check_fs_format('ext4')


async def test_unknown_format_is_a_deploy_failure_naming_the_tool(tmp_path):
    with pytest.raises(exception.InstanceDeployFailure, match='mkfs.nosuchfs is not installed'):
        await disk_layout.make_filesystem(str(tmp_path / 'eph'), 8 * MiB, 'nosuchfs',
                                          'ephemeral0')
    with pytest.raises(exception.InvalidParameterValue):
        await disk_layout.make_filesystem(str(tmp_path / 'eph'), 8 * MiB, '../x', 'e')


@pytest.mark.skipif(not shutil.which('mkfs.ext3'), reason='needs e2fsprogs')
async def test_make_filesystem_of_the_requested_format(tmp_path):
    path = str(tmp_path / 'eph')
    await disk_layout.make_filesystem(path, 16 * MiB, 'ext3', 'ephemeral0')
    with open(path, 'rb') as f:
        f.seek(1080)
        assert f.read(2) == b'\x53\xef'  # ext superblock magic 0xEF53
