"""Accepted requests recorded on the node before the API casts to a conductor.

An intent is a state machine event name (``deploy``, ``rebuild``, ``delete``, ``manage``,
``provide``, ``clean``, ``abort``, …) or ``power``; its arguments (configdrive, clean steps,
target power state…) are stored with it. The API writes it with a compare-and-set that also
requires no other pending intent and no lock, so of many concurrent requests exactly one is
accepted. The conductor clears it in the same update that starts the work; a periodic task
starts intents whose cast was lost. A duplicated cast finds no intent and does nothing.
"""
from __future__ import annotations

import datetime
from typing import Any

from ironic_lite.common import states
from ironic_lite.db import models

POWER = 'power'

CLEARED: dict[str, Any] = {'intent': None, 'intent_args': {}, 'intent_at': None}


def acceptance(node: models.Node, intent: str, args: dict[str, Any],
               now: datetime.datetime | None = None) -> tuple[dict, dict]:
    """The ``(values, expected)`` pair of the compare-and-set that accepts ``intent``."""
    values: dict[str, Any] = {'intent': intent, 'intent_args': args,
                              'intent_at': now or models.utcnow()}
    if intent == POWER:
        values['target_power_state'] = args['power_state']
    else:
        new_state, target = states.next_state(node.provision_state, intent)
        values['target_provision_state'] = target or new_state
        values['last_error'] = None
    expected = {'intent': None, 'reservation': None,
                'provision_state': node.provision_state}
    return values, expected
