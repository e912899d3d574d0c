"""Cleaning: automated (after tear down and on provide) and manual (``clean`` with steps).

As upstream: the steps are worked out first (``conductor/steps.py``: the user's steps for
manual cleaning, validated against the node's clean steps; the driver's steps with priority
> 0 for automated cleaning), stored in ``driver_internal_info['clean_steps']``, then run by
the step runner (``conductor/step_runner.py``), which shows the running one in
``node.clean_step``. The fake interfaces' steps all have priority 0, so automated cleaning of
fake nodes finishes at once. Steps that cannot be validated fail the cleaning (``clean
failed``, ``last_error`` "Cannot clean node …"); a step that fails while running also puts the
node in maintenance with ``fault = clean failure``, as upstream.
"""
from __future__ import annotations

import logging

from ironic_lite.common import exception
from ironic_lite.conductor import step_runner, steps, utils

LOG = logging.getLogger(__name__)


async def run_cleaning(task, manual: bool, clean_steps: list | None = None,
                       disable_ramdisk: bool = False) -> None:
    """Runs in a worker with the node in ``cleaning``. ``disable_ramdisk`` (manual cleaning,
    API 1.70): only steps declared ``requires_ramdisk=False`` may run — no cleaning here boots
    a ramdisk yet, so it only restricts the steps, as upstream validates them."""
    conf = task.env.conf.conductor
    node = task.node
    # the node's automated_clean (API 1.47) wins over [conductor]automated_clean, as upstream
    automated = (conf.automated_clean if node.automated_clean is None
                 else node.automated_clean)
    if not (manual or automated):
        await step_runner.finish(task, step_runner.KINDS['clean'])
        return
    try:
        await task.driver.power.validate(task)
        await task.driver.management.validate(task)
    except Exception as e:
        await step_runner.fail(task, utils.error_message('Cleaning', e))
        return
    try:
        await steps.set_node_cleaning_steps(task, (clean_steps or []) if manual else None,
                                            disable_ramdisk=disable_ramdisk)
    except Exception as e:
        if not isinstance(e, exception.IronicLiteException):
            LOG.exception('Unexpected error getting the clean steps of node %s', node.uuid)
        await step_runner.fail(task, f'Cannot clean node {node.uuid}: {e}')
        return
    await step_runner.run(task, 'clean')
