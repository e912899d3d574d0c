"""The all-in-one harness carries a node from enroll to active and back."""


async def _state(h, ident):
    resp = await h.request('GET', f'/v1/nodes/{ident}')
    return await resp.json()


async def test_enroll_to_active_and_back(harness):
    resp = await harness.request('POST', '/v1/nodes', json={'driver': 'fake-hardware',
                                                            'name': 'node-0'})
    assert resp.status == 201, await resp.text()
    node = await resp.json()
    assert node['provision_state'] == 'enroll'
    for target, expected in (('manage', 'manageable'), ('provide', 'available'),
                             ('active', 'active'), ('deleted', 'available')):
        resp = await harness.request('PUT', '/v1/nodes/node-0/states/provision',
                                     json={'target': target})
        assert resp.status == 202, await resp.text()
        await harness.drain()
        body = await _state(harness, 'node-0')
        assert body['provision_state'] == expected, body
        assert body['target_provision_state'] is None
        assert body['reservation'] is None
        assert body['last_error'] is None
