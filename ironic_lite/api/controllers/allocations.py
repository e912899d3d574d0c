"""``/v1/allocations`` (1.52) and ``/v1/nodes/{node}/allocation``: reserving a node by
resource class and traits.

Creating an allocation records it as ``allocating`` and casts ``create_allocation`` to a
conductor, which picks a matching available node under its lock (``conductor/allocations.py``)
and ends ``active`` or ``error`` with ``last_error``. Backfilling (1.58, ``node`` given) binds
an already deployed node at once. Deleting frees the node's ``instance_uuid``. PATCH of
``name``/``extra`` needs 1.57 (405 below), ``owner`` 1.60 (406 below), as upstream.
"""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import tenacity
from aiohttp import web
from oslo_utils import uuidutils

from ironic_lite.api import keys, policy, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import collection as col
from ironic_lite.api.route import NODE, Route
from ironic_lite.api.schemas import resources as resource_schemas
from ironic_lite.api.schemas.nodes import JSON_PATCH
from ironic_lite.common import exception, lock_wait, states
from ironic_lite.common import resource_errors as errors
from ironic_lite.db import models

LOG = logging.getLogger(__name__)

BACKFILL = (1, 58)
OWNER = (1, 60)
ALLOCATING, ACTIVE, ERROR = 'allocating', 'active', 'error'

SPEC = col.Spec(
    path='allocations', key='allocations',
    fields=('uuid', 'name', 'node_uuid', 'state', 'last_error', 'resource_class', 'traits',
            'candidate_nodes', 'extra', 'owner', 'created_at', 'updated_at', 'links'),
    list_fields=(), versions={'owner': OWNER})
_CREATABLE = {'uuid', 'name', 'resource_class', 'traits', 'candidate_nodes', 'extra', 'node',
              'owner'}
_PATCHABLE = {'name', 'extra'}
# Transitional states a node may lose its allocation in (upstream's UPDATE_ALLOWED_STATES).
_UPDATE_ALLOWED = {states.DEPLOYFAIL, states.INSPECTING, states.INSPECTFAIL, states.INSPECTWAIT,
                   states.CLEANFAIL, states.ERROR, states.VERIFYING, states.ADOPTFAIL,
                   states.RESCUEFAIL, states.UNRESCUEFAIL, states.SERVICEFAIL,
                   states.SERVICEHOLD}


def _view(request: web.Request, alloc: models.Allocation, node_uuid: str | None,
          fields=None) -> dict:
    return col.render(request, SPEC, alloc, fields, node_uuid=node_uuid)


def _check_name(name: Any) -> None:
    if name is not None and (not isinstance(name, str) or uuidutils.is_uuid_like(name)
                             or not name):
        raise exception.InvalidParameterValue(
            err=f"Cannot create allocation with invalid name '{name}'")
    if name is not None:
        utils.check_name(name)


def _check_traits(traits: Any) -> list[str]:
    from ironic_lite.api.controllers.deploy_templates import valid_trait
    if not isinstance(traits, list) or not all(valid_trait(t) for t in traits):
        raise exception.InvalidParameterValue(
            err=f'traits must be a list of valid trait names (standard or CUSTOM_…), '
                f'got {traits!r}.')
    return sorted(set(traits))


async def _get(request: web.Request, ident: str | None = None) -> models.Allocation:
    ident = ident or request.match_info['ident']
    return await request.app[keys.DB].get_resource(models.Allocation, ident)


async def _node_uuid(request: web.Request, node_id: int | None) -> str | None:
    if node_id is None:
        return None
    return (await request.app[keys.DB].get_node(node_id)).uuid


async def _candidate_uuids(request: web.Request, idents: Any) -> list[str]:
    if not isinstance(idents, list):
        raise exception.InvalidParameterValue(err='candidate_nodes must be a list.')
    result = []
    for ident in idents:
        node = await col.node_from_body(request, ident)
        result.append(node.uuid)
    return result


async def create_allocation(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    col.check_unknown(body, _CREATABLE, 'allocation')
    col.check_body_versions(request, SPEC, body)
    if body.get('node') is not None and utils.version(request) < BACKFILL:
        raise exception.InvalidParameterValue(
            err='Cannot set node when creating an allocation in this API version')
    _check_name(body.get('name'))
    col.check_dict(body, 'extra')
    col.check_str(body, 'owner')
    col.check_str(body, 'resource_class', max_len=80)
    values: dict[str, Any] = {k: body[k] for k in ('name', 'extra', 'owner', 'resource_class')
                              if body.get(k) is not None}
    values['traits'] = _check_traits(body.get('traits') or [])
    if body.get('candidate_nodes'):
        values['candidate_nodes'] = await _candidate_uuids(request, body['candidate_nodes'])
    node = None
    if body.get('node') is not None:
        node = await col.node_from_body(request, body['node'])
        values.setdefault('resource_class', node.resource_class)
    elif not values.get('resource_class'):
        raise exception.InvalidParameterValue(
            err='The resource_class field is mandatory when not backfilling')
    if body.get('uuid') is not None:
        values['uuid'] = utils.check_uuid(body['uuid'])
    elif node is not None and node.instance_uuid:
        values['uuid'] = node.instance_uuid
    if node is not None:
        alloc = await _backfill(request, node, values)
    else:
        alloc = await _allocate(request, values)
    return col.created(request, SPEC, alloc,
                       _view(request, alloc, node.uuid if node else None))


async def _allocate(request: web.Request, values: dict) -> models.Allocation:
    db = request.app[keys.DB]
    alloc = await db.create_resource(models.Allocation, {**values, 'state': ALLOCATING})
    try:
        await request.app[keys.RPCAPI].create_allocation(alloc.uuid)
    except Exception:
        await db.destroy_resource(models.Allocation, alloc.id)
        raise
    return alloc


async def _backfill(request: web.Request, node: models.Node,
                    values: dict) -> models.Allocation:
    """Bind an allocation to a node already in use (1.58), as the conductor would."""
    if values.get('resource_class') != node.resource_class:
        raise exception.InvalidParameterValue(
            err=f'Cannot create allocation with resource class '
                f'{values.get("resource_class")} for node {node.uuid} with resource class '
                f'{node.resource_class}')
    if values.get('candidate_nodes') and node.uuid not in values['candidate_nodes']:
        raise exception.InvalidParameterValue(
            err=f'Node {node.uuid} is not in the candidate_nodes of the allocation.')
    if node.instance_uuid and values['uuid'] != node.instance_uuid:
        raise exception.InstanceAssociated(instance_uuid=node.instance_uuid, node=node.uuid)
    if node.provision_state not in (states.ACTIVE, states.DEPLOYING, states.DEPLOYWAIT) and \
            not node.maintenance:
        raise errors.InvalidState(
            f'Cannot create an allocation for node {node.uuid} in provision state '
            f'{node.provision_state}: only deployed (active) or deploying nodes, or nodes in '
            f'maintenance, can be backfilled.')
    missing = set(values['traits']) - set(await request.app[keys.DB].get_node_traits(node.id))
    if missing:
        raise exception.InvalidParameterValue(
            err=f'Cannot create allocation with traits {sorted(missing)} for node '
                f'{node.uuid}: the node does not have them.')
    db = request.app[keys.DB]
    alloc = await db.create_resource(models.Allocation,
                                     {**values, 'state': ACTIVE, 'node_id': node.id})
    if node.instance_uuid is None:
        try:
            await db.update_node(node.id, {'instance_uuid': alloc.uuid},
                                 {'instance_uuid': None, 'reservation': None})
        except exception.IronicLiteException:
            await db.destroy_resource(models.Allocation, alloc.id)
            raise
    return alloc


async def list_allocations(request: web.Request) -> web.Response:
    fields = col.list_fields(request, SPEC, None, detail_param=False)
    filters: dict[str, Any] = {}
    if request.query.get('node'):
        filters['node_id'] = (await utils.get_node(request, request.query['node'])).id
    for name in ('resource_class', 'state', 'owner'):
        if name in request.query:
            col.check_body_versions(request, SPEC, [name])
            filters[name] = request.query[name]
    project = policy.list_project(request)  # a project caller sees the allocations it owns
    if project is not None:
        filters['owner'] = project
    return await col.node_owned_collection(
        request, SPEC, models.Allocation, filters,
        lambda alloc, node_uuid: _view(request, alloc, node_uuid, fields))


async def get_allocation(request: web.Request) -> web.Response:
    alloc = await _get(request)
    fields = col.show_fields(request, SPEC)
    return web.json_response(_view(request, alloc, await _node_uuid(request, alloc.node_id),
                                   fields))


async def patch_allocation(request: web.Request) -> web.Response:
    patch = await utils.json_body(request, list)
    alloc = await _get(request)
    current = {'name': alloc.name, 'extra': alloc.extra}
    changed = col.patched(request, SPEC, patch, current, _PATCHABLE, {'extra': {}})
    if changed.get('name') is not None:
        _check_name(changed['name'])
    col.check_dict(changed, 'extra')
    if changed:
        alloc = await request.app[keys.DB].update_resource(models.Allocation, alloc.id,
                                                           changed)
    return web.json_response(_view(request, alloc, await _node_uuid(request, alloc.node_id)))


class _Busy(Exception):
    """A conductor is processing the allocation or holds its node's lock right now."""


def _check_releasable(node: models.Node, alloc: models.Allocation) -> None:
    """Upstream's ``verify_node_for_deallocation``: any state in maintenance; otherwise not
    ``active``, nor in the middle of an operation that forbids updates."""
    if node.maintenance:
        return
    if node.target_provision_state and node.provision_state not in _UPDATE_ALLOWED:
        raise errors.InvalidState(
            f'Cannot remove allocation {alloc.uuid} for node {node.uuid}, because the node '
            f'is in state {node.provision_state} where updates are not allowed (and '
            'maintenance mode is off)')
    if node.provision_state == states.ACTIVE:
        raise errors.InvalidState(
            f'Cannot remove allocation {alloc.uuid} for node {node.uuid}, because the node '
            'is active (and maintenance mode is off)')


async def _destroy_once(db, alloc: models.Allocation) -> None:
    if alloc.node_id is None:  # allocating (or failed): the conductor binds with a
        try:                   # compare-and-set on the same row, so one of the two wins
            await db.destroy_resource(models.Allocation, alloc.id, expected={'node_id': None})
        except errors.InvalidState:
            raise _Busy() from None  # bound meanwhile: release it from its node
        return
    node = await db.get_node(alloc.node_id)
    if node.reservation:
        raise _Busy()
    _check_releasable(node, alloc)
    if node.instance_uuid == alloc.uuid:
        try:
            await db.update_node(node.id, {'instance_uuid': None},
                                 {'instance_uuid': alloc.uuid, 'reservation': None})
        except exception.NodeStateChanged:
            raise _Busy() from None
    await db.destroy_resource(models.Allocation, alloc.id)


async def _destroy(request: web.Request, alloc: models.Allocation) -> web.Response:
    """Delete an allocation, as upstream's conductor does under the node's lock: a conductor
    processing it (binding it, holding the node's lock) is waited for with the bounded
    lock-retry policy, then the allocation goes and its node is free again. 409 only for a
    node in a state that keeps its allocation, or a lock held past the retries."""
    db = request.app[keys.DB]
    waited = False

    async def destroy() -> None:
        nonlocal alloc, waited
        if waited:   # after a wait: the allocation as it is now
            try:
                alloc = await db.get_resource(models.Allocation, alloc.id)
            except errors.AllocationNotFound:
                return  # deleted meanwhile: what was asked
        waited = True
        await _destroy_once(db, alloc)

    try:
        await lock_wait.retrying(request.app[keys.CONF],
                                 tenacity.retry_if_exception_type(_Busy))(destroy)
        return web.Response(status=204)
    except _Busy:
        pass
    node = await db.get_node(alloc.node_id) if alloc.node_id is not None else None
    raise exception.NodeLocked(node=node.uuid if node else alloc.uuid,
                               host=(node.reservation if node else None) or 'a conductor')


async def delete_allocation(request: web.Request) -> web.Response:
    return await _destroy(request, await _get(request))


async def _node_allocation(request: web.Request) -> tuple[models.Node, models.Allocation]:
    node = await utils.get_node(request)
    alloc = await request.app[keys.DB].get_node_allocation(node.id)
    if alloc is None:
        raise errors.AllocationNotFound(f'Allocation for node {node.uuid} was not found')
    return node, alloc


async def get_node_allocation(request: web.Request) -> web.Response:
    try:
        node, alloc = await _node_allocation(request)
    except exception.NodeNotFound as e:
        # upstream looks the node up as a filter of the allocation list here: an unknown node
        # is a bad request (404 means the node has no allocation); DELETE answers 404
        raise exception.NodeNotFound(str(e), code=HTTPStatus.BAD_REQUEST) from None
    return web.json_response(_view(request, alloc, node.uuid, col.show_fields(request, SPEC)))


async def delete_node_allocation(request: web.Request) -> web.Response:
    _, alloc = await _node_allocation(request)
    return await _destroy(request, alloc)


# Below 1.52 upstream answers 404 to GET and 405 to the other methods.
ROUTES = [
    Route('POST', '/v1/allocations', create_allocation, 'baremetal:allocation:create',
          body=resource_schemas.ALLOCATION_CREATE, since=mv.ALLOCATIONS, older=405),
    Route('GET', '/v1/allocations', list_allocations, 'baremetal:allocation:list',
          since=mv.ALLOCATIONS),
    Route('GET', '/v1/allocations/{ident}', get_allocation, 'baremetal:allocation:get',
          since=mv.ALLOCATIONS),
    Route('PATCH', '/v1/allocations/{ident}', patch_allocation, 'baremetal:allocation:update',
          body=JSON_PATCH, since=mv.ALLOCATION_UPDATE, older=405),
    Route('DELETE', '/v1/allocations/{ident}', delete_allocation,
          'baremetal:allocation:delete', since=mv.ALLOCATIONS, older=405),
    Route('GET', NODE + '/allocation', get_node_allocation,
          'baremetal:allocation:get', since=mv.ALLOCATIONS),
    Route('DELETE', NODE + '/allocation', delete_node_allocation,
          'baremetal:allocation:delete', since=mv.ALLOCATIONS),
]
