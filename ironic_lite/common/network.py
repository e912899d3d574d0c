"""The conductor's address on the provisioning network, found with pyroute2 (netlink).

Used when ``[pxe]tftp_server`` or ``[conductor]api_url`` is not configured: nodes must be told
an address they can reach. In order: the first IPv4 address of
``[dhcp]provisioning_interface``; the preferred source address (or first IPv4 address) of the
interface of the default IPv4 route with the lowest metric; ``127.0.0.1`` with a warning (fine
for tests, useless for real nodes). Netlink is asked through pyroute2's asyncio client, so
nothing blocks the event loop.
"""
from __future__ import annotations

import logging
import socket

from oslo_config import cfg
from pyroute2 import AsyncIPRoute

from ironic_lite.common import exception

LOG = logging.getLogger(__name__)

LOOPBACK = '127.0.0.1'


async def _collect(result) -> list:
    """pyroute2 answers with a list or an async generator depending on the call."""
    if isinstance(result, list | tuple):
        return list(result)
    return [item async for item in result]


async def _ipv4_addresses(ipr: AsyncIPRoute, index: int) -> list[str]:
    addrs = await _collect(await ipr.get_addr(family=socket.AF_INET, index=index))
    return [a.get('IFA_ADDRESS') for a in addrs if a.get('IFA_ADDRESS')]


async def interface_address(ifname: str) -> str:
    """First IPv4 address of ``ifname``; InvalidParameterValue naming it when there is none."""
    async with AsyncIPRoute() as ipr:
        indexes = await ipr.link_lookup(ifname=ifname)
        if not indexes:
            raise exception.InvalidParameterValue(
                err=f'[dhcp]provisioning_interface {ifname!r} does not exist')
        addresses = await _ipv4_addresses(ipr, indexes[0])
    if not addresses:
        raise exception.InvalidParameterValue(
            err=f'[dhcp]provisioning_interface {ifname!r} has no IPv4 address')
    return addresses[0]


async def default_route_address() -> str | None:
    """The address this host uses on its default IPv4 route, or None without one."""
    async with AsyncIPRoute() as ipr:
        routes = await _collect(await ipr.get_default_routes(family=socket.AF_INET))
        routes = [r for r in routes if r.get('RTA_OIF')]
        routes.sort(key=lambda r: r.get('RTA_PRIORITY') or 0)
        for route in routes:
            if route.get('RTA_PREFSRC'):
                return route.get('RTA_PREFSRC')
            addresses = await _ipv4_addresses(ipr, route.get('RTA_OIF'))
            if addresses:
                return addresses[0]
    return None


async def provisioning_address(conf: cfg.ConfigOpts) -> str:
    """The address nodes should use to reach this conductor (see the module docstring)."""
    ifname = conf.dhcp.provisioning_interface
    if ifname:
        return await interface_address(ifname)
    try:
        address = await default_route_address()
    except OSError as e:  # no netlink (sandbox, permissions)
        LOG.warning('Cannot read the routing table (%s)', e)
        address = None
    if address:
        return address
    LOG.warning('No [dhcp]provisioning_interface, no default route: using %s as the '
                'provisioning address; nodes will not reach it. Set [pxe]tftp_server, '
                '[conductor]api_url or [dhcp]provisioning_interface.', LOOPBACK)
    return LOOPBACK


async def api_url(conf: cfg.ConfigOpts) -> str:
    """``[conductor]api_url``, or the API's address and port as nodes can reach it."""
    if conf.conductor.api_url:
        return conf.conductor.api_url.rstrip('/')
    host = conf.api.host_ip
    if host in ('0.0.0.0', '::', '', None):
        host = await provisioning_address(conf)
    if ':' in host:
        host = f'[{host}]'
    return f'http://{host}:{conf.api.port}'


async def tftp_server(conf: cfg.ConfigOpts) -> str:
    """``[pxe]tftp_server``, or the provisioning address."""
    return conf.pxe.tftp_server or await provisioning_address(conf)
