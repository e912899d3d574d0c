"""Changes of a machine's state are logged at INFO, like provision-state changes.

``PowerInterface`` and ``ManagementInterface`` (``base.py``) wrap the actions every driver
implements — ``set_power_state``, ``reboot``, ``set_boot_device`` — so each success is logged
once, whoever asked: an API request, a deploy or clean step, the power sync.
"""
from __future__ import annotations

import contextvars
import functools
import logging
from collections.abc import Callable

LOG = logging.getLogger(__name__)


# Set while a logged action runs, so that an action implemented with another (a reboot done by
# set_power_state) is logged once.
_IN_LOGGED_ACTION: contextvars.ContextVar[bool] = contextvars.ContextVar(
    'ironic_lite_in_logged_action', default=False)


def _log_on_success(method: Callable, describe: Callable[..., str]) -> Callable:
    @functools.wraps(method)
    async def logged(self, task, *args, **kwargs):
        if _IN_LOGGED_ACTION.get():
            return await method(self, task, *args, **kwargs)
        token = _IN_LOGGED_ACTION.set(True)
        try:
            result = await method(self, task, *args, **kwargs)
        finally:
            _IN_LOGGED_ACTION.reset(token)
        LOG.info('Node %s %s (%s interface %s)', task.node.uuid,
                 describe(*args, **kwargs), self.interface_type, type(self).__name__)
        return result
    logged._logs_success = True  # type: ignore[attr-defined]
    return logged


def wrap_logged_actions(cls: type, actions: dict[str, Callable[..., str]]) -> None:
    """Wrap the actions a subclass implements (every driver's, whoever calls them: the API's
    requests, deploy and clean steps, the power sync)."""
    for name, describe in actions.items():
        method = cls.__dict__.get(name)
        if method is not None and not getattr(method, '_logs_success', False):
            setattr(cls, name, _log_on_success(method, describe))
