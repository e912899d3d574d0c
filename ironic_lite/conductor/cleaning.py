"""Cleaning: automated (after tear down and on provide) and manual (``clean`` with steps).

The drivers shipped so far have no clean steps, so cleaning finishes at once; the state
machine path (``cleaning`` → ``available`` / ``manageable``, ``clean failed`` on error) is the
real one, so drivers with steps plug in here.
"""
from __future__ import annotations

import logging

from ironic_lite.conductor import utils

LOG = logging.getLogger(__name__)


async def run_cleaning(task, manual: bool, clean_steps: list | None = None) -> None:
    """Runs in a worker with the node in ``cleaning``."""
    conf = task.res.conf.conductor
    # the node's automated_clean (API 1.47) wins over [conductor]automated_clean, as upstream
    automated = (conf.automated_clean if task.node.automated_clean is None
                 else task.node.automated_clean)
    try:
        if manual or automated:
            await task.driver.power.validate(task)
            await task.driver.management.validate(task)
            for step in clean_steps or []:
                LOG.info('Node %s: clean step %s has no implementation in driver %s; '
                         'skipped', task.node.uuid, step.get('step'), task.node.driver)
    except Exception as e:
        await utils.fail_task(task, 'fail', utils.error_message('Cleaning', e),
                              clean_step={})
        return
    # a retired node (API 1.61) is never made available again: it ends in manageable
    done = 'manage' if manual or task.node.retired else 'done'
    await task.process_event(done, extra={'clean_step': {}})
