"""The RPC surface: declared on the conductor's manager (``@rpc.cast`` / ``@rpc.call``), served
from that declaration, and sent by the API's client exactly as declared — kind, name, version —
also when capped below a version for a rolling upgrade."""
from __future__ import annotations

import inspect
import types
from typing import Any

import pytest

from ironic_lite.common import rpc
from ironic_lite.conductor.manager import ConductorManager
from ironic_lite.rpcapi import conductor as rpcapi

SURFACE = rpc.surface(ConductorManager(env=None))


class _Recorder:
    """Stands for rpc.RPCClient: records what would be sent."""

    def __init__(self, cap: str | None):
        self.cap = cap
        self.sent: list[tuple[str, str, str, dict]] = []

    def can_send_version(self, version: str) -> bool:
        return self.cap is None or rpc.version_is_compatible(self.cap, version)

    async def cast(self, host: str, version: str, method: str, **kwargs: Any) -> None:
        self.sent.append((rpc.CAST, method, version, kwargs))

    async def call(self, host: str, version: str, method: str, **kwargs: Any) -> Any:
        self.sent.append((rpc.CALL, method, version, kwargs))


def _client(cap: str | None = None) -> rpcapi.ConductorAPI:
    async def online(timeout):
        return [types.SimpleNamespace(hostname='c1')]

    async def get_host(*args):
        return 'c1'

    api = rpcapi.ConductorAPI.__new__(rpcapi.ConductorAPI)
    api.ring = types.SimpleNamespace(get_host=get_host, conf=types.SimpleNamespace(
        conductor=types.SimpleNamespace(heartbeat_timeout=1)),
        db=types.SimpleNamespace(get_online_conductors=online))
    api.client = _Recorder(cap)
    return api


def _node(intent: str | None = 'deploy', **args: Any):
    return types.SimpleNamespace(uuid='n1', driver='fake-hardware', conductor_group='',
                                 intent=intent, intent_args=args)


def _arguments(fn) -> dict[str, Any]:
    """Plausible arguments for every parameter of a client method."""
    values: dict[str, Any] = {}
    for name, param in list(inspect.signature(fn).parameters.items()):
        if param.default is not inspect.Parameter.empty:
            continue
        values[name] = _node() if name == 'node' else 'x'
    return values


async def _send_everything(api: rpcapi.ConductorAPI) -> list[tuple[str, str, str, dict]]:
    for name, fn in inspect.getmembers(api, inspect.iscoroutinefunction):
        if name.startswith('_') or name == 'host_for':
            continue
        await fn(**_arguments(fn))
    return api.client.sent


async def test_the_client_sends_each_method_as_the_conductor_declares_it():
    sent = await _send_everything(_client())
    assert {method for _, method, _, _ in sent} == {
        name for name, served in SURFACE.items() if served.accepts is None}
    for kind, method, version, _ in sent:
        declared = SURFACE[method].method
        assert (kind, version) == (declared.kind, declared.since) or (
            method == 'heartbeat' and version == '1.2'), (method, kind, version)


def test_versions_agree_and_dead_methods_are_gone():
    assert ConductorManager.RPC_API_VERSION == rpcapi.RPC_API_VERSION == '1.3'
    for served in SURFACE.values():
        assert rpc.version_is_compatible(ConductorManager.RPC_API_VERSION,
                                         served.method.since)
    assert 'get_node_with_token' not in SURFACE and 'continue_node_deploy' not in SURFACE
    # renamed casts are still served for APIs not yet upgraded
    for old in ('do_node_deploy', 'do_node_tear_down', 'do_provisioning_action',
                'change_node_power_state'):
        assert SURFACE[old].fn.__name__ == 'run_intent' and SURFACE[old].method.kind == 'cast'


def test_declaring_a_plain_function_is_refused():
    with pytest.raises(TypeError):
        rpc.call('1.0')(lambda self: None)


@pytest.mark.parametrize('intent, args, expected', [
    ('deploy', {}, ('do_node_deploy', {'rebuild': False})),
    ('rebuild', {}, ('do_node_deploy', {'rebuild': True})),
    ('delete', {}, ('do_node_tear_down', {})),
    ('power', {'power_state': 'power off', 'timeout': 5},
     ('change_node_power_state', {'new_state': 'power off', 'timeout': 5})),
    ('manage', {}, ('do_provisioning_action', {'action': 'manage'})),
])
async def test_a_client_capped_below_1_3_sends_the_old_casts(intent, args, expected):
    api = _client(cap='1.2')
    await api.run_intent(_node(intent, **args))
    method, kwargs = expected
    assert api.client.sent == [(rpc.CAST, method, '1.0', {'node_id': 'n1', **kwargs})]
    uncapped = _client()
    await uncapped.run_intent(_node(intent, **args))
    assert uncapped.client.sent == [(rpc.CAST, 'run_intent', '1.3', {'node_id': 'n1'})]
