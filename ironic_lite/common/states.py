"""Provision and power states, and upstream Ironic's provision state machine as a table.

The machine is data: ``TRANSITIONS`` maps ``(state, event) -> new state``; ``TARGETS`` gives the
stable state a transient state is heading for (the node's ``target_provision_state``).
:func:`next_state` is the only evaluator. API verbs map to events through ``VERBS``.
"""
from __future__ import annotations

from ironic_lite.common import exception

# Provision states (the exact strings clients match on).
ENROLL = 'enroll'
VERIFYING = 'verifying'
MANAGEABLE = 'manageable'
AVAILABLE = 'available'
ACTIVE = 'active'
DEPLOYING = 'deploying'
DEPLOYWAIT = 'wait call-back'
DEPLOYFAIL = 'deploy failed'
DEPLOYHOLD = 'deploy hold'
DELETING = 'deleting'
DELETED = 'deleted'
CLEANING = 'cleaning'
CLEANWAIT = 'clean wait'
CLEANFAIL = 'clean failed'
CLEANHOLD = 'clean hold'
ERROR = 'error'
REBUILD = 'rebuild'
INSPECTING = 'inspecting'
INSPECTWAIT = 'inspect wait'
INSPECTFAIL = 'inspect failed'
ADOPTING = 'adopting'
ADOPTFAIL = 'adopt failed'
RESCUE = 'rescue'
RESCUING = 'rescuing'
RESCUEWAIT = 'rescue wait'
RESCUEFAIL = 'rescue failed'
UNRESCUING = 'unrescuing'
UNRESCUEFAIL = 'unrescue failed'
SERVICING = 'servicing'
SERVICEWAIT = 'service wait'
SERVICEFAIL = 'service failed'
SERVICEHOLD = 'service hold'

# Power states.
POWER_ON = 'power on'
POWER_OFF = 'power off'
REBOOT = 'rebooting'
SOFT_REBOOT = 'soft rebooting'
SOFT_POWER_OFF = 'soft power off'
NOSTATE = None

STABLE_STATES = frozenset({ENROLL, MANAGEABLE, AVAILABLE, ACTIVE, ERROR, RESCUE})

# Where each transient state is heading (becomes target_provision_state).
TARGETS: dict[str, str] = {
    VERIFYING: MANAGEABLE,
    DEPLOYING: ACTIVE, DEPLOYWAIT: ACTIVE, DEPLOYFAIL: ACTIVE, DEPLOYHOLD: ACTIVE,
    CLEANING: AVAILABLE, CLEANWAIT: AVAILABLE, CLEANFAIL: AVAILABLE, CLEANHOLD: AVAILABLE,
    DELETING: AVAILABLE,
    INSPECTING: MANAGEABLE, INSPECTWAIT: MANAGEABLE, INSPECTFAIL: MANAGEABLE,
    ADOPTING: ACTIVE, ADOPTFAIL: ACTIVE,
    RESCUING: RESCUE, RESCUEWAIT: RESCUE, RESCUEFAIL: RESCUE,
    UNRESCUING: ACTIVE, UNRESCUEFAIL: ACTIVE,
    SERVICING: ACTIVE, SERVICEWAIT: ACTIVE, SERVICEFAIL: ACTIVE, SERVICEHOLD: ACTIVE,
}

# (source, event, destination) — upstream Ironic's table.
_TABLE: tuple[tuple[str, str, str], ...] = (
    # enrolment and verification
    (ENROLL, 'manage', VERIFYING),
    (VERIFYING, 'done', MANAGEABLE),
    (VERIFYING, 'fail', ENROLL),
    # manageable <-> available (through cleaning)
    (MANAGEABLE, 'provide', CLEANING),
    (MANAGEABLE, 'clean', CLEANING),
    (AVAILABLE, 'manage', MANAGEABLE),
    (CLEANING, 'done', AVAILABLE),
    (CLEANING, 'manage', MANAGEABLE),
    (CLEANING, 'fail', CLEANFAIL),
    (CLEANING, 'wait', CLEANWAIT),
    (CLEANWAIT, 'resume', CLEANING),
    (CLEANWAIT, 'fail', CLEANFAIL),
    (CLEANWAIT, 'abort', CLEANFAIL),
    (CLEANWAIT, 'hold', CLEANHOLD),
    (CLEANHOLD, 'unhold', CLEANWAIT),
    (CLEANHOLD, 'abort', CLEANFAIL),
    (CLEANFAIL, 'manage', MANAGEABLE),
    # deployment
    (AVAILABLE, 'deploy', DEPLOYING),
    (DEPLOYING, 'wait', DEPLOYWAIT),
    (DEPLOYING, 'done', ACTIVE),
    (DEPLOYING, 'fail', DEPLOYFAIL),
    (DEPLOYWAIT, 'resume', DEPLOYING),
    (DEPLOYWAIT, 'fail', DEPLOYFAIL),
    (DEPLOYWAIT, 'abort', DEPLOYFAIL),
    (DEPLOYWAIT, 'hold', DEPLOYHOLD),
    (DEPLOYWAIT, 'delete', DELETING),
    (DEPLOYHOLD, 'unhold', DEPLOYWAIT),
    (DEPLOYHOLD, 'abort', DEPLOYFAIL),
    (DEPLOYFAIL, 'rebuild', DEPLOYING),
    (DEPLOYFAIL, 'deploy', DEPLOYING),
    (DEPLOYFAIL, 'delete', DELETING),
    (ACTIVE, 'rebuild', DEPLOYING),
    (ACTIVE, 'delete', DELETING),
    (ERROR, 'rebuild', DEPLOYING),
    (ERROR, 'delete', DELETING),
    # tear down
    (DELETING, 'clean', CLEANING),
    (DELETING, 'error', ERROR),
    # inspection
    (MANAGEABLE, 'inspect', INSPECTING),
    (INSPECTING, 'done', MANAGEABLE),
    (INSPECTING, 'fail', INSPECTFAIL),
    (INSPECTING, 'wait', INSPECTWAIT),
    (INSPECTWAIT, 'done', MANAGEABLE),
    (INSPECTWAIT, 'fail', INSPECTFAIL),
    (INSPECTWAIT, 'abort', INSPECTFAIL),
    (INSPECTWAIT, 'resume', INSPECTING),
    (INSPECTFAIL, 'manage', MANAGEABLE),
    (INSPECTFAIL, 'inspect', INSPECTING),
    # adoption
    (MANAGEABLE, 'adopt', ADOPTING),
    (ADOPTING, 'done', ACTIVE),
    (ADOPTING, 'fail', ADOPTFAIL),
    (ADOPTFAIL, 'adopt', ADOPTING),
    (ADOPTFAIL, 'manage', MANAGEABLE),
    # rescue
    (ACTIVE, 'rescue', RESCUING),
    (RESCUING, 'done', RESCUE),
    (RESCUING, 'wait', RESCUEWAIT),
    (RESCUING, 'fail', RESCUEFAIL),
    (RESCUEWAIT, 'resume', RESCUING),
    (RESCUEWAIT, 'fail', RESCUEFAIL),
    (RESCUEWAIT, 'abort', RESCUEFAIL),
    (RESCUEWAIT, 'delete', DELETING),
    (RESCUEFAIL, 'rescue', RESCUING),
    (RESCUEFAIL, 'unrescue', UNRESCUING),
    (RESCUEFAIL, 'delete', DELETING),
    (RESCUE, 'rescue', RESCUING),
    (RESCUE, 'unrescue', UNRESCUING),
    (RESCUE, 'delete', DELETING),
    (UNRESCUING, 'done', ACTIVE),
    (UNRESCUING, 'fail', UNRESCUEFAIL),
    (UNRESCUEFAIL, 'rescue', RESCUING),
    (UNRESCUEFAIL, 'unrescue', UNRESCUING),
    (UNRESCUEFAIL, 'delete', DELETING),
    # servicing
    (ACTIVE, 'service', SERVICING),
    (SERVICING, 'done', ACTIVE),
    (SERVICING, 'fail', SERVICEFAIL),
    (SERVICING, 'wait', SERVICEWAIT),
    (SERVICEWAIT, 'resume', SERVICING),
    (SERVICEWAIT, 'fail', SERVICEFAIL),
    (SERVICEWAIT, 'abort', SERVICEFAIL),
    (SERVICEWAIT, 'hold', SERVICEHOLD),
    (SERVICEHOLD, 'unhold', SERVICEWAIT),
    (SERVICEHOLD, 'abort', SERVICEFAIL),
    (SERVICEFAIL, 'service', SERVICING),
    (SERVICEFAIL, 'abort', ACTIVE),
)

TRANSITIONS: dict[tuple[str, str], str] = {(src, ev): dst for src, ev, dst in _TABLE}
ALL_STATES = frozenset({s for s, _, _ in _TABLE} | {d for _, _, d in _TABLE})

# API verb (PUT .../states/provision "target") -> state machine event.
VERBS: dict[str, str] = {
    'active': 'deploy',
    'deploy': 'deploy',
    'rebuild': 'rebuild',
    'deleted': 'delete',
    'undeploy': 'delete',
    'manage': 'manage',
    'provide': 'provide',
    'inspect': 'inspect',
    'abort': 'abort',
    'clean': 'clean',
    'adopt': 'adopt',
    'rescue': 'rescue',
    'unrescue': 'unrescue',
    'unhold': 'unhold',
    'service': 'service',
}

# States from which a ramdisk may look itself up (GET /v1/lookup).
LOOKUP_ALLOWED_STATES = frozenset({
    DEPLOYING, DEPLOYWAIT, CLEANING, CLEANWAIT, INSPECTING, INSPECTWAIT,
    RESCUING, RESCUEWAIT, SERVICING, SERVICEWAIT})

# Transient states that only run while a conductor holds the node's lock; after a conductor
# dies they are failed with this event at start-up / takeover.
WORKING_STATES_FAIL_EVENT: dict[str, str] = {
    DEPLOYING: 'fail',
    CLEANING: 'fail',
    VERIFYING: 'fail',
    INSPECTING: 'fail',
    ADOPTING: 'fail',
    RESCUING: 'fail',
    UNRESCUING: 'fail',
    SERVICING: 'fail',
}
# Deleting has no 'fail' event upstream: a failed tear-down is 'error'.
WORKING_STATES_FAIL_EVENT[DELETING] = 'error'


def is_valid_event(state: str, event: str) -> bool:
    return (state, event) in TRANSITIONS


def next_state(state: str, event: str) -> tuple[str, str | None]:
    """Return ``(provision_state, target_provision_state)`` after ``event`` from ``state``.

    Raises :class:`InvalidStateRequested` when the table has no such transition.
    """
    try:
        new = TRANSITIONS[(state, event)]
    except KeyError:
        raise exception.InvalidStateRequested(
            action=event, node='', state=state) from None
    return new, TARGETS.get(new)
