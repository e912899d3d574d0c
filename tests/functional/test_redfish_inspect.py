"""Issue 12: out-of-band inspection of ``redfish`` nodes through the public API: API -> RPC ->
conductor -> redfish inspect interface (sushy) -> sushy-tools' emulator, whose fake systems
report processors, memory and disks (``fake_system(hardware=...)``). Nothing is mocked.
"""
from __future__ import annotations

import pytest

from ironic_lite.drivers.modules.redfish import utils as redfish_utils
from ironic_lite.testing.harness import Harness
from ironic_lite.testing.redfish import RedfishEmulator, fake_system
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok

HARDWARE = {'sockets': 2, 'threads_per_cpu': 4, 'memory_gib': 16,
            # the 2 GiB device is below upstream's 4 GiB floor; the smallest usable one counts
            'disks_gib': [100, 2, 40]}


def _systems() -> list[dict]:
    full = fake_system(0, hardware=HARDWARE)
    full['nics'].append({'mac': '52:54:00:AA:BB:01', 'ip': '192.0.2.2'})
    diskless = fake_system(1, hardware={**HARDWARE, 'disks_gib': []})
    bare = fake_system(2)   # the stock fake driver: NICs only, no CPU or memory reported
    return [full, diskless, bare]


@pytest.fixture(scope='module')
def bmc(tmp_path_factory):
    with RedfishEmulator(str(tmp_path_factory.mktemp('redfish_inspect')),
                         systems=_systems()) as emulator:
        yield emulator


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url, **{
        'enabled_hardware_types': ['redfish'],
        'enabled_power_interfaces': ['redfish'], 'enabled_management_interfaces': ['redfish'],
        'enabled_boot_interfaces': ['fake'], 'enabled_deploy_interfaces': ['fake'],
        'enabled_inspect_interfaces': ['redfish', 'no-inspect'],
        'conductor.node_locked_retry_interval': 0.01,
        'redfish.connection_attempts': 2, 'redfish.connection_retry_interval': 0.1,
        'redfish.connect_timeout': 2}).start()
    try:
        yield harness
    finally:
        await harness.stop()
        redfish_utils.shutdown()


async def manageable_node(h, bmc, index: int, **fields) -> dict:
    node = await api.create_node(h, driver='redfish',
                                 driver_info=bmc.driver_info(bmc.systems[index]), **fields)
    assert node['inspect_interface'] == 'redfish'   # the hardware type's first enabled
    return await api.move(h, node['uuid'], 'manage', 'manageable')


async def node_ports(h, uuid: str) -> list[dict]:
    body = await ok(await h.request('GET', f'/v1/ports?node={uuid}&fields=address,pxe_enabled',
                                    headers=api.ver('1.19')))
    return sorted(body['ports'], key=lambda p: p['address'])


async def test_inspection_fills_properties_and_creates_ports(h, bmc):
    node = await manageable_node(h, bmc, 0, properties={'capabilities': 'foo:bar'})
    uuid = node['uuid']
    # a port the operator already made for the first NIC is kept as it is
    await ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': uuid, 'address': '52:54:00:00:00:00', 'pxe_enabled': False},
        headers=api.ver('1.19')), 201)

    node = await api.move(h, uuid, 'inspect', 'manageable')
    assert node['last_error'] is None
    props = node['properties']
    assert props['cpus'] == 8 and props['cpu_arch'] == 'x86_64'
    assert props['memory_mb'] == str(16 * 1024)
    assert props['local_gb'] == '39'   # the smallest disk of at least 4 GiB, minus 1
    assert props['capabilities'] == 'foo:bar,boot_mode:uefi'
    assert await node_ports(h, uuid) == [
        {'address': '52:54:00:00:00:00', 'pxe_enabled': False},
        {'address': '52:54:00:aa:bb:01', 'pxe_enabled': True}]

    # again: nothing duplicated, the operator's boot mode is never overridden
    await api.patch_node(h, uuid, api.patch_op('replace', '/properties/capabilities',
                                               'boot_mode:bios'))
    node = await api.move(h, uuid, 'inspect', 'manageable')
    assert node['properties']['capabilities'] == 'boot_mode:bios'
    assert len(await node_ports(h, uuid)) == 2


async def test_diskless_system_gets_local_gb_zero(h, bmc):
    node = await manageable_node(h, bmc, 1)
    node = await api.move(h, node['uuid'], 'inspect', 'manageable')
    assert node['properties']['local_gb'] == '0' and node['properties']['cpus'] == 8


async def test_missing_essentials_fail_with_a_clear_error(h, bmc):
    node = await manageable_node(h, bmc, 2)
    node = await api.move(h, node['uuid'], 'inspect', 'inspect failed')
    assert node['last_error'].startswith('Failed to inspect hardware. Reason: ')
    assert 'did not report cpus, cpu_arch, memory_mb' in node['last_error'], node['last_error']
    assert await node_ports(h, node['uuid']) == []   # nothing half-written
    # inspect failed -> manage -> manageable, as upstream
    await api.move(h, node['uuid'], 'manage', 'manageable')


async def test_unreachable_bmc_fails_inspection(h, bmc):
    node = await manageable_node(h, bmc, 0)
    await api.patch_node(h, node['uuid'], api.patch_op(
        'replace', '/driver_info/redfish_system_id', '/redfish/v1/Systems/missing'))
    node = await api.move(h, node['uuid'], 'inspect', 'inspect failed')
    assert 'does not exist on the BMC' in node['last_error'], node['last_error']


async def test_no_inspect_node_is_refused(h, bmc):
    node = await manageable_node(h, bmc, 0)
    await api.patch_node(h, node['uuid'], api.patch_op('replace', '/inspect_interface',
                                                       'no-inspect'))
    await fault(await api.provision(h, node['uuid'], 'inspect'), 400)


async def test_a_mac_known_on_another_node_is_left_there(h, bmc):
    other = await api.create_node(h, driver='redfish', driver_info=bmc.driver_info('elsewhere'))
    await ok(await h.request('POST', '/v1/ports', json={
        'node_uuid': other['uuid'], 'address': '52:54:00:aa:bb:01'},
        headers=api.ver('1.19')), 201)
    node = await manageable_node(h, bmc, 0)
    node = await api.move(h, node['uuid'], 'inspect', 'manageable')
    assert node['last_error'] is None
    assert [p['address'] for p in await node_ports(h, node['uuid'])] == ['52:54:00:00:00:00']
    assert [p['address'] for p in await node_ports(h, other['uuid'])] == ['52:54:00:aa:bb:01']
