"""Cleaning: automated (after tear down and on provide) and manual (``clean`` with steps).

As upstream: the steps are worked out first (``conductor/steps.py``: the user's steps for
manual cleaning, validated against the node's clean steps; the driver's steps with priority
> 0 for automated cleaning), stored in ``driver_internal_info['clean_steps']``, then run in
order with the running one shown in ``node.clean_step`` (``clean_step_index`` its position).
The fake interfaces' steps all have priority 0, so automated cleaning of fake nodes finishes
at once. Steps that cannot be validated fail the cleaning (``clean failed``, ``last_error``
"Cannot clean node …"); a step that fails while running also puts the node in maintenance
with ``fault = clean failure``, as upstream.
"""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception, faults
from ironic_lite.conductor import steps, utils
from ironic_lite.drivers import base, deploy_utils

LOG = logging.getLogger(__name__)


def _cleared(node: Any) -> dict[str, Any]:
    return deploy_utils.cleared_step_values(node, ('clean',))


async def _fail(task, message: str, step_failed: bool = False) -> None:
    extra = _cleared(task.node)
    if step_failed:
        extra.update(maintenance=True, fault=faults.CLEAN_FAILURE,
                     maintenance_reason=task.node.maintenance_reason or message)
    await utils.fail_task(task, 'fail', message, **extra)


async def run_cleaning(task, manual: bool, clean_steps: list | None = None) -> None:
    """Runs in a worker with the node in ``cleaning``."""
    conf = task.res.conf.conductor
    node = task.node
    # the node's automated_clean (API 1.47) wins over [conductor]automated_clean, as upstream
    automated = (conf.automated_clean if node.automated_clean is None
                 else node.automated_clean)
    if manual or automated:
        try:
            await task.driver.power.validate(task)
            await task.driver.management.validate(task)
        except Exception as e:
            await _fail(task, utils.error_message('Cleaning', e))
            return
        try:
            to_run = await steps.set_node_cleaning_steps(
                task, (clean_steps or []) if manual else None)
        except Exception as e:
            if not isinstance(e, exception.IronicLiteException):
                LOG.exception('Unexpected error getting the clean steps of node %s', node.uuid)
            await _fail(task, f'Cannot clean node {node.uuid}: {e}')
            return
        if not await _run_steps(task, to_run):
            return
    # a retired node (API 1.61) is never made available again: it ends in manageable
    done = 'manage' if manual or task.node.retired else 'done'
    await task.process_event(done, extra=_cleared(task.node))


async def _run_steps(task, to_run: list[dict[str, Any]]) -> bool:
    """Run the clean steps in order; False when one failed (the node is then failed)."""
    for index, step in enumerate(to_run):
        info = dict(task.node.driver_internal_info)
        info['clean_step_index'] = index
        await task.save(clean_step=step, driver_internal_info=info)
        LOG.info('Node %s: executing clean step %s', task.node.uuid, steps.step_id(step))
        try:
            result = await base.execute_step(task, step, 'clean')
        except Exception as e:
            if not isinstance(e, exception.IronicLiteException):
                LOG.exception('Unexpected error in clean step %s of node %s',
                              steps.step_id(step), task.node.uuid)
            await _fail(task, f'Node {task.node.uuid} failed step {step}: '
                              f'{e or e.__class__.__name__}', step_failed=True)
            return False
        if result is not None:
            # no clean step here goes asynchronous: anything but None is a driver bug
            await _fail(task, f'While executing step {step} on node {task.node.uuid}, step '
                              f'returned invalid value: {result!r}', step_failed=True)
            return False
    return True
