"""Helpers shared by the conductor's operations: failing a task cleanly, validation."""
from __future__ import annotations

import logging
from typing import Any

from ironic_lite.common import exception, states
from ironic_lite.common.intent_acceptance import CLEARED

LOG = logging.getLogger(__name__)


async def fail_task(task, event: str, message: str, **extra: Any) -> None:
    """Move the node to the failure state for ``event`` with ``last_error`` = message."""
    LOG.error('Node %s: %s', task.node.uuid, message)
    values = {'last_error': message, **CLEARED, **extra}
    if states.is_valid_event(task.node.provision_state, event):
        await task.process_event(event, extra=values)
    else:
        await task.save(**values)


async def refuse_accepted(task, message: str) -> None:
    """An accepted request that cannot start goes back to the state it was accepted in,
    with ``last_error`` saying why (the API already showed its first transition)."""
    LOG.error('Node %s: %s', task.node.uuid, message)
    values: dict[str, Any] = {'last_error': message, **CLEARED}
    if task.accepted is not None:
        source = task.accepted[1]
        values.update(provision_state=source, target_provision_state=states.TARGETS.get(source))
        task.accepted = None
    else:
        values['target_provision_state'] = None
    await task.save(**values)


def error_message(what: str, err: BaseException) -> str:
    detail = str(err) or err.__class__.__name__
    return f'{what} failed: {detail}'


async def validate_interfaces(task, names: tuple[str, ...]) -> dict[str, dict]:
    """Validate the named interfaces; ``{name: {'result': bool, 'reason': str}}``."""
    results = {}
    for name in names:
        iface = getattr(task.driver, name)
        try:
            await iface.validate(task)
        except exception.IronicLiteException as e:
            results[name] = {'result': False, 'reason': str(e)}
        else:
            results[name] = {'result': True}
    return results


def raise_if_invalid(results: dict[str, dict]) -> None:
    bad = [f"{name}: {r['reason']}" for name, r in results.items() if not r['result']]
    if bad:
        raise exception.InvalidParameterValue(
            err='Validation failed for ' + '; '.join(bad))

