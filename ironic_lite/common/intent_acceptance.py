"""Accepted requests recorded on the node before the API casts to a conductor.

An intent is a state machine event name (``deploy``, ``rebuild``, ``delete``, ``manage``,
``provide``, ``clean``, ``abort``, …) or ``power``; its arguments (configdrive, clean steps,
target power state…) are stored with it. The API writes it with a compare-and-set that also
requires no other pending intent and no lock, so of many concurrent requests exactly one is
accepted. The conductor clears it in the same update that starts the work; a periodic task
starts intents whose cast was lost. A duplicated cast finds no intent and does nothing.

The accepting compare-and-set also makes the request's first state-machine transition
(``available`` → ``deploying``, ``active`` → ``deleting``, ``target_power_state`` set…), as
upstream Ironic's conductor does before its API answers 202: the very next ``GET`` shows the
operation under way. The state the node left is kept in the intent's arguments
(:data:`FROM_STATE`) so the conductor starts the work from it. A node with an intent is
*accepted, not yet started* — never an orphan, whatever its provision state.

The request context of the accepting request (:data:`CONTEXT`) is stored with the intent, so
work the periodic re-drive starts later still logs under the request id that asked for it.
"""
from __future__ import annotations

import datetime
from typing import Any, Protocol

from oslo_utils import timeutils

from ironic_lite.common import request_context, states

POWER = 'power'
# Key of ``intent_args`` holding the provision state the node was in when it was accepted.
FROM_STATE = 'from_state'
# Key of ``intent_args`` holding the accepting request's context (request_context.to_message).
# Conductors before RPC 1.3 pass it to handlers that ignore unknown arguments.
CONTEXT = 'request_context'

CLEARED: dict[str, Any] = {'intent': None, 'intent_args': {}, 'intent_at': None}

# Manual cleaning returns to manageable (the table's cleaning target is automated cleaning's).
_TARGET_OVERRIDES = {'clean': states.MANAGEABLE}


class AcceptedNode(Protocol):
    """What accepting a request reads of the node (a ``db.models.Node``; ``common`` does not
    import ``db``)."""

    provision_state: str


def power_target(power_state: str) -> str:
    """The ``target_power_state`` shown while a power request runs, as upstream shows it."""
    if power_state in (states.POWER_ON, states.REBOOT, states.SOFT_REBOOT):
        return states.POWER_ON
    return states.POWER_OFF


def accepted_context(
        intent_args: dict[str, Any] | None) -> request_context.RequestContext | None:
    """The context of the request that recorded an intent (None from an older API)."""
    return request_context.from_message((intent_args or {}).get(CONTEXT))


def acceptance(node: AcceptedNode, intent: str, args: dict[str, Any],
               now: datetime.datetime | None = None) -> tuple[dict, dict]:
    """The ``(values, expected)`` pair of the compare-and-set that accepts ``intent``, under
    the current request context."""
    now = now or timeutils.utcnow()
    ctx = request_context.to_message(request_context.current())
    if ctx:
        args = {**args, CONTEXT: ctx}
    values: dict[str, Any] = {'intent': intent, 'intent_at': now, 'last_error': None}
    if intent == POWER:
        values['intent_args'] = args
        values['target_power_state'] = power_target(args['power_state'])
    else:
        new_state, target = states.next_state(node.provision_state, intent)
        values['intent_args'] = {**args, FROM_STATE: node.provision_state}
        values['provision_state'] = new_state
        values['target_provision_state'] = _TARGET_OVERRIDES.get(intent, target)
        values['provision_updated_at'] = now
    expected = {'intent': None, 'reservation': None,
                'provision_state': node.provision_state}
    return values, expected
