"""API 1.71: the version signals keystone system-scoped roles, which the policy honours at
every version (upstream gates nothing on it): the same answers at 1.70 and 1.71."""
from __future__ import annotations

import pytest

from tests.functional.api_helpers import fault, ok, ver
from tests.functional.keystone import tok


@pytest.mark.parametrize('version', ['1.70', '1.71'])
async def test_system_and_project_scopes_at_1_70_and_1_71(keystone_harness, version):
    h = keystone_harness

    def headers(who: str) -> dict[str, str]:
        return {**tok(who), **ver(version)}

    owned = await ok(await h.request('POST', '/v1/nodes', headers=headers('sys-admin'),
                                     json={'driver': 'fake-hardware', 'owner': 'proj-a'}), 201)
    other = await ok(await h.request('POST', '/v1/nodes', headers=headers('sys-admin'),
                                     json={'driver': 'fake-hardware', 'owner': 'proj-b'}), 201)
    resp = await h.request('GET', '/v1/nodes', headers=headers('sys-reader'))
    assert resp.headers['X-OpenStack-Ironic-API-Version'] == version
    listed = await ok(resp)
    assert {n['uuid'] for n in listed['nodes']} == {owned['uuid'], other['uuid']}
    listed = await ok(await h.request('GET', '/v1/nodes', headers=headers('owner-member')))
    assert {n['uuid'] for n in listed['nodes']} == {owned['uuid']}
    # a system reader reads but does not act
    inner = await fault(await h.request('PUT', f'/v1/nodes/{owned["uuid"]}/states/provision',
                                        headers=headers('sys-reader'),
                                        json={'target': 'manage'}), 403)
    assert 'baremetal:node:set_provision_state' in inner['faultstring']
