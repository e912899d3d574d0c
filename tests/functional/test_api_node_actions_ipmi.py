"""Node actions of an ``ipmi`` node end to end: API -> RPC -> conductor -> ipmitool interfaces
(pyghmi) -> the shipped fake BMC on loopback. Nothing is mocked."""
import pytest

from ironic_lite.conf import CONF
from ironic_lite.drivers.modules import ipmi_client
from ironic_lite.testing.harness import Harness
from ironic_lite.tools.fakebmc import FakeBmcFleet
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok


@pytest.fixture
def bmc():
    with FakeBmcFleet(ports=[0]) as fleet:
        yield fleet
    ipmi_client.shutdown()   # the driver's pyghmi thread; it restarts on next use


@pytest.fixture
async def ipmi_harness(sqlite_url):
    h = await Harness(sqlite_url, **{
        'enabled_hardware_types': ['fake-hardware', 'ipmi'],
        'enabled_power_interfaces': ['fake', 'ipmitool'],
        'enabled_management_interfaces': ['fake', 'ipmitool'],
        'enabled_boot_interfaces': ['fake'], 'enabled_deploy_interfaces': ['fake'],
        'ipmi.min_command_interval': 0.01, 'ipmi.command_retry_timeout': 10,
        'conductor.node_locked_retry_interval': 0.01}).start()
    try:
        yield h
    finally:
        await h.stop()
        CONF.clear_override('min_command_interval', group='ipmi')


async def test_boot_device_nmi_and_console_of_an_ipmi_node(ipmi_harness, bmc):
    h = ipmi_harness
    port = bmc.ports[0]
    node = await api.create_node(h, driver='ipmi', driver_info={
        'ipmi_address': '127.0.0.1', 'ipmi_port': port, 'ipmi_username': 'admin',
        'ipmi_password': 'password'})
    assert node['console_interface'] == 'no-console'
    assert node['management_interface'] == 'ipmitool'
    base = f'/v1/nodes/{node["uuid"]}'
    resp = await h.request('PUT', f'{base}/management/boot_device',
                           json={'boot_device': 'pxe', 'persistent': True})
    assert resp.status == 204, await resp.text()
    assert await ok(await h.request('GET', f'{base}/management/boot_device')) == {
        'boot_device': 'pxe', 'persistent': True}
    assert (bmc.state(port)['boot_device'], bmc.state(port)['persistent']) == ('network', True)
    # NMI to a powered-off machine fails in the BMC; after power on it is delivered
    resp = await h.request('PUT', f'{base}/management/inject_nmi')
    inner = await fault(resp, resp.status)   # the BMC's refusal, in Ironic's error body
    assert resp.status >= 400 and 'NMI' in inner['faultstring'], inner
    assert (await h.request('PUT', f'{base}/states/power', json={'target': 'power on'})) \
        .status == 202
    await h.drain()
    resp = await h.request('PUT', f'{base}/management/inject_nmi')
    assert resp.status == 204, await resp.text()
    assert bmc.state(port)['nmi'] == 1
    # no console, no indicators on ipmitool here: 400, never a 500
    await fault(await h.request('PUT', f'{base}/states/console', json={'enabled': True}), 400)
    await fault(await h.request('GET', f'{base}/management/indicators'), 400)
