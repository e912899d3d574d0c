"""``POST /v1/events`` (1.54): external (network) events, validated and acknowledged (204).

Neutron sends ``network.bind_port``/``unbind_port``/``delete_port`` when a port binding
changes; with the ``noop``/``flat`` network interfaces nothing waits for them, so a valid event
is logged and accepted. Hidden (404) below 1.54, as upstream.
"""
from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from ironic_lite.api import microversion as mv
from ironic_lite.api import utils
from ironic_lite.api.route import Route
from ironic_lite.api.schemas.resources import EVENTS
from ironic_lite.common import exception

LOG = logging.getLogger(__name__)

NETWORK_EVENTS = ('network.bind_port', 'network.unbind_port', 'network.delete_port')
_UUID_FIELDS = ('port_id', 'device_id', 'binding:host_id')
_ALLOWED = {'event', 'port_id', 'mac_address', 'status', 'device_id', 'binding:host_id',
            'binding:vnic_type'}


def _check_event(event: Any) -> None:
    if not isinstance(event, dict):
        raise exception.InvalidParameterValue(err='Each event must be a JSON object.')
    unknown = sorted(set(event) - _ALLOWED)
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Unknown attribute(s) for event: {", ".join(unknown)}')
    if event.get('event') not in NETWORK_EVENTS:
        raise exception.InvalidParameterValue(
            err=f'Unknown event {event.get("event")!r}; expected one of '
                f'{", ".join(NETWORK_EVENTS)}.')
    if 'port_id' not in event:
        raise exception.MissingParameterValue(err='"port_id" is required for network events.')
    for name in _UUID_FIELDS:
        if event.get(name) is not None:
            utils.check_uuid(event[name])
    if event.get('mac_address') is not None:
        utils.check_mac(event['mac_address'])
    for name in ('status', 'binding:vnic_type'):
        if event.get(name) is not None and not isinstance(event[name], str):
            raise exception.InvalidParameterValue(err=f'{name} must be a string.')


async def post_events(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    if set(body) != {'events'} or not isinstance(body['events'], list) or not body['events']:
        raise exception.InvalidParameterValue(
            err='The body must be {"events": [<event>, ...]} with at least one event.')
    for event in body['events']:
        _check_event(event)
    for event in body['events']:
        LOG.info('External event %s for port %s (status %s)', event['event'],
                 event['port_id'], event.get('status'))
    return web.Response(status=204)


ROUTES = [Route('POST', '/v1/events', post_events, 'baremetal:events:post', body=EVENTS,
                since=mv.EVENTS)]
