"""Rescue and unrescue of an active node through its rescue interface (API 1.38).

``active --rescue--> rescuing --done--> rescue`` (or ``--wait--> rescue wait`` for a rescue
ramdisk that calls back); ``rescue --unrescue--> unrescuing --done--> active``. The rescue
password is kept in ``instance_info['rescue_password']`` while the node is rescued, as upstream.
A request the node's interfaces cannot carry out (e.g. ``no-rescue``) is refused before the
state changes: ``last_error`` says why and the node stays where it was.
"""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception, states
from ironic_lite.common.intent_acceptance import CLEARED
from ironic_lite.conductor import utils

LOG = logging.getLogger(__name__)


async def _refuse_if_invalid(task, what: str) -> bool:
    results = await utils.validate_interfaces(task, ('power', 'rescue', 'network'))
    try:
        utils.raise_if_invalid(results)
    except exception.InvalidParameterValue as e:
        await utils.refuse_accepted(task, f'{what} of node {task.node.uuid} refused: {e}')
        return True
    return False


async def start_rescue(task, rescue_password: str | None = None, **_: Any) -> None:
    if await _refuse_if_invalid(task, 'Rescue'):
        return
    info = dict(task.node.instance_info)
    if rescue_password:
        info['rescue_password'] = rescue_password
    await task.process_event('rescue', callback=_do_rescue,
                             extra={**CLEARED, 'instance_info': info})


async def _do_rescue(task) -> None:
    try:
        next_state = await task.driver.rescue.rescue(task)
    except Exception as e:  # noqa: BLE001 - any driver failure fails the rescue
        await task.driver.rescue.clean_up(task)
        await utils.fail_task(task, 'fail', utils.error_message(
            f'Rescue of node {task.node.uuid}', e))
        return
    if next_state == states.RESCUEWAIT:
        await task.process_event('wait')
    elif next_state == states.RESCUE:
        await task.process_event('done')
    else:
        await utils.fail_task(task, 'fail', f'Driver returned unexpected state {next_state} '
                                            f'while rescuing node {task.node.uuid}.')


async def start_unrescue(task, **_: Any) -> None:
    if await _refuse_if_invalid(task, 'Unrescue'):
        return
    await task.process_event('unrescue', callback=_do_unrescue, extra={**CLEARED})


async def _do_unrescue(task) -> None:
    try:
        next_state = await task.driver.rescue.unrescue(task)
    except Exception as e:  # noqa: BLE001 - any driver failure fails the unrescue
        await utils.fail_task(task, 'fail', utils.error_message(
            f'Unrescue of node {task.node.uuid}', e))
        return
    if next_state != states.ACTIVE:
        await utils.fail_task(task, 'fail', f'Driver returned unexpected state {next_state} '
                                            f'while unrescuing node {task.node.uuid}.')
        return
    info = dict(task.node.instance_info)
    info.pop('rescue_password', None)
    info.pop('hashed_rescue_password', None)
    await task.process_event('done', extra={'instance_info': info})
