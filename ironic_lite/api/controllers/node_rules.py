"""What a node PATCH may change: read-only paths, and the changes the node's state refuses.

As upstream: another instance on an associated node, the driver while the console runs, the
network interface outside quiet states, ``protected`` outside active/rescue, ``retired`` in
available, a reason without its flag.
"""
from __future__ import annotations

from typing import Any

from aiohttp import web

from ironic_lite.api import microversion as mv
from ironic_lite.api import utils, views
from ironic_lite.common import exception, states
from ironic_lite.db import models

# Fields that a JSON patch may never touch (upstream answers 400 "internal attribute").
_READ_ONLY_MSG = "'/%s' is an internal attribute and can not be updated"
# A node's network interface changes only in these states (or in maintenance), as upstream.
_NETWORK_IFACE_STATES = {states.ENROLL, states.INSPECTING, states.INSPECTWAIT,
                         states.MANAGEABLE}
_PROTECTABLE_STATES = {states.ACTIVE, states.RESCUE}


def check_patch_paths(request: web.Request, patch: list, writable: set[str]) -> None:
    """Each operation's top-level field must be writable at the negotiated version."""
    for top, op in zip(utils.patch_fields(patch), patch, strict=True):
        if top == 'traits':
            raise exception.PatchError(patch=op, reason='Cannot update node traits via node '
                                                        'patch; use /v1/nodes/{node}/traits.')
        if top not in writable or top == 'uuid':
            raise exception.PatchError(
                patch=op, reason=_READ_ONLY_MSG % top if top in views.NODE_FIELDS
                or top in ('id', 'chassis_id', 'reservation', 'intent')
                else f"unknown attribute '/{top}'")
        if not mv.allowed(utils.version(request), top, mv.NODE_FIELD_VERSIONS):
            raise exception.NotAcceptable(f'Field {top} is not available in API version '
                                          f'{mv.fmt(utils.version(request))}.')
        if top == 'chassis_uuid' and op['op'] == 'remove' and \
                utils.version(request) < mv.UNSET_CHASSIS:
            raise exception.NotAcceptable('Removing chassis_uuid requires API version 1.25.')


def check_state_rules(node: models.Node, changed: dict[str, Any], patched: dict) -> None:
    """Upstream's update rules: which changes the node's state allows."""
    if 'instance_uuid' in changed and node.instance_uuid and patched['instance_uuid']:
        raise exception.NodeAssociated(node=node.uuid, instance=node.instance_uuid)
    if 'driver' in changed and node.console_enabled:
        raise exception.Conflict(f'Node {node.uuid} can not update the driver while the '
                                 'console is enabled. Please stop the console first.')
    if 'network_interface' in changed and not node.maintenance and \
            node.provision_state not in _NETWORK_IFACE_STATES:
        raise exception.InvalidState(
            f'Cannot update network_interface of node {node.uuid} in provision state '
            f'"{node.provision_state}": allowed in {sorted(_NETWORK_IFACE_STATES)} or in '
            'maintenance mode.')
    for flag, reason, check in (('protected', 'protected_reason', _check_protect),
                                ('retired', 'retired_reason', _check_retire)):
        if flag in changed:
            if patched[flag]:
                check(node)
            else:
                changed[reason] = None
        elif changed.get(reason) and not patched[flag]:
            raise exception.InvalidParameterValue(
                err=f'Cannot provide {reason} without setting {flag} to True')


def _check_protect(node: models.Node) -> None:
    if node.provision_state not in _PROTECTABLE_STATES:
        raise exception.InvalidState(
            f'Node {node.uuid} can only be made protected in provision states "active" or '
            f'"rescue", not "{node.provision_state}".')


def _check_retire(node: models.Node) -> None:
    if node.provision_state == states.AVAILABLE:
        raise exception.InvalidState(
            f'Node {node.uuid} can not have "retired" set in provision state "available"; '
            'move it to "manageable" first.')
