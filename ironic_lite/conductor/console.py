"""The node's serial console: start/stop in a worker (the API answers 202), connection info.

As upstream: asking for the mode the console is already in does nothing; a failure to start or
stop is recorded in ``last_error`` and leaves ``console_enabled`` as it was.
"""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception
from ironic_lite.conductor.task_manager import acquire

LOG = logging.getLogger(__name__)


async def set_console_mode(env, node_id: str, enabled: bool) -> None:
    async with acquire(env, node_id, purpose='setting console mode') as task:
        await task.driver.console.validate(task)
        if task.node.console_enabled == enabled:
            LOG.info('No console action was triggered on node %s because the console is '
                     'already %s', task.node.uuid, 'enabled' if enabled else 'disabled')
            return
        task.reserve_worker()
        await task.save(last_error=None)
        task.spawn_after(_set_console_mode, enabled)


async def _set_console_mode(task, enabled: bool) -> None:
    console = task.driver.console
    try:
        if enabled:
            await console.start_console(task)
        else:
            await console.stop_console(task)
    except Exception as e:  # noqa: BLE001 - any driver failure is reported on the node
        op = 'enabling' if enabled else 'disabling'
        msg = f'Error {op} the console on node {task.node.uuid}: {e}'
        LOG.error(msg)
        await task.save(last_error=msg)
        return
    await task.save(console_enabled=enabled)


async def get_console_information(env, node_id: str) -> dict[str, Any]:
    async with acquire(env, node_id, shared=True, purpose='getting console information') \
            as task:
        await task.driver.console.validate(task)
        if not task.node.console_enabled:
            raise exception.NodeConsoleNotEnabled(node=task.node.uuid)
        return await task.driver.console.get_console(task)
