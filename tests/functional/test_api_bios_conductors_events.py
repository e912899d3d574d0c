"""BIOS settings (1.40), conductors (1.49) and external events (1.54)."""
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

PORT = '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'


async def test_bios_settings(harness):
    node = await api.create_node(harness)
    assert await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/bios')) == \
        {'bios': []}
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/bios',
                                      headers=ver('1.39')), 404)
    # what a BIOS interface would have cached (the fake hardware type has no-bios)
    await harness.db.set_bios_settings((await harness.db.get_node(node['uuid'])).id,
                                       {'hyperthreading': 'Enabled', 'boot_mode': 'uefi'})
    listed = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/bios'))
    assert [(s['name'], s['value']) for s in listed['bios']] == [
        ('boot_mode', 'uefi'), ('hyperthreading', 'Enabled')]
    assert listed['bios'][0]['links'][0]['href'].endswith(
        f'/v1/nodes/{node["uuid"]}/bios/boot_mode')
    one = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/bios/boot_mode'))
    assert one['boot_mode']['value'] == 'uefi'
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/bios/nope'), 404)
    await fault(await harness.request('GET', f'/v1/nodes/{PORT}/bios'), 404)


async def test_conductors(harness):
    listed = await ok(await harness.request('GET', '/v1/conductors'))
    assert listed['conductors'] == [{
        'hostname': harness.host, 'conductor_group': '', 'alive': True,
        'links': listed['conductors'][0]['links']}]
    detail = await ok(await harness.request('GET', '/v1/conductors?detail=true'))
    assert 'fake-hardware' in detail['conductors'][0]['drivers']
    shown = await ok(await harness.request('GET', f'/v1/conductors/{harness.host}'))
    assert shown['alive'] is True and shown['links'][0]['href'].endswith(
        f'/v1/conductors/{harness.host}')
    only = await ok(await harness.request('GET', f'/v1/conductors/{harness.host}'
                                                 '?fields=hostname,alive'))
    assert only == {'hostname': harness.host, 'alive': True}
    await fault(await harness.request('GET', '/v1/conductors/nope'), 404)
    await fault(await harness.request('GET', '/v1/conductors', headers=ver('1.48')), 404)
    await harness.db.unregister_conductor(harness.host)
    assert (await ok(await harness.request('GET', f'/v1/conductors/{harness.host}'))
            )['alive'] is False


async def test_events(harness):
    event = {'event': 'network.bind_port', 'port_id': PORT, 'mac_address': '52:54:00:00:00:01',
             'status': 'ACTIVE', 'device_id': PORT, 'binding:host_id': PORT}
    resp = await harness.request('POST', '/v1/events', json={'events': [event]})
    assert resp.status == 204, await resp.text()
    await fault(await harness.request('POST', '/v1/events', json={'events': [event]},
                                      headers=ver('1.53')), 404)
    for bad in ({'event': 'compute.boom', 'port_id': PORT},
                {'event': 'network.unbind_port'},
                {'event': 'network.delete_port', 'port_id': 'nope'},
                {'event': 'network.bind_port', 'port_id': PORT, 'mac_address': 'x'},
                {'event': 'network.bind_port', 'port_id': PORT, 'extra': 1}):
        await fault(await harness.request('POST', '/v1/events', json={'events': [bad]}), 400)
    await fault(await harness.request('POST', '/v1/events', json={'events': []}), 400)
    await fault(await harness.request('POST', '/v1/events', json={'event': event}), 400)
