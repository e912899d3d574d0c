"""Redfish driver_info and the sushy client: cached connections, run off the event loop.

sushy is blocking (requests underneath), so every operation runs in a dedicated thread pool
(``[redfish]max_concurrent_requests`` threads) and the event loop only awaits it. Requests are
bounded by ``[redfish]connect_timeout``/``read_timeout`` and retried by sushy
``[redfish]connection_attempts`` times, so no worker hangs.

One connection (a ``sushy.Sushy`` with its session) per BMC address, credentials, CA setting
and auth type, reused (LRU, ``[redfish]connection_cache_size``). sushy renews an expired
session by itself when a request gets 401; a connection whose request failed on access or
connectivity is dropped, so the next operation logs in afresh. Every failure becomes a
:class:`~ironic_lite.common.exception.RedfishError` naming the BMC, the operation and the cause.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import os
import threading
import urllib.parse
from collections.abc import Callable
from typing import Any, TypeVar

import sushy
from oslo_utils import strutils
from sushy import exceptions as sushy_exc

from ironic_lite.common import exception
from ironic_lite.conf import CONF

T = TypeVar('T')

REQUIRED_PROPERTIES = {
    'redfish_address': 'The URL address to the Redfish controller (BMC): http(s)://host[:port]. '
                       'Without a scheme, https is assumed. Required.',
}
OPTIONAL_PROPERTIES = {
    'redfish_system_id': 'The canonical path to the ComputerSystem resource, e.g. '
                         '/redfish/v1/Systems/1. Optional when the BMC manages one system.',
    'redfish_username': 'User account with admin/server-profile access privilege. Optional.',
    'redfish_password': 'User account password. Optional.',
    'redfish_verify_ca': 'true (default): verify the BMC\'s certificate against the system\'s '
                         'CAs; false: do not verify; or the path of a CA bundle file or '
                         'directory. Optional.',
    'redfish_auth_type': 'Redfish HTTP client authentication method: "basic", "session" or '
                         '"auto". Optional, default [redfish]auth_type.',
}
COMMON_PROPERTIES = {**REQUIRED_PROPERTIES, **OPTIONAL_PROPERTIES}
AUTH_TYPES = ('basic', 'session', 'auto')


@dataclasses.dataclass(frozen=True)
class RedfishInfo:
    """How to reach one system through its BMC (see :func:`parse_driver_info`)."""

    address: str
    system_id: str | None
    username: str | None
    password: str | None
    verify_ca: bool | str
    auth_type: str

    @property
    def connection_key(self) -> tuple:
        return (self.address, self.username, self.password, self.verify_ca, self.auth_type)

    def __repr__(self) -> str:   # never log the password
        return f'RedfishInfo({self.address}, {self.system_id}, user={self.username!r})'


def parse_driver_info(node: Any) -> RedfishInfo:
    """Check a node's Redfish driver_info; raise Missing/InvalidParameterValue naming the key."""
    info = node.driver_info or {}
    address = info.get('redfish_address')
    if not address or not isinstance(address, str) or not address.strip():
        raise exception.MissingParameterValue(
            err=f"Missing the following Redfish properties in node {node.uuid}'s driver_info: "
                'redfish_address.')

    def invalid(key: str, why: str) -> exception.InvalidParameterValue:
        return exception.InvalidParameterValue(
            err=f"Invalid {key} {info.get(key)!r} in node {node.uuid}'s driver_info: {why}.")

    address = address.strip()
    if '://' not in address:
        address = f'https://{address}'
    parsed = urllib.parse.urlsplit(address)
    try:
        parsed.port   # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise invalid('redfish_address', 'the port must be an integer between 0 and 65535') \
            from None
    if parsed.scheme not in ('http', 'https') or not parsed.hostname:
        raise invalid('redfish_address', 'expected http(s)://host[:port] (an http or https URL '
                                         'with a host)')
    system_id = info.get('redfish_system_id')
    if system_id is not None:
        if not isinstance(system_id, str) or not system_id.startswith('/'):
            raise invalid('redfish_system_id', 'expected the path of the ComputerSystem '
                                               'resource, e.g. /redfish/v1/Systems/1')
        system_id = urllib.parse.quote(system_id)
    username, password = info.get('redfish_username'), info.get('redfish_password')
    if username is not None and not isinstance(username, str):
        raise invalid('redfish_username', 'must be a string')
    if password is not None and not isinstance(password, str):
        raise exception.InvalidParameterValue(
            err=f"Invalid redfish_password in node {node.uuid}'s driver_info: must be a "
                'string.')
    verify = info.get('redfish_verify_ca', True)
    if isinstance(verify, str):
        try:
            verify = strutils.bool_from_string(verify, strict=True)
        except ValueError:
            if not os.path.exists(verify):
                raise invalid('redfish_verify_ca', 'expected a boolean or the path of an '
                                                   'existing CA bundle file or directory') \
                    from None
    elif not isinstance(verify, bool):
        raise invalid('redfish_verify_ca', 'expected a boolean or the path of a CA bundle')
    auth_type = info.get('redfish_auth_type', CONF.redfish.auth_type)
    if auth_type not in AUTH_TYPES:
        raise invalid('redfish_auth_type', f'must be one of {", ".join(AUTH_TYPES)}')
    return RedfishInfo(address.rstrip('/'), system_id, username, password, verify, auth_type)


# -- connections ---------------------------------------------------------------------------
_connections: collections.OrderedDict[tuple, sushy.Sushy] = collections.OrderedDict()
_connections_lock = threading.Lock()
_logins: dict[tuple, threading.Lock] = {}   # connection key -> held while logging in
_executor: concurrent.futures.ThreadPoolExecutor | None = None


def _auth(info: RedfishInfo) -> sushy.auth.AuthBase:
    kind = {'basic': sushy.auth.BasicAuth, 'session': sushy.auth.SessionAuth,
            'auto': sushy.auth.SessionOrBasicAuth}[info.auth_type]
    # no credentials: empty ones (requests refuses None in basic auth)
    return kind(username=info.username or '', password=info.password or '')


def _cached(key: tuple) -> sushy.Sushy | None:
    with _connections_lock:
        conn = _connections.get(key)
        if conn is not None:
            _connections.move_to_end(key)
        return conn


def _connect(info: RedfishInfo) -> sushy.Sushy:
    """A cached connection, or a new one (blocking: reads the service root, may log in).
    Threads wanting the same new connection wait for the first one's login instead of each
    logging in (a BMC managing many systems, a power sync pass)."""
    key = info.connection_key
    conn = _cached(key)
    if conn is not None:
        return conn
    with _connections_lock:
        login_lock = _logins.setdefault(key, threading.Lock())
    with login_lock:
        return _cached(key) or _new_connection(info)


def _new_connection(info: RedfishInfo) -> sushy.Sushy:
    conn = sushy.Sushy(info.address, auth=_auth(info), verify=info.verify_ca,
                       server_side_retries=CONF.redfish.connection_attempts,
                       server_side_retries_delay=CONF.redfish.connection_retry_interval,
                       connect_timeout=CONF.redfish.connect_timeout,
                       read_timeout=CONF.redfish.read_timeout)
    if CONF.redfish.connection_cache_size:
        with _connections_lock:
            _connections[info.connection_key] = conn
            while len(_connections) > CONF.redfish.connection_cache_size:
                evicted, _ = _connections.popitem(last=False)
                _logins.pop(evicted, None)
    return conn


def _forget(info: RedfishInfo) -> None:
    with _connections_lock:
        _connections.pop(info.connection_key, None)


def _reason(what: str, error: Exception) -> str:
    if isinstance(error, sushy_exc.AccessError):
        return (f'{what}: access denied (check redfish_username and redfish_password): '
                f'{error.message}')
    if isinstance(error, sushy_exc.ResourceNotFoundError):
        return f'{what}: resource not found on the BMC: {error.message}'
    if isinstance(error, sushy_exc.ConnectionError):
        return (f'{what}: the BMC is unreachable (after {CONF.redfish.connection_attempts} '
                f'attempt(s)): {error.message}')
    if isinstance(error, sushy_exc.UnknownDefaultError):
        return f'{what}: the BMC manages several systems: set redfish_system_id'
    return f'{what}: {error}'


def _blocking_call(info: RedfishInfo, what: str, operation: Callable[[Any], T]) -> T:
    try:
        conn = _connect(info)
        try:
            system = conn.get_system(info.system_id)
        except sushy_exc.ResourceNotFoundError:
            raise exception.RedfishError(
                bmc=info.address, reason=f'{what}: the system {info.system_id} does not '
                                         'exist on the BMC (check redfish_system_id)') from None
        return operation(system)
    except (sushy_exc.AccessError, sushy_exc.ConnectionError) as e:
        _forget(info)   # log in afresh next time (credentials may have changed on the BMC)
        raise exception.RedfishError(bmc=info.address, reason=_reason(what, e)) from e
    except sushy_exc.SushyError as e:
        raise exception.RedfishError(bmc=info.address, reason=_reason(what, e)) from e


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=CONF.redfish.max_concurrent_requests, thread_name_prefix='redfish')
    return _executor


async def call(info: RedfishInfo, what: str, operation: Callable[[Any], T]) -> T:
    """Run ``operation(system)`` (blocking sushy calls on the node's ComputerSystem) in the
    Redfish thread pool; RedfishError naming ``what`` when it fails."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool(), _blocking_call, info, what, operation)


def shutdown() -> None:
    """Drop every cached connection (sushy logs its session out when a connection is
    collected) and stop the thread pool (tests, process exit)."""
    global _executor
    with _connections_lock:
        _connections.clear()
        _logins.clear()
    if _executor is not None:
        _executor.shutdown(wait=False, cancel_futures=True)
        _executor = None
