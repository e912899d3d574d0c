"""``/v1/drivers``: hardware types offered by live conductors (from the conductors table)."""
from __future__ import annotations

import time

from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.route import Route
from ironic_lite.api.schemas import query
from ironic_lite.common import exception, raid
from ironic_lite.conf.default import INTERFACE_TYPES

_CACHE_SECONDS = 2.0


async def hardware_types(request: web.Request, fresh: bool = False) -> dict[str, dict]:
    """``{name: {'hosts': [...], 'interfaces': {type: {'enabled': [...], 'default': n}}}}``."""
    app = request.app
    cache = app[keys.DRIVERS_CACHE]
    if not fresh and cache.fetched_at is not None and \
            time.monotonic() - cache.fetched_at < _CACHE_SECONDS:
        return cache.types
    conf = app[keys.CONF]
    result: dict[str, dict] = {}
    for cond in await app[keys.DB].get_online_conductors(conf.conductor.heartbeat_timeout):
        for name in cond.drivers:
            entry = result.setdefault(name, {'hosts': [], 'interfaces': {}})
            entry['hosts'].append(cond.hostname)
            entry['interfaces'] = cond.hardware_interfaces.get(name, entry['interfaces'])
    cache.fetched_at, cache.types = time.monotonic(), result
    return result


async def get_hardware_type(request: web.Request, name: str) -> dict:
    types = await hardware_types(request)
    if name not in types:
        types = await hardware_types(request, fresh=True)
    if name not in types:
        raise exception.DriverNotFound(driver_name=name)
    return types[name]


def _driver(request: web.Request, name: str, entry: dict, detail: bool) -> dict:
    base = utils.base_url(request)
    out = {
        'name': name,
        'hosts': sorted(entry['hosts']),
        'links': [{'href': f'{base}/v1/drivers/{name}', 'rel': 'self'},
                  {'href': f'{base}/drivers/{name}', 'rel': 'bookmark'}],
        'properties': [{'href': f'{base}/v1/drivers/{name}/properties', 'rel': 'self'},
                       {'href': f'{base}/drivers/{name}/properties', 'rel': 'bookmark'}],
    }
    if utils.version(request) >= mv.DYNAMIC_DRIVERS:
        out['type'] = 'dynamic'
        if detail:
            for itype in ('bios', 'boot', 'console', 'deploy', 'firmware', 'inspect',
                          'management', 'network', 'power', 'raid', 'rescue', 'storage',
                          'vendor'):
                if itype not in INTERFACE_TYPES:
                    default, enabled = _UNMODELLED_DEFAULTS[itype], [_UNMODELLED_DEFAULTS[itype]]
                else:
                    info = interface_info(entry, itype)
                    default, enabled = info['default'], info['enabled']
                if itype in ('bios', 'rescue', 'storage', 'firmware') and not mv.allowed(
                        utils.version(request), f'{itype}_interface',
                        mv.NODE_FIELD_VERSIONS):
                    continue
                out[f'default_{itype}_interface'] = default
                out[f'enabled_{itype}_interfaces'] = enabled
    return out


# Interface types ironic_lite does not model: the value upstream uses for "none".
_UNMODELLED_DEFAULTS = {'firmware': 'no-firmware'}


def interface_info(entry: dict, itype: str) -> dict:
    """``{'enabled': [...], 'default': name}`` of one interface type of a hardware type. A
    conductor of an older release (a rolling upgrade) publishes no ``raid``/``inspect``: it
    has none of them, which upstream names ``no-raid``/``no-inspect``."""
    info = entry['interfaces'].get(itype)
    return info if info is not None else {'enabled': [f'no-{itype}'], 'default': f'no-{itype}'}


async def list_drivers(request: web.Request) -> web.Response:
    driver_type = request.query.get('type')
    if driver_type not in (None, 'classic', 'dynamic'):
        raise exception.InvalidParameterValue(
            err=f'Invalid driver type {driver_type!r}; expected "classic" or "dynamic".')
    detail = bool(utils.get_bool(request, 'detail'))
    types = {} if driver_type == 'classic' else await hardware_types(request)
    return web.json_response({'drivers': [
        _driver(request, name, entry, detail) for name, entry in sorted(types.items())]})


async def get_driver(request: web.Request) -> web.Response:
    name = request.match_info['driver_name']
    entry = await get_hardware_type(request, name)
    return web.json_response(_driver(request, name, entry, detail=True))


async def get_driver_properties(request: web.Request) -> web.Response:
    name = request.match_info['driver_name']
    entry = await get_hardware_type(request, name)
    host = sorted(entry['hosts'])[0]
    props = await request.app[keys.RPCAPI].get_driver_properties(host, name)
    return web.json_response(props)


async def get_raid_logical_disk_properties(request: web.Request) -> web.Response:
    """The properties a logical disk of a target RAID configuration may have (1.12), for
    the hardware type's default RAID interface: 404 when that is ``no-raid``, as upstream.
    Every RAID interface here takes the same properties (``common/raid.py``), so the
    conductors' published interfaces answer it without a round trip."""
    name = request.match_info['driver_name']
    if utils.version(request) < mv.NODE_FIELD_VERSIONS['raid_config']:
        raise exception.NotAcceptable('RAID configuration requires API version 1.12.')
    entry = await get_hardware_type(request, name)
    if interface_info(entry, 'raid')['default'] == 'no-raid':
        raise exception.UnsupportedDriverExtension(driver=name, extension='raid', code=404)
    return web.json_response(dict(raid.LOGICAL_DISK_PROPERTIES))


async def driver_vendor_methods(request: web.Request) -> web.Response:
    """Driver-level vendor passthru methods: none of ironic_lite's vendor interfaces has any
    (their methods are per node, ``/v1/nodes/{node}/vendor_passthru``), so ``{}``."""
    await get_hardware_type(request, request.match_info['driver_name'])
    return web.json_response({})


async def driver_vendor_passthru(request: web.Request) -> web.Response:
    name = request.match_info['driver_name']
    await get_hardware_type(request, name)
    method = request.match_info.get('method') or request.query.get('method')
    if not method:
        raise exception.MissingParameterValue(
            err='Method not specified when calling vendor extension.')
    raise exception.InvalidParameterValue(
        err=f'Unsupported method ({method}) passed through to vendor extension of driver '
            f'{name}.')


ROUTES = [
    Route('GET', '/v1/drivers', list_drivers, 'baremetal:driver:get', query=query.DRIVER_LIST),
    Route('GET', '/v1/drivers/{driver_name}', get_driver, 'baremetal:driver:get'),
    Route('GET', '/v1/drivers/{driver_name}/properties', get_driver_properties,
          'baremetal:driver:get_properties'),
    Route('GET', '/v1/drivers/{driver_name}/raid/logical_disk_properties',
          get_raid_logical_disk_properties, 'baremetal:driver:get_raid_logical_disk_properties'),
    Route('GET', '/v1/drivers/{driver_name}/vendor_passthru/methods', driver_vendor_methods,
          'baremetal:driver:vendor_passthru'),
    *[Route(verb, path, driver_vendor_passthru, 'baremetal:driver:vendor_passthru')
      for verb in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
      for path in ('/v1/drivers/{driver_name}/vendor_passthru',
                   '/v1/drivers/{driver_name}/vendor_passthru/{method}')],
]
