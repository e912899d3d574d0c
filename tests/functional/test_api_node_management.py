"""Console, NMI injection, indicators and rescue through the harness (fake interfaces)."""
import pytest

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


def _console(node):
    return f'/v1/nodes/{node["uuid"]}/states/console'


async def test_console_enable_get_disable(harness):
    node = await api.create_node(harness)
    assert node['console_interface'] == 'fake'
    assert await ok(await harness.request('GET', _console(node))) == {
        'console_enabled': False, 'console_info': None}
    resp = await harness.request('PUT', _console(node), json={'enabled': True})
    assert resp.status == 202, await resp.text()
    assert resp.headers['Location'].endswith(f'/v1/nodes/{node["uuid"]}/states/console')
    await harness.drain()
    assert await ok(await harness.request('GET', _console(node))) == {
        'console_enabled': True,
        'console_info': {'type': 'fake', 'url': f'fake://console/{node["uuid"]}'}}
    assert (await api.get_node(harness, node['uuid']))['console_enabled'] is True
    states = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/states'))
    assert states['console_enabled'] is True
    # enabling it again changes nothing
    assert (await harness.request('PUT', _console(node), json={'enabled': True})).status == \
        202
    resp = await harness.request('PUT', _console(node), json={'enabled': False})
    assert resp.status == 202
    await harness.drain()
    assert (await ok(await harness.request('GET', _console(node))))['console_enabled'] is False


async def test_console_failure_is_recorded(harness, monkeypatch):
    # A fake console cannot fail by itself: make its start fail to see the error path.
    from ironic_lite.drivers.modules import fake

    async def broken(self, task):
        raise RuntimeError('no serial port')

    monkeypatch.setattr(fake.FakeConsole, 'start_console', broken)
    node = await api.create_node(harness)
    assert (await harness.request('PUT', _console(node), json={'enabled': True})).status == 202
    await harness.drain()
    shown = await api.get_node(harness, node['uuid'])
    assert shown['console_enabled'] is False
    assert 'no serial port' in shown['last_error']
    assert shown['reservation'] is None


async def test_no_console_interface_is_400(harness):
    node = await api.create_node(harness, console_interface='no-console')
    await fault(await harness.request('PUT', _console(node), json={'enabled': True}), 400)
    await fault(await harness.request('GET', _console(node)), 400)


@pytest.mark.parametrize('body', [{}, {'enabled': 'maybe'}, {'enabled': 1}, {'enabled': None},
                                  {'enabled': True, 'x': 1}, [True]])
async def test_bad_console_bodies(harness, body):
    node = await api.create_node(harness)
    await fault(await harness.request('PUT', _console(node), json=body), 400)


async def test_console_on_locked_node_409(harness):
    node = await api.create_node(harness)
    node_id = (await harness.db.get_node(node['uuid'])).id
    await harness.db.reserve_node('busy-host', node_id)
    await fault(await harness.request('PUT', _console(node), json={'enabled': True}), 409)
    await harness.db.release_node('busy-host', node_id)


async def test_inject_nmi(harness):
    node = await api.create_node(harness)
    path = f'/v1/nodes/{node["uuid"]}/management/inject_nmi'
    for body in (None, {}):
        resp = await harness.request('PUT', path, json=body)
        assert resp.status == 204, await resp.text()
    db_node = await harness.db.get_node(node['uuid'])
    assert db_node.driver_internal_info['fake_nmi_count'] == 2
    await fault(await harness.request('PUT', path, headers=ver('1.28')), 404)
    await fault(await harness.request('PUT', path, json={'now': True}), 400)
    await harness.db.reserve_node('busy-host', db_node.id)
    await fault(await harness.request('PUT', path), 409)


async def test_indicators(harness):
    node = await api.create_node(harness)
    base = f'/v1/nodes/{node["uuid"]}/management/indicators'
    body = await ok(await harness.request('GET', base))
    by_name = {i['name']: i for i in body['indicators']}
    assert set(by_name) == {'led-0@chassis', 'led@system'}
    assert by_name['led@system']['component'] == 'system'
    assert by_name['led@system']['readonly'] is False
    assert by_name['led@system']['states'] == ['BLINKING', 'ON', 'OFF']
    assert by_name['led@system']['links'][0]['href'].endswith(f'{base}/led@system')
    assert await ok(await harness.request('GET', f'{base}/led@system')) == {'state': 'OFF'}
    resp = await harness.request('PUT', f'{base}/led@system', json={'state': 'BLINKING'})
    assert resp.status == 204, await resp.text()
    assert await ok(await harness.request('GET', f'{base}/led@system')) == {
        'state': 'BLINKING'}
    # read-only, unknown state, unknown indicator, malformed name, bad body: 400
    await fault(await harness.request('PUT', f'{base}/led-0@chassis', json={'state': 'ON'}),
                400)
    await fault(await harness.request('PUT', f'{base}/led@system', json={'state': 'PINK'}),
                400)
    await fault(await harness.request('GET', f'{base}/led@nowhere'), 400)
    await fault(await harness.request('GET', f'{base}/no-component'), 400)
    await fault(await harness.request('PUT', f'{base}/led@system', json={}), 400)
    await fault(await harness.request('PUT', f'{base}/led@system',
                                      json={'state': 'ON', 'x': 1}), 400)
    # upstream's IndicatorController checks no microversion (1.63 only documents it): the
    # indicators are served at older versions too
    listed = await ok(await harness.request('GET', base, headers=ver('1.62')))
    assert listed['indicators']
    assert await ok(await harness.request('GET', f'{base}/led@system', headers=ver('1.1')))


async def test_rescue_and_unrescue(harness):
    node = await api.active_node(harness)
    assert node['rescue_interface'] == 'fake'
    resp = await api.provision(harness, node['uuid'], 'rescue', rescue_password='s3cret')
    assert resp.status == 202, await resp.text()
    await harness.drain()
    rescued = await api.get_node(harness, node['uuid'])
    assert rescued['provision_state'] == 'rescue', rescued
    assert rescued['instance_info'].get('rescue_password') == '******'
    db_node = await harness.db.get_node(node['uuid'])
    assert db_node.instance_info['rescue_password'] == 's3cret'
    back = await api.move(harness, node['uuid'], 'unrescue', 'active')
    assert 'rescue_password' not in back['instance_info']


async def test_rescue_failure_and_no_rescue(harness):
    node = await api.active_node(harness, driver_info={'fake_rescue_fail': True})
    await api.move(harness, node['uuid'], 'rescue', 'rescue failed', rescue_password='x')
    failed = await api.get_node(harness, node['uuid'])
    assert 'Rescue' in failed['last_error'] and failed['reservation'] is None
    other = await api.active_node(harness, rescue_interface='no-rescue')
    await api.move(harness, other['uuid'], 'rescue', 'active', rescue_password='x')
    refused = await api.get_node(harness, other['uuid'])
    assert 'rescue' in refused['last_error'] and refused['target_provision_state'] is None


async def test_validate_shows_new_interfaces(harness):
    node = await api.create_node(harness, console_interface='no-console',
                                 network_interface='flat')
    body = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    assert body['console']['result'] is False and 'console' in body['console']['reason']
    assert body['network'] == {'result': True}
    assert body['rescue'] == {'result': True}


async def test_target_raid_config(harness):
    node = await api.create_node(harness, raid_interface='fake')
    path = f'/v1/nodes/{node["uuid"]}/states/raid'
    config = {'logical_disks': [{'size_gb': 100, 'raid_level': '1', 'is_root_volume': True},
                                {'size_gb': 'MAX', 'raid_level': '5'}]}
    resp = await harness.request('PUT', path, json=config)
    assert resp.status == 204, await resp.text()
    states = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/states'))
    assert states['target_raid_config'] == config
    for bad in ({'logical_disks': [{'size_gb': 0, 'raid_level': '1'}]},
                {'logical_disks': [{'size_gb': 10, 'raid_level': '7'}]}):
        await fault(await harness.request('PUT', path, json=bad), 400)
    await fault(await harness.request('PUT', path, json=config, headers=ver('1.11')), 406)
    # a node without RAID support: 404 as upstream
    plain = await api.create_node(harness, raid_interface='no-raid')
    await fault(await harness.request('PUT', f'/v1/nodes/{plain["uuid"]}/states/raid',
                                      json=config), 404)
