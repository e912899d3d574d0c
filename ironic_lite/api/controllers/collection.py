"""Shared plumbing of the simple API resources (chassis, portgroups, volume connectors and
targets, conductors, allocations, deploy templates): which fields a client sees at its
microversion, list parameters (``detail``, ``fields``, ``limit``/``marker``/``next``,
sorting), rendering and JSON-patch application.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.common import exception
from ironic_lite.db import models

DETAIL_PARAM = (1, 43)


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a resource looks like on the wire."""

    path: str                      # URL segment under /v1: 'chassis', 'volume/connectors'
    key: str                       # the list's key in a collection body
    fields: tuple[str, ...]        # every field, in display order
    list_fields: tuple[str, ...]   # the fields of a non-detail list
    versions: dict[str, mv.Version] = dataclasses.field(default_factory=dict)
    ident: str = 'uuid'            # the attribute links are built from

    def visible(self, version: mv.Version) -> set[str]:
        return {f for f in self.fields if version >= self.versions.get(f, mv.MIN_VERSION)}


def timestamp(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=datetime.UTC).isoformat()


def check_body_versions(request: web.Request, spec: Spec, names) -> None:
    """A request field newer than the negotiated version is 406, as upstream."""
    ver = utils.version(request)
    for name in names:
        if ver < spec.versions.get(name, mv.MIN_VERSION):
            raise exception.NotAcceptable(
                f'Field {name} is not available in API version {mv.fmt(ver)}.')


def show_fields(request: web.Request, spec: Spec) -> list[str] | None:
    return utils.get_fields(request, spec.visible(utils.version(request)), spec.fields)


def list_fields(request: web.Request, spec: Spec, detail: bool | None,
                detail_param: bool = True) -> list[str] | None:
    """The fields a list shows: ``fields=``, or all for detail, or the short list.

    ``detail`` is True for ``…/detail`` paths, False for plain lists and None for resources
    whose plain list is already complete (allocations). ``?detail=`` needs 1.43.
    """
    ver = utils.version(request)
    if 'detail' in request.query and detail_param:
        if ver < DETAIL_PARAM:
            raise exception.NotAcceptable('The detail parameter requires API version 1.43.')
        detail = bool(detail) or bool(utils.get_bool(request, 'detail'))
    fields = utils.get_fields(request, spec.visible(ver), spec.fields)
    if fields is not None and detail:
        raise exception.InvalidParameterValue(
            err='Can not specify ?detail=True and fields in the same request.')
    if fields is None and detail is False:
        fields = list(spec.list_fields)
    return fields


def render(request: web.Request, spec: Spec, obj: Any, fields: list[str] | None = None,
           **computed: Any) -> dict[str, Any]:
    """``obj`` as the client sees it: ``computed`` supplies fields that are not columns
    (``node_uuid``…); sub-resource link fields are named in ``computed`` as ``'links:…'``."""
    wanted = spec.visible(utils.version(request))
    if fields is not None:
        wanted &= set(fields)
    out: dict[str, Any] = {}
    ident = getattr(obj, spec.ident)
    for f in spec.fields:
        if f not in wanted:
            continue
        if f == 'links':
            out[f] = utils.links(request, spec.path, ident)
        elif f in computed:
            value = computed[f]
            out[f] = (utils.links(request, f'{spec.path}/{ident}', f)
                      if value == 'links' else value)
        else:
            value = getattr(obj, f)
            out[f] = timestamp(value) if isinstance(value, datetime.datetime) else value
    return out


def paging(request: web.Request) -> dict[str, Any]:
    """``limit``, ``marker``, ``sort_key`` and ``sort_dir`` for a DB list call."""
    sort_key, sort_dir = utils.get_sort(request)
    return {'limit': utils.get_limit(request), 'marker': utils.get_marker(request),
            'sort_key': sort_key, 'sort_dir': sort_dir}


def collection(request: web.Request, spec: Spec, items: list, bodies: list[dict],
               limit: int) -> web.Response:
    body: dict[str, Any] = {spec.key: bodies}
    nxt = utils.next_link(request, items, limit,
                          getattr(items[-1], spec.ident) if items else None)
    if nxt:
        body['next'] = nxt
    return web.json_response(body)


async def node_owned_collection(request: web.Request, spec: Spec, model: type,
                                filters: dict[str, Any],
                                view: Callable[[Any, str | None], dict],
                                project: str | None = None) -> web.Response:
    """One page (``limit``/``marker``/sorting) of the ``model`` rows matching ``filters``
    (and, with ``project``, whose node that project owns or leases), each rendered by
    ``view(row, uuid of its node)``; the node UUIDs come in one query."""
    page = paging(request)
    db = request.app[keys.DB]
    items = await db.list_resources(model, filters, node_project=project, **page)
    uuids = await db.uuids_of(models.Node, [obj.node_id for obj in items])
    return collection(request, spec, items,
                      [view(obj, uuids.get(obj.node_id)) for obj in items], page['limit'])


def created(request: web.Request, spec: Spec, obj: Any, body: dict) -> web.Response:
    return web.json_response(body, status=201, headers={
        'Location': f'{utils.base_url(request)}/v1/{spec.path}/{getattr(obj, spec.ident)}'})


def check_unknown(body: dict, allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown attribute(s) for {what}: {", ".join(unknown)}')


def patched(request: web.Request, spec: Spec, patch: list, current: dict[str, Any],
            writable: set[str], defaults: dict[str, Any]) -> dict[str, Any]:
    """Apply a JSON patch to ``current``; return the fields whose value changed.

    Read-only or unknown top-level paths are 400, fields newer than the version 406; removing
    a top-level field resets it to ``defaults`` (None when absent)."""
    for top, op in zip(utils.patch_fields(patch), patch, strict=True):
        if top not in writable:
            raise exception.PatchError(
                patch=op, reason=f"'/{top}' is an internal attribute and can not be updated"
                if top in spec.fields else f"unknown attribute '/{top}'")
        check_body_versions(request, spec, [top])
    result = utils.apply_patch(copy.deepcopy(current), patch)
    for field in current:
        if field not in result:
            result[field] = copy.deepcopy(defaults.get(field))
    return {f: result[f] for f in current if result[f] != current[f]}


def check_dict(values: dict, *names: str) -> None:
    for name in names:
        if values.get(name) is not None and not isinstance(values[name], dict):
            raise exception.InvalidParameterValue(err=f'{name} must be a JSON object.')


def check_str(values: dict, *names: str, max_len: int = 255) -> None:
    for name in names:
        value = values.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > max_len):
            raise exception.InvalidParameterValue(
                err=f'{name} must be a string of at most {max_len} characters.')


def check_bool(values: dict, *names: str) -> None:
    for name in names:
        if values.get(name) is not None and not isinstance(values[name], bool):
            raise exception.InvalidParameterValue(err=f'{name} must be a boolean.')


async def node_from_body(request: web.Request, ident: Any):
    """The node a resource is created on or moved to: unknown is 400, as upstream."""
    if not isinstance(ident, str):
        raise exception.InvalidUUID(uuid=ident)
    try:
        return await utils.get_node(request, ident)
    except exception.NodeNotFound as e:
        raise exception.InvalidParameterValue(err=str(e)) from None
