"""Issue 12 acceptance: what an operator types to enroll a Redfish server, with the real
``openstack baremetal`` CLI against the all-in-one ``ironic-lite`` daemon (subprocess, SQLite),
whose ``redfish`` nodes point at sushy-tools' emulator over https (a self-signed certificate
made here) with basic auth. Nothing in the Redfish path is mocked.
"""
from __future__ import annotations

import json

import pytest

from ironic_lite.testing.aio import AioDaemon
from ironic_lite.testing.redfish import RedfishEmulator

PASSWORD = 'p4ssw0rd'


class RedfishAio(AioDaemon):
    def __init__(self, workdir: str) -> None:
        super().__init__(workdir, {
            'DEFAULT': {'enabled_hardware_types': ['redfish'],
                        'enabled_power_interfaces': ['redfish'],
                        'enabled_management_interfaces': ['redfish'],
                        'enabled_boot_interfaces': ['fake'],
                        'enabled_deploy_interfaces': ['fake']},
            'conductor': {'power_state_change_timeout': 10},
            'redfish': {'connection_attempts': 1, 'connect_timeout': 2},
        })

    def cli_json(self, *args: str):
        return json.loads(self.cli(*args, '-f', 'json').stdout)


@pytest.fixture(scope='module')
def bmc(tmp_path_factory):
    with RedfishEmulator(str(tmp_path_factory.mktemp('redfish')), count=2, https=True,
                         password=PASSWORD) as emulator:
        yield emulator


@pytest.fixture(scope='module')
def aio(tmp_path_factory):
    daemon = RedfishAio(str(tmp_path_factory.mktemp('redfish_aio'))).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def enroll(aio: RedfishAio, bmc: RedfishEmulator, name: str, system: str,
           password: str = PASSWORD) -> dict:
    return aio.cli_json(
        'node', 'create', '--driver', 'redfish', '--name', name,
        '--driver-info', f'redfish_address={bmc.url}',
        '--driver-info', f'redfish_system_id=/redfish/v1/Systems/{system}',
        '--driver-info', 'redfish_username=admin',
        '--driver-info', f'redfish_password={password}',
        '--driver-info', f'redfish_verify_ca={bmc.cafile}')


def test_enroll_manage_power_boot_device_and_provide(aio, bmc):
    system = bmc.systems[0]
    node = enroll(aio, bmc, 'rf-1', system)
    assert node['driver_info']['redfish_password'] == '******'
    assert (node['power_interface'], node['management_interface']) == ('redfish', 'redfish')
    validation = {row['Interface']: row for row in aio.cli_json('node', 'validate', 'rf-1')}
    assert validation['power']['Result'] is True, validation
    assert validation['management']['Result'] is True, validation

    aio.cli('node', 'manage', 'rf-1', '--wait', '60')      # reads the power state
    assert aio.node('rf-1')['power_state'] == 'power off'

    aio.cli('node', 'power', 'on', 'rf-1', '--power-timeout', '10')
    aio.wait_node('rf-1', lambda n: n['power_state'] == 'power on'
                  and n['target_power_state'] is None, 'power on')
    assert bmc.power_state(system) == 'On'
    aio.cli('node', 'reboot', 'rf-1')
    node = aio.wait_node('rf-1', lambda n: n['target_power_state'] is None, 'rebooted')
    assert node['power_state'] == 'power on' and node['last_error'] is None

    aio.cli('node', 'boot', 'device', 'set', 'rf-1', 'pxe', '--persistent')
    assert bmc.system(system)['Boot']['BootSourceOverrideTarget'] == 'Pxe'
    shown = aio.cli_json('node', 'boot', 'device', 'show', 'rf-1')
    assert shown['boot_device'] == 'pxe'
    supported = aio.cli_json('node', 'boot', 'device', 'show', 'rf-1', '--supported')
    assert 'cdrom' in supported['supported_boot_devices']

    aio.cli('node', 'power', 'off', 'rf-1')
    aio.wait_node('rf-1', lambda n: n['power_state'] == 'power off'
                  and n['target_power_state'] is None, 'power off')
    assert bmc.power_state(system) == 'Off'
    aio.cli('node', 'provide', 'rf-1', '--wait', '60')
    assert aio.node('rf-1')['provision_state'] == 'available'


def test_wrong_password_is_a_clear_last_error(aio, bmc):
    enroll(aio, bmc, 'rf-badpw', bmc.systems[1], password='wrong')
    aio.cli('node', 'manage', 'rf-badpw', check=False)
    node = aio.wait_node('rf-badpw', lambda n: n['provision_state'] == 'enroll'
                         and n['target_provision_state'] is None and n['last_error'],
                         'failed verification')
    assert f'Redfish call to {bmc.url} failed: get power state: access denied' in \
        node['last_error'], node['last_error']


def test_validate_names_the_missing_address(aio):
    aio.cli_json('node', 'create', '--driver', 'redfish', '--name', 'rf-noaddr')
    validation = {row['Interface']: row for row in
                  aio.cli_json('node', 'validate', 'rf-noaddr')}
    assert validation['power']['Result'] is False
    assert 'redfish_address' in validation['power']['Reason'], validation
