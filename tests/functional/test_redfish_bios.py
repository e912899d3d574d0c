"""Issue 12: the ``redfish`` BIOS interface through the public API: manual cleaning runs
``bios.apply_configuration`` / ``bios.factory_reset`` against sushy-tools' emulator (fake
systems given factory BIOS attributes), and ``GET /v1/nodes/{node}/bios`` shows what the BMC
reads back. Nothing is mocked.
"""
from __future__ import annotations

import pytest

from ironic_lite.drivers.modules.redfish import utils as redfish_utils
from ironic_lite.testing.harness import Harness
from ironic_lite.testing.redfish import RedfishEmulator, fake_system
from tests.functional import api_helpers as api
from tests.functional.api_helpers import ok

FACTORY = {'BootMode': 'Uefi', 'ProcTurboMode': 'Enabled', 'NumaEnabled': 'True'}


@pytest.fixture(scope='module')
def bmc(tmp_path_factory):
    with_bios = fake_system(0)
    with_bios['bios'] = FACTORY
    with RedfishEmulator(str(tmp_path_factory.mktemp('redfish_bios')),
                         systems=[with_bios, fake_system(1)]) as emulator:
        yield emulator


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url, **{
        'enabled_hardware_types': ['redfish'],
        'enabled_power_interfaces': ['redfish'], 'enabled_management_interfaces': ['redfish'],
        'enabled_boot_interfaces': ['fake'], 'enabled_deploy_interfaces': ['fake'],
        'enabled_bios_interfaces': ['redfish', 'no-bios'],
        'conductor.node_locked_retry_interval': 0.01,
        'conductor.power_state_change_timeout': 10,
        'redfish.connection_attempts': 2, 'redfish.connection_retry_interval': 0.1,
        'redfish.connect_timeout': 2}).start()
    try:
        yield harness
    finally:
        await harness.stop()
        redfish_utils.shutdown()


async def manageable_node(h, bmc, index: int) -> dict:
    node = await api.create_node(h, driver='redfish',
                                 driver_info=bmc.driver_info(bmc.systems[index]))
    assert node['bios_interface'] == 'redfish'   # the hardware type's first enabled
    return await api.move(h, node['uuid'], 'manage', 'manageable')


async def bios(h, uuid: str) -> dict:
    listed = await ok(await h.request('GET', f'/v1/nodes/{uuid}/bios'))
    return {s['name']: s['value'] for s in listed['bios']}


async def clean(h, uuid: str, expected: str, step: str, **args) -> dict:
    return await api.move(h, uuid, 'clean', expected,
                          clean_steps=[{'interface': 'bios', 'step': step, 'args': args}])


async def test_apply_configuration_then_factory_reset(h, bmc):
    system = bmc.systems[0]
    uuid = (await manageable_node(h, bmc, 0))['uuid']
    assert await bios(h, uuid) == FACTORY   # cached when the node was verified
    node = await clean(h, uuid, 'manageable', 'apply_configuration', settings=[
        {'name': 'ProcTurboMode', 'value': 'Disabled'}, {'name': 'NumaEnabled', 'value': False}])
    assert node['last_error'] is None, node
    assert node['power_state'] == 'power on' and bmc.power_state(system) == 'On'  # rebooted
    assert await bios(h, uuid) == {**FACTORY, 'ProcTurboMode': 'Disabled',
                                   'NumaEnabled': 'False'}

    node = await clean(h, uuid, 'manageable', 'factory_reset')
    assert node['last_error'] is None, node
    assert await bios(h, uuid) == FACTORY


async def test_bmc_without_bios_fails_the_clean_step(h, bmc):
    uuid = (await manageable_node(h, bmc, 1))['uuid']   # verified all the same
    node = await clean(h, uuid, 'clean failed', 'apply_configuration',
                       settings=[{'name': 'ProcTurboMode', 'value': 'Disabled'}])
    assert 'apply BIOS settings' in node['last_error'], node['last_error']
    assert await bios(h, uuid) == {}
