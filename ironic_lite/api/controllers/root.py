"""``GET /`` and ``GET /v1``: version discovery documents (keystoneauth and clients read these)."""
from __future__ import annotations

from aiohttp import web

from ironic_lite.api import microversion as mv
from ironic_lite.api import utils
from ironic_lite.api.route import Route


def _version(request: web.Request) -> dict:
    return {
        'id': 'v1',
        'links': [{'href': f'{utils.base_url(request)}/v1/', 'rel': 'self'}],
        'status': 'CURRENT',
        'min_version': mv.fmt(mv.MIN_VERSION),
        'version': mv.fmt(mv.MAX_VERSION),
    }


async def get_root(request: web.Request) -> web.Response:
    version = _version(request)
    return web.json_response({
        'name': 'OpenStack Ironic API',
        'description': 'Ironic is an OpenStack project which enables the provision and '
                       'management of baremetal machines. (served by ironic_lite)',
        'default_version': version,
        'versions': [version],
    })


def _collection_links(request: web.Request, name: str) -> list[dict]:
    base = utils.base_url(request)
    return [{'href': f'{base}/v1/{name}/', 'rel': 'self'},
            {'href': f'{base}/{name}/', 'rel': 'bookmark'}]


async def get_v1(request: web.Request) -> web.Response:
    base = utils.base_url(request)
    doc = {
        'id': 'v1',
        'links': [{'href': f'{base}/v1/', 'rel': 'self'},
                  {'href': 'https://docs.openstack.org/ironic/latest/contributor/webapi.html',
                   'rel': 'describedby', 'type': 'text/html'}],
        'media_types': [{'base': 'application/json',
                         'type': 'application/vnd.openstack.ironic.v1+json'}],
        'version': _version(request),
        'chassis': _collection_links(request, 'chassis'),
        'nodes': _collection_links(request, 'nodes'),
        'ports': _collection_links(request, 'ports'),
        'drivers': _collection_links(request, 'drivers'),
    }
    ver = utils.version(request)
    for name, since in _VERSIONED_COLLECTIONS:
        if ver >= since:
            doc[name] = _collection_links(request, name)
    return web.json_response(doc)


# Collections listed in the /v1 document only from the version that introduced them.
_VERSIONED_COLLECTIONS = (
    ('portgroups', mv.PORTGROUPS), ('lookup', mv.RAMDISK_ENDPOINTS),
    ('heartbeat', mv.RAMDISK_ENDPOINTS), ('volume', mv.VOLUME), ('conductors', mv.CONDUCTORS),
    ('allocations', mv.ALLOCATIONS), ('events', mv.EVENTS),
    ('deploy_templates', mv.DEPLOY_TEMPLATES),
)


# Public (api/auth): the rule is only named in the OpenAPI document.
ROUTES = [
    Route('GET', '/', get_root, 'baremetal:driver:get'),
    Route('GET', '/v1', get_v1, 'baremetal:driver:get'),
]
