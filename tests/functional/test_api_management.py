"""Power, states, maintenance, validate, boot device and drivers."""
import asyncio

import pytest

from ironic_lite.drivers.modules import fake
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


async def _power(h, ident, target, headers=None, **body):
    return await h.request('PUT', f'/v1/nodes/{ident}/states/power',
                           json={'target': target, **body}, headers=headers)


@pytest.mark.parametrize('target,final', [('power on', 'power on'),
                                          ('power off', 'power off'),
                                          ('rebooting', 'power on'),
                                          ('soft power off', 'power off'),
                                          ('soft rebooting', 'power on')])
async def test_power(harness, monkeypatch, target, final):
    node = await api.create_node(harness)
    # hold the conductor's power change until the accepted request has been looked at:
    # the in-process cast may otherwise finish before the test's next GET
    go = asyncio.Event()
    fake_delay = fake._delay

    async def held(seconds):
        await go.wait()
        await fake_delay(seconds)

    monkeypatch.setattr(fake, '_delay', held)
    resp = await _power(harness, node['uuid'], target)
    assert resp.status == 202, await resp.text()
    assert resp.headers['Location'].endswith(f'/v1/nodes/{node["uuid"]}/states')
    # upstream shows where the request is heading: power on for (soft) reboots (issue 8)
    assert (await api.get_node(harness, node['uuid']))['target_power_state'] == final
    go.set()
    await harness.drain()
    n = await api.get_node(harness, node['uuid'])
    assert n['power_state'] == final
    assert n['target_power_state'] is None
    assert n['last_error'] is None


async def test_soft_power_and_timeout_need_1_27(harness):
    node = await api.create_node(harness)
    for target in ('soft power off', 'soft rebooting'):
        await fault(await _power(harness, node['uuid'], target, headers=ver('1.26')), 400)
    resp = await _power(harness, node['uuid'], 'power off', headers=ver('1.26'), timeout=10)
    assert resp.status in (400, 406)
    await fault(resp, resp.status)
    resp = await _power(harness, node['uuid'], 'soft power off', headers=ver('1.27'),
                        timeout=10)
    assert resp.status == 202, await resp.text()
    await harness.drain()


@pytest.mark.parametrize('body', [{'target': 'off'}, {'target': None}, {},
                                  {'target': 'power on', 'timeout': 0},
                                  {'target': 'power on', 'timeout': 'soon'},
                                  {'target': 'power on', 'timeout': True},
                                  {'target': 'power on', 'colour': 'red'}])
async def test_bad_power_requests(harness, body):
    node = await api.create_node(harness)
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/power', json=body)
    await fault(resp, 400)


async def test_power_on_locked_or_busy_node(harness):
    node = await api.create_node(harness)
    node_id = (await harness.db.get_node(node['uuid'])).id
    await harness.db.reserve_node('busy-host', node_id)
    await fault(await _power(harness, node['uuid'], 'power on'), 409)
    await harness.db.release_node('busy-host', node_id)
    await harness.db.update_node(node_id, {'provision_state': 'deploying'})
    await fault(await _power(harness, node['uuid'], 'power on'), 400)


async def test_get_states(harness):
    node = await api.active_node(harness)
    states = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/states'))
    assert states == {
        'console_enabled': False, 'last_error': None, 'power_state': 'power on',
        'provision_state': 'active', 'provision_updated_at': states['provision_updated_at'],
        'target_power_state': None, 'target_provision_state': None,
        'raid_config': {}, 'target_raid_config': {}}
    old = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/states',
                                         headers=ver('1.11')))
    assert 'raid_config' not in old


async def test_maintenance(harness):
    node = await api.create_node(harness, name='m')
    resp = await harness.request('PUT', '/v1/nodes/m/maintenance', json={'reason': 'fan'})
    assert resp.status == 202, await resp.text()
    n = await api.get_node(harness, 'm')
    assert n['maintenance'] is True and n['maintenance_reason'] == 'fan'
    listed = await ok(await harness.request('GET', '/v1/nodes?maintenance=true'))
    assert [x['uuid'] for x in listed['nodes']] == [node['uuid']]
    resp = await harness.request('DELETE', '/v1/nodes/m/maintenance')
    assert resp.status == 202, await resp.text()
    n = await api.get_node(harness, 'm')
    assert n['maintenance'] is False and n['maintenance_reason'] is None
    # without a body (ironicclient sends none when there is no reason)
    resp = await harness.client.put('/v1/nodes/m/maintenance', headers=api.ver('latest'))
    assert resp.status == 202, await resp.text()
    n = await api.get_node(harness, 'm')
    assert n['maintenance'] is True and n['maintenance_reason'] is None
    await fault(await harness.request('PUT', '/v1/nodes/m/maintenance',
                                      json={'reason': 5}), 400)
    await fault(await harness.request('PUT', '/v1/nodes/m/maintenance',
                                      json={'reason': 'x', 'colour': 'red'}), 400)
    # a locked node
    node_id = (await harness.db.get_node('m')).id
    await harness.db.reserve_node('busy-host', node_id)
    await fault(await harness.request('DELETE', '/v1/nodes/m/maintenance'), 409)


async def test_validate(harness):
    node = await api.create_node(harness)
    body = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    for iface in ('boot', 'console', 'deploy', 'inspect', 'management', 'network', 'power',
                  'raid', 'vendor'):
        assert iface in body, iface
        assert set(body[iface]) <= {'result', 'reason'}
    for iface in ('power', 'deploy', 'boot', 'management', 'console', 'network', 'rescue',
                  'storage', 'bios'):
        assert body[iface] == {'result': True}, (iface, body[iface])
    old = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate',
                                         headers=ver('1.31')))
    for iface in ('rescue', 'storage', 'bios'):  # newer than 1.31
        assert iface not in old
    assert old['console'] == {'result': True}
    by_name = await api.create_node(harness, name='v')
    assert by_name
    assert (await ok(await harness.request('GET', '/v1/nodes/v/validate')))['power'] == \
        {'result': True}


async def test_boot_device(harness):
    node = await api.create_node(harness)
    base = f'/v1/nodes/{node["uuid"]}/management/boot_device'
    assert await ok(await harness.request('GET', base)) == {'boot_device': 'pxe',
                                                            'persistent': False}
    supported = await ok(await harness.request('GET', f'{base}/supported'))
    assert supported == {'supported_boot_devices': ['pxe', 'disk']}
    resp = await harness.request('PUT', base, json={'boot_device': 'disk',
                                                    'persistent': True})
    assert resp.status == 204, await resp.text()
    assert await ok(await harness.request('GET', base)) == {'boot_device': 'disk',
                                                            'persistent': True}
    resp = await harness.request('PUT', f'{base}?persistent=false',
                                 json={'boot_device': 'pxe'})
    assert resp.status == 204, await resp.text()
    assert await ok(await harness.request('GET', base)) == {'boot_device': 'pxe',
                                                            'persistent': False}
    await fault(await harness.request('PUT', base, json={'boot_device': 'floppy-ish'}), 400)
    await fault(await harness.request('PUT', base, json={'boot_device': ['pxe']}), 400)
    await fault(await harness.request('PUT', base, json={'boot_device': 'pxe',
                                                         'persistent': 'maybe'}), 400)
    await fault(await harness.request('PUT', f'{base}?persistent=maybe',
                                      json={'boot_device': 'pxe'}), 400)
    # known to Ironic but not supported by this node: raised by the conductor on a call
    inner = await fault(await harness.request('PUT', base, json={'boot_device': 'cdrom'}), 400)
    assert 'cdrom' in inner['faultstring']
    assert '\n' not in inner['faultstring']
    # a locked node
    node_id = (await harness.db.get_node(node['uuid'])).id
    await harness.db.reserve_node('busy-host', node_id)
    inner = await fault(await harness.request('PUT', base, json={'boot_device': 'disk'}), 409)
    assert 'busy-host' in inner['faultstring'] and 'Traceback' not in inner['faultstring']


async def test_drivers(harness):
    body = await ok(await harness.request('GET', '/v1/drivers'))
    names = [d['name'] for d in body['drivers']]
    assert 'fake-hardware' in names
    fake = next(d for d in body['drivers'] if d['name'] == 'fake-hardware')
    assert fake['hosts'] == [harness.host]
    assert fake['type'] == 'dynamic'
    assert fake['links'][0]['href'].endswith('/v1/drivers/fake-hardware')
    assert 'default_deploy_interface' not in fake
    old = await ok(await harness.request('GET', '/v1/drivers', headers=ver('1.29')))
    assert 'type' not in old['drivers'][0]
    detail = await ok(await harness.request('GET', '/v1/drivers?detail=true'))
    fake = next(d for d in detail['drivers'] if d['name'] == 'fake-hardware')
    assert fake['default_deploy_interface'] == 'fake'
    assert 'fake' in fake['enabled_power_interfaces']
    assert fake['default_network_interface'] == 'noop'
    assert fake['enabled_network_interfaces'] == ['noop', 'flat']
    assert fake['default_console_interface'] == 'fake'
    assert fake['default_rescue_interface'] == 'fake'
    old = await ok(await harness.request('GET', '/v1/drivers?detail=true',
                                         headers=ver('1.37')))
    assert 'default_rescue_interface' not in old['drivers'][0]  # 1.38
    assert (await ok(await harness.request('GET', '/v1/drivers?type=classic')))['drivers'] == []
    dynamic = await ok(await harness.request('GET', '/v1/drivers?type=dynamic'))
    assert [d['name'] for d in dynamic['drivers']] == names
    await fault(await harness.request('GET', '/v1/drivers?type=weird'), 400)
    await fault(await harness.request('GET', '/v1/drivers?detail=maybe'), 400)
    shown = await ok(await harness.request('GET', '/v1/drivers/fake-hardware'))
    assert shown['name'] == 'fake-hardware'
    assert shown['default_boot_interface'] == 'fake'
    props = await ok(await harness.request('GET', '/v1/drivers/fake-hardware/properties'))
    assert 'fake_deploy_wait' in props
    await fault(await harness.request('GET', '/v1/drivers/nope'), 404)


async def test_unexpected_conductor_error_on_a_call_is_a_clean_500(harness, monkeypatch):
    from ironic_lite.drivers.modules import fake

    async def broken(self, task):
        raise RuntimeError('BMC exploded')

    monkeypatch.setattr(fake.FakeManagement, 'get_boot_device', broken)
    node = await api.create_node(harness)
    resp = await harness.request('GET', f'/v1/nodes/{node["uuid"]}/management/boot_device')
    inner = await fault(resp, 500)
    assert 'Traceback' not in inner['faultstring'] and 'File "' not in inner['faultstring']
    # the node's lock was released
    assert (await api.get_node(harness, node['uuid']))['reservation'] is None
