"""The "done" notice to the bash ramdisk (``iscsi_deploy.notify_ramdisk``) on real sockets."""
from __future__ import annotations

import asyncio
import time

import pytest

from ironic_lite.common import exception
from ironic_lite.drivers.modules.iscsi_deploy import notify_ramdisk
from ironic_lite.testing.services import free_port


async def test_done_reaches_a_ramdisk_that_starts_listening_late():
    """The ramdisk listens only after its POST returned; the conductor can be faster."""
    port, received = free_port(), []

    async def handle(reader, writer):
        received.append(await reader.read(16))
        writer.close()

    async def listen_late():
        await asyncio.sleep(0.7)
        return await asyncio.start_server(handle, '127.0.0.1', port)

    server_task = asyncio.create_task(listen_late())
    await notify_ramdisk('127.0.0.1', port, timeout=10)
    server = await server_task
    for _ in range(50):
        if received:
            break
        await asyncio.sleep(0.05)
    server.close()
    await server.wait_closed()
    assert received == [b'done']


async def test_no_ramdisk_listening_fails_the_deploy_after_the_timeout():
    started = time.monotonic()
    with pytest.raises(exception.InstanceDeployFailure, match='could not notify'):
        await notify_ramdisk('127.0.0.1', free_port(), timeout=1)
    assert 0.9 < time.monotonic() - started < 5
