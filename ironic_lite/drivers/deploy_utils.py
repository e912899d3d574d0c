"""Steps shared by deploy interfaces, expressed through the task's state machine."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ironic_lite.common import states
from ironic_lite.common.intents import CLEARED

LOG = logging.getLogger(__name__)


async def resume_and_finish_deploy(task) -> None:
    """A ramdisk called back and the image is in place: boot the instance, go active.

    Runs under the node's exclusive lock; ``wait call-back`` → ``deploying`` → ``active``.
    """
    if task.node.provision_state == states.DEPLOYWAIT:
        await task.process_event('resume')
    await task.driver.boot.prepare_instance(task)
    await task.process_event('done')


async def fail_deploy(task, message: str,
                      clean_up: Callable[[Any], Awaitable[None]]) -> None:
    """Put the node in ``deploy failed`` with ``message`` as its last_error, then remove the
    deploy's files with ``clean_up(task)`` (whose own failure is only logged).

    A node no longer in a state that can fail (e.g. already torn down) just gets the error.
    """
    LOG.error('Node %s: %s', task.node.uuid, message)
    values = {'last_error': message, 'target_power_state': None, **CLEARED}
    if states.is_valid_event(task.node.provision_state, 'fail'):
        await task.process_event('fail', extra=values)
    else:
        await task.save(**values)
    try:
        await clean_up(task)
    except Exception:
        LOG.exception('Clean up after the failed deploy of node %s failed', task.node.uuid)
