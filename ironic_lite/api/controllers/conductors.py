"""``/v1/conductors`` (1.49): the conductor services, from the conductors table.

``alive`` is true while the conductor is registered online and its last heartbeat is younger
than ``[conductor]heartbeat_timeout``. Hidden (404) below 1.49, as upstream.
"""
from __future__ import annotations

import datetime

from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import collection as col
from ironic_lite.api.route import Route
from ironic_lite.db import models

SPEC = col.Spec(path='conductors', key='conductors',
                fields=('hostname', 'conductor_group', 'alive', 'drivers', 'created_at',
                        'updated_at', 'links'),
                list_fields=('hostname', 'conductor_group', 'alive', 'links'),
                ident='hostname')


def _alive(request: web.Request, cond: models.Conductor) -> bool:
    timeout = request.app[keys.CONF].conductor.heartbeat_timeout
    limit = models.utcnow() - datetime.timedelta(seconds=timeout)
    return bool(cond.online and cond.updated_at and cond.updated_at > limit)


def _view(request: web.Request, cond: models.Conductor, fields=None) -> dict:
    return col.render(request, SPEC, cond, fields, alive=_alive(request, cond),
                      drivers=sorted(cond.drivers))


def _marker(request: web.Request) -> str | None:
    return request.query.get('marker')


async def list_conductors(request: web.Request) -> web.Response:
    fields = col.list_fields(request, SPEC, False)
    sort_key, sort_dir = utils.get_sort(request)
    limit = utils.get_limit(request)
    items = await request.app[keys.DB].list_conductors(
        limit=limit, marker=_marker(request), sort_key=sort_key, sort_dir=sort_dir)
    return col.collection(request, SPEC, items, [_view(request, c, fields) for c in items],
                          limit)


async def get_conductor(request: web.Request) -> web.Response:
    fields = col.show_fields(request, SPEC)
    cond = await request.app[keys.DB].get_conductor(request.match_info['hostname'])
    return web.json_response(_view(request, cond, fields))


ROUTES = [
    Route('GET', '/v1/conductors', list_conductors, 'baremetal:conductor:get',
          since=mv.CONDUCTORS),
    Route('GET', '/v1/conductors/{hostname}', get_conductor, 'baremetal:conductor:get',
          since=mv.CONDUCTORS),
]
