"""Issue 12: ``redfish`` nodes end to end: API -> RPC -> conductor -> redfish interfaces (sushy)
-> sushy-tools' emulator (fake systems) over real HTTP on loopback. Nothing is mocked.

One emulator over http without authentication and one over https (a self-signed certificate
made here, ``redfish_verify_ca`` its path) with basic auth serve every test of the module.
"""
from __future__ import annotations

import pytest

from ironic_lite.drivers.modules.redfish import utils as redfish_utils
from ironic_lite.testing import services
from ironic_lite.testing.harness import Harness
from ironic_lite.testing.redfish import RedfishEmulator
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok

PASSWORD = 's3cret'


@pytest.fixture(scope='module')
def bmc(tmp_path_factory):
    with RedfishEmulator(str(tmp_path_factory.mktemp('redfish')), count=8) as emulator:
        yield emulator


@pytest.fixture(scope='module')
def secure_bmc(tmp_path_factory):
    with RedfishEmulator(str(tmp_path_factory.mktemp('redfish_tls')), count=2, https=True,
                         password=PASSWORD) as emulator:
        yield emulator


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url, **{
        'enabled_hardware_types': ['fake-hardware', 'redfish'],
        'enabled_power_interfaces': ['fake', 'redfish'],
        'enabled_management_interfaces': ['fake', 'redfish'],
        'enabled_boot_interfaces': ['fake'], 'enabled_deploy_interfaces': ['fake'],
        'conductor.node_locked_retry_interval': 0.01,
        'conductor.power_state_change_timeout': 10,
        'redfish.connection_attempts': 2, 'redfish.connection_retry_interval': 0.1,
        'redfish.connect_timeout': 2}).start()
    try:
        yield harness
    finally:
        await harness.stop()
        redfish_utils.shutdown()


async def redfish_node(h, driver_info: dict, **fields) -> dict:
    return await api.create_node(h, driver='redfish', driver_info=driver_info, **fields)


async def set_power(h, uuid: str, target: str, **body) -> dict:
    resp = await h.request('PUT', f'/v1/nodes/{uuid}/states/power',
                           json={'target': target, **body})
    assert resp.status == 202, await resp.text()
    await h.drain()
    return await api.get_node(h, uuid)


async def test_enroll_validate_manage_and_power_actions(h, bmc):
    system = bmc.systems[0]
    node = await redfish_node(h, bmc.driver_info(system))
    assert (node['power_interface'], node['management_interface']) == ('redfish', 'redfish')
    uuid = node['uuid']
    validation = await ok(await h.request('GET', f'/v1/nodes/{uuid}/validate'))
    assert validation['power'] == {'result': True}, validation
    assert validation['management']['result'] is True, validation

    node = await api.move(h, uuid, 'manage', 'manageable')   # reads the power state
    assert node['power_state'] == 'power off' and node['last_error'] is None

    node = await set_power(h, uuid, 'power on')
    assert node['power_state'] == 'power on' and node['last_error'] is None
    assert bmc.power_state(system) == 'On'
    node = await set_power(h, uuid, 'rebooting')
    assert node['power_state'] == 'power on' and node['last_error'] is None
    node = await set_power(h, uuid, 'soft rebooting')
    assert node['power_state'] == 'power on' and node['last_error'] is None
    node = await set_power(h, uuid, 'soft power off')
    assert node['power_state'] == 'power off' and bmc.power_state(system) == 'Off'
    node = await set_power(h, uuid, 'power on', timeout=5)
    node = await set_power(h, uuid, 'power off')
    assert node['power_state'] == 'power off' and node['last_error'] is None
    assert bmc.power_state(system) == 'Off'


async def test_boot_device_indicators_and_nmi(h, bmc):
    system = bmc.systems[1]
    node = await redfish_node(h, bmc.driver_info(system))
    base = f'/v1/nodes/{node["uuid"]}/management'
    supported = await ok(await h.request('GET', f'{base}/boot_device/supported'))
    assert set(supported['supported_boot_devices']) >= {'pxe', 'disk', 'cdrom'}
    for device, redfish_target in (('pxe', 'Pxe'), ('cdrom', 'Cd'), ('disk', 'Hdd')):
        resp = await h.request('PUT', f'{base}/boot_device',
                               json={'boot_device': device, 'persistent': True})
        assert resp.status == 204, await resp.text()
        assert bmc.system(system)['Boot']['BootSourceOverrideTarget'] == redfish_target
        shown = await ok(await h.request('GET', f'{base}/boot_device'))
        assert shown['boot_device'] == device
    resp = await h.request('PUT', f'{base}/boot_device', json={'boot_device': 'wanboot'})
    inner = await fault(resp, 400)
    assert 'wanboot' in inner['faultstring']

    indicators = await ok(await h.request('GET', f'{base}/indicators'))
    assert [i['name'] for i in indicators['indicators']] == ['led@system'], indicators
    resp = await h.request('PUT', f'{base}/indicators/led@system', json={'state': 'BLINKING'})
    assert resp.status == 204, await resp.text()
    assert bmc.system(system)['IndicatorLED'] == 'Blinking'
    state = await ok(await h.request('GET', f'{base}/indicators/led@system'))
    assert state == {'state': 'BLINKING'}

    # the emulator's fake systems refuse NMI: the BMC's answer, in Ironic's error body
    resp = await h.request('PUT', f'{base}/inject_nmi')
    inner = await fault(resp, resp.status)
    assert 'inject NMI' in inner['faultstring'] and bmc.url in inner['faultstring'], inner


async def test_https_with_basic_auth_and_the_password_masked(h, secure_bmc):
    system = secure_bmc.systems[0]
    node = await redfish_node(h, secure_bmc.driver_info(system))
    assert node['driver_info']['redfish_password'] == '******'
    assert node['driver_info']['redfish_verify_ca'] == secure_bmc.cafile
    node = await api.move(h, node['uuid'], 'manage', 'manageable')
    node = await set_power(h, node['uuid'], 'power on')
    assert node['power_state'] == 'power on' and node['last_error'] is None
    assert secure_bmc.power_state(system) == 'On'


async def test_certificate_not_trusted_is_a_clear_error(h, secure_bmc):
    node = await redfish_node(h, secure_bmc.driver_info(secure_bmc.systems[1],
                                                        redfish_verify_ca=True))
    resp = await api.provision(h, node['uuid'], 'manage')
    assert resp.status == 202
    await h.drain()
    node = await api.get_node(h, node['uuid'])
    assert node['provision_state'] == 'enroll', node
    assert 'CERTIFICATE_VERIFY_FAILED' in node['last_error'], node['last_error']
    # trusting it (redfish_verify_ca=false) works
    resp = await h.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=[
        {'op': 'replace', 'path': '/driver_info/redfish_verify_ca', 'value': 'false'}])
    assert resp.status == 200, await resp.text()
    await api.move(h, node['uuid'], 'manage', 'manageable')


@pytest.mark.parametrize('case', ['wrong password', 'unreachable BMC', 'unknown system'])
async def test_bmc_failures_give_a_clear_last_error(h, secure_bmc, case):
    system = secure_bmc.systems[1]
    info = {
        'wrong password': secure_bmc.driver_info(system, redfish_password='wrong'),
        'unreachable BMC': secure_bmc.driver_info(
            system, redfish_address=f'https://127.0.0.1:{services.free_port()}'),
        'unknown system': secure_bmc.driver_info(
            system, redfish_system_id='/redfish/v1/Systems/no-such-system'),
    }[case]
    expected = {'wrong password': 'access denied (check redfish_username and '
                                  'redfish_password)',
                'unreachable BMC': 'the BMC is unreachable (after 2 attempt(s))',
                'unknown system': 'the system /redfish/v1/Systems/no-such-system does not '
                                  'exist on the BMC'}[case]
    node = await redfish_node(h, info)
    validation = await ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    assert validation['power']['result'] is True   # well-formed; the BMC decides
    resp = await api.provision(h, node['uuid'], 'manage')
    assert resp.status == 202
    await h.drain()
    node = await api.get_node(h, node['uuid'])
    assert node['provision_state'] == 'enroll' and node['reservation'] is None, node
    assert expected in node['last_error'], node['last_error']
    assert info['redfish_address'] in node['last_error']
    assert 'Traceback' not in node['last_error']

    node = await set_power(h, node['uuid'], 'power on')
    assert node['target_power_state'] is None and node['reservation'] is None
    assert expected in node['last_error'] and 'power on' in node['last_error'], node


@pytest.mark.parametrize('driver_info, message', [
    ({}, 'Missing the following Redfish properties in node {uuid}\'s driver_info: '
         'redfish_address.'),
    ({'redfish_address': 'ftp://bmc'}, "Invalid redfish_address 'ftp://bmc'"),
    ({'redfish_address': 'http://bmc:99999'}, 'the port must be an integer'),
    ({'redfish_address': 'bmc', 'redfish_system_id': 'Systems/1'},
     "Invalid redfish_system_id 'Systems/1'"),
    ({'redfish_address': 'bmc', 'redfish_verify_ca': '/no/such/ca.pem'},
     "Invalid redfish_verify_ca '/no/such/ca.pem'"),
    ({'redfish_address': 'bmc', 'redfish_auth_type': 'digest'},
     "Invalid redfish_auth_type 'digest' in node {uuid}'s driver_info: must be one of "
     'basic, session, auto.'),
])
async def test_validate_names_what_is_missing_or_wrong(h, driver_info, message):
    node = await redfish_node(h, driver_info)
    validation = await ok(await h.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    expected = message.format(uuid=node['uuid'])
    for iface in ('power', 'management'):
        assert validation[iface]['result'] is False
        assert expected in validation[iface]['reason'], validation[iface]
    # manage refuses it before anything is sent to a BMC
    resp = await api.provision(h, node['uuid'], 'manage')
    if resp.status == 400:
        assert expected in (await fault(resp, 400))['faultstring']
    else:
        await h.drain()
        node = await api.get_node(h, node['uuid'])
        assert node['provision_state'] == 'enroll' and expected in node['last_error']


async def test_power_sync_forces_the_recorded_state_back_then_maintenance(h, bmc):
    system = bmc.systems[2]
    node = await redfish_node(h, bmc.driver_info(system))
    await api.move(h, node['uuid'], 'manage', 'manageable')
    bmc.set_power(system, 'On')                  # somebody pressed the power button
    result = await h.service.power_sync.run_once()
    assert (result.checked, result.repaired) == (1, 1), result
    assert bmc.power_state(system) == 'Off'
    node = await api.get_node(h, node['uuid'])
    assert node['power_state'] == 'power off' and not node['maintenance']

    # the BMC goes away: after power_state_sync_max_retries failures, maintenance
    h.fixture.config(power_state_sync_max_retries=2, group='conductor')
    resp = await h.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=[
        {'op': 'replace', 'path': '/driver_info/redfish_address',
         'value': f'http://127.0.0.1:{services.free_port()}'}])
    assert resp.status == 200, await resp.text()
    assert (await h.service.power_sync.run_once()).failed == 1
    assert (await h.service.power_sync.run_once()).to_maintenance == 1
    node = await api.get_node(h, node['uuid'])
    assert node['maintenance'] and node['fault'] == 'power failure'
    assert 'the BMC is unreachable' in node['maintenance_reason'], node
