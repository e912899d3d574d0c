"""Helpers for the API functional tests (``test_api_*.py``), driven through the harness."""
from __future__ import annotations

import json
from typing import Any

MIN_HEADER = 'X-OpenStack-Ironic-API-Minimum-Version'
MAX_HEADER = 'X-OpenStack-Ironic-API-Maximum-Version'
VERSION_HEADER = 'X-OpenStack-Ironic-API-Version'


def ver(version: str) -> dict[str, str]:
    """Headers asking for one microversion."""
    return {VERSION_HEADER: version}


async def fault(resp, status: int) -> dict[str, Any]:
    """Assert an Ironic error response and return its decoded fault.

    Ironic's body is ``{"error_message": "<JSON string>"}``: python-ironicclient decodes the
    string itself and crashes on a dict there.
    """
    text = await resp.text()
    assert resp.status == status, (resp.status, text)
    assert resp.headers['Content-Type'].startswith('application/json'), resp.headers
    body = json.loads(text)
    assert set(body) == {'error_message'}, body
    assert isinstance(body['error_message'], str), body
    inner = json.loads(body['error_message'])
    assert set(inner) == {'faultcode', 'faultstring', 'debuginfo'}, inner
    assert inner['faultcode'] == ('Client' if status < 500 else 'Server')
    assert inner['debuginfo'] is None
    assert 'Traceback' not in text
    assert inner['faultstring']
    for header in (MIN_HEADER, MAX_HEADER, VERSION_HEADER):
        assert header in resp.headers, (header, resp.headers)
    return inner


async def ok(resp, status: int = 200) -> Any:
    text = await resp.text()
    assert resp.status == status, (resp.status, text)
    return json.loads(text) if text else None


async def create_node(h, **values: Any) -> dict[str, Any]:
    values.setdefault('driver', 'fake-hardware')
    return await ok(await h.request('POST', '/v1/nodes', json=values), 201)


async def get_node(h, ident: str, headers: dict | None = None) -> dict[str, Any]:
    return await ok(await h.request('GET', f'/v1/nodes/{ident}', headers=headers))


def patch_op(op: str, path: str, value: Any = None) -> dict[str, Any]:
    """One JSON-patch operation (``remove`` carries no value)."""
    out = {'op': op, 'path': path}
    if op != 'remove':
        out['value'] = value
    return out


async def patch_node(h, ident: str, *ops: dict[str, Any], status: int = 200,
                     headers: dict | None = None, query: str = '') -> dict[str, Any]:
    """PATCH a node with ``ops``; the node on 200, else the checked fault of ``status``."""
    resp = await h.request('PATCH', f'/v1/nodes/{ident}{query}', json=list(ops),
                           headers=headers)
    if status != 200:
        return await fault(resp, status)
    return await ok(resp)


async def provision(h, ident: str, target: str, **body: Any):
    return await h.request('PUT', f'/v1/nodes/{ident}/states/provision',
                           json={'target': target, **body})


async def move(h, ident: str, target: str, expected: str, **body: Any) -> dict[str, Any]:
    """Request a provision target, wait for the conductor, check the resulting state."""
    resp = await provision(h, ident, target, **body)
    assert resp.status == 202, (resp.status, await resp.text())
    await h.drain()
    node = await get_node(h, ident)
    assert node['provision_state'] == expected, node
    return node


async def available_node(h, **values: Any) -> dict[str, Any]:
    """A node taken through enroll → manageable → available."""
    node = await create_node(h, **values)
    await move(h, node['uuid'], 'manage', 'manageable')
    return await move(h, node['uuid'], 'provide', 'available')


async def active_node(h, **values: Any) -> dict[str, Any]:
    node = await available_node(h, **values)
    return await move(h, node['uuid'], 'active', 'active')


async def waiting_node(h, mac: str, **values: Any) -> dict[str, Any]:
    """A fake-hardware node with a port of ``mac``, deployed until it waits for its ramdisk's
    call-back (``wait call-back``); ``configdrive`` goes with the deploy request."""
    body = {'configdrive': values.pop('configdrive')} if 'configdrive' in values else {}
    driver_info = {'fake_deploy_wait': True, **values.pop('driver_info', {})}
    node = await available_node(h, driver_info=driver_info, **values)
    await ok(await h.request('POST', '/v1/ports', json={'node_uuid': node['uuid'],
                                                        'address': mac}), 201)
    return await move(h, node['uuid'], 'active', 'wait call-back', **body)


async def lookup_token(h, node_uuid: str) -> str:
    """The agent token the first lookup of a ramdisk run hands out (API 1.62 and later), as
    IPA gets it before its first heartbeat."""
    body = await ok(await h.request('GET', f'/v1/lookup?node_uuid={node_uuid}',
                                    headers=ver('1.62')))
    token = body['config']['agent_token']
    assert token and token != '******', body['config']
    return token
