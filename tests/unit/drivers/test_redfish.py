"""The redfish interfaces' driver_info parsing, connection cache, boot mode and secure boot;
the last three against sushy-tools' emulator (a real HTTP server on loopback)."""
from __future__ import annotations

import types

import pytest
from oslo_config import fixture as config_fixture

from ironic_lite.common import exception
from ironic_lite.conf import CONF
from ironic_lite.drivers.modules.redfish import boot, management, power
from ironic_lite.drivers.modules.redfish import utils as redfish_utils
from ironic_lite.testing.redfish import RedfishEmulator


def node(**driver_info) -> types.SimpleNamespace:
    return types.SimpleNamespace(uuid='node-1', driver_info=driver_info)


def task(**driver_info) -> types.SimpleNamespace:
    return types.SimpleNamespace(node=node(**driver_info))


@pytest.mark.parametrize('address, expected', [
    ('bmc.example.com', 'https://bmc.example.com'),
    ('http://10.0.0.5', 'http://10.0.0.5'),
    ('https://10.0.0.5:8443/', 'https://10.0.0.5:8443'),
    ('[2001:db8::5]:8000', 'https://[2001:db8::5]:8000'),
])
def test_address_with_or_without_scheme_and_port(address, expected):
    assert redfish_utils.parse_driver_info(node(redfish_address=address)).address == expected


def test_defaults_and_the_password_never_in_repr():
    info = redfish_utils.parse_driver_info(node(
        redfish_address='bmc', redfish_username='admin', redfish_password='pw',
        redfish_system_id='/redfish/v1/Systems/a b'))
    assert (info.verify_ca, info.auth_type) == (True, CONF.redfish.auth_type)
    assert info.system_id == '/redfish/v1/Systems/a%20b'     # quoted, as upstream
    assert 'pw' not in repr(info)


@pytest.mark.parametrize('value, expected', [
    ('false', False), ('True', True), (False, False), ('/', '/')])
def test_verify_ca_is_a_boolean_or_a_path(value, expected):
    info = redfish_utils.parse_driver_info(node(redfish_address='bmc',
                                                redfish_verify_ca=value))
    assert info.verify_ca == expected


@pytest.mark.parametrize('info, message', [
    ({'redfish_address': 'bmc', 'redfish_verify_ca': 3}, 'redfish_verify_ca'),
    ({'redfish_address': 'bmc', 'redfish_username': 5}, 'redfish_username'),
    ({'redfish_address': 'bmc', 'redfish_password': 5}, 'redfish_password'),
    ({'redfish_address': 'http://'}, 'redfish_address'),
])
def test_invalid_values_are_named(info, message):
    with pytest.raises(exception.InvalidParameterValue, match=message):
        redfish_utils.parse_driver_info(node(**info))


@pytest.fixture(scope='module')
def bmc(tmp_path_factory):
    with RedfishEmulator(str(tmp_path_factory.mktemp('redfish')), count=2,
                         password='pw') as emulator:
        yield emulator
    redfish_utils.shutdown()


async def test_boot_mode_and_secure_boot(bmc):
    t = task(**bmc.driver_info(bmc.systems[0]))
    iface = management.RedfishManagement()
    assert await iface.get_boot_mode(t) == 'uefi'          # the emulator's default
    await iface.set_boot_mode(t, 'bios')
    assert bmc.system(bmc.systems[0])['Boot']['BootSourceOverrideMode'] == 'Legacy'
    assert await iface.get_boot_mode(t) == 'bios'
    await iface.set_boot_mode(t, 'uefi')
    assert await iface.get_boot_mode(t) == 'uefi'
    with pytest.raises(exception.InvalidParameterValue, match='Invalid boot mode'):
        await iface.set_boot_mode(t, 'legacy')
    assert await iface.get_secure_boot_state(t) is False
    await iface.set_secure_boot_state(t, True)
    assert await iface.get_secure_boot_state(t) is True


async def test_one_connection_per_bmc_and_credentials_dropped_after_a_failure(bmc):
    redfish_utils.shutdown()
    good = task(**bmc.driver_info(bmc.systems[1]))
    assert await power.get_power(redfish_utils.parse_driver_info(good.node)) in (
        'power on', 'power off')
    assert await power.get_power(redfish_utils.parse_driver_info(good.node))
    assert len(redfish_utils._connections) == 1                # reused
    bad = task(**bmc.driver_info(bmc.systems[1], redfish_password='wrong'))
    with pytest.raises(exception.RedfishError, match='access denied'):
        await power.get_power(redfish_utils.parse_driver_info(bad.node))
    assert len(redfish_utils._connections) == 1                # the failed one is not kept


@pytest.fixture
def conf(tmp_path):
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    fixture.config(http_url='http://127.0.0.1:8080', http_root=str(tmp_path), group='deploy')
    yield fixture
    fixture.cleanUp()


@pytest.mark.parametrize('mode, option', [('uefi', 'bootloader'), ('bios', 'isolinux_bin')])
async def test_virtual_media_validate_names_the_missing_boot_loader(conf, mode, option):
    conf.config(**{option: '/no/such/loader'}, group='redfish')
    t = task(redfish_address='bmc', deploy_kernel='http://k', deploy_ramdisk='http://r')
    t.node.properties = {'capabilities': f'boot_mode:{mode}'}
    t.node.instance_info = {}
    t.conf = CONF
    with pytest.raises(exception.MissingParameterValue,
                       match=rf'\[redfish\]{option} is missing \(/no/such/loader\)'):
        await boot.RedfishVirtualMediaBoot().validate(t)
