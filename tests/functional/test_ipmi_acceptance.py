"""Issue 3 acceptance for the ``ipmi`` hardware type, through the real HTTP API and CLI.

The all-in-one ``ironic-lite`` daemon runs as a subprocess (SQLite, in-process RPC) with the
``ipmitool`` power and management interfaces; its nodes point at fake BMCs served by
:class:`ironic_lite.tools.fakebmc.FakeBmcFleet` in this process (pyghmi's BMC server, real UDP
on loopback, kernel-chosen ports). The test drives the daemon with the real ``openstack
baremetal`` CLI (``auth_type none``) and plain HTTP, and reads the machines' power state and
boot device from the fleet. Nothing in the IPMI path is mocked; waits poll with a deadline.
"""
from __future__ import annotations

import json
import os

import pytest
import requests

from ironic_lite.common import image_cache
from ironic_lite.testing import processes
from ironic_lite.testing.aio import HEADERS, AioDaemon
from ironic_lite.tools.fakebmc import FakeBmcFleet

USER, PASSWORD = 'admin', 's3cret'
MAX_RETRIES = 2   # [conductor]power_state_sync_max_retries of the daemon


class IpmiAio(AioDaemon):
    """``ironic-lite`` with ipmi nodes, PXE boot and the fake deploy enabled."""

    def __init__(self, workdir: str, force_sync: bool) -> None:
        super().__init__(workdir, {
            'DEFAULT': {'enabled_boot_interfaces': ['pxe', 'fake'],
                        'enabled_deploy_interfaces': ['fake'],
                        'enabled_vendor_interfaces': ['fake', 'no-vendor']},
            'conductor': {'sync_power_state_interval': 1,
                          'force_power_state_during_sync': force_sync,
                          'power_state_sync_max_retries': MAX_RETRIES,
                          'power_state_change_timeout': 10},
            'ipmi': {'command_retry_timeout': 2},
        })

    def cli_json(self, *args: str):
        return json.loads(self.cli(*args, '-f', 'json').stdout)

    def wait_power(self, ident: str, state: str) -> dict:
        return self.wait_node(ident, lambda n: n['power_state'] == state
                              and n['target_power_state'] is None, f'power state {state}')

    def create_ipmi_node(self, name: str, bmc_port: int, password: str = PASSWORD,
                         *extra: str) -> dict:
        return self.cli_json(
            'node', 'create', '--driver', 'ipmi', '--name', name,
            '--driver-info', 'ipmi_address=127.0.0.1', '--driver-info', f'ipmi_port={bmc_port}',
            '--driver-info', f'ipmi_username={USER}', '--driver-info', f'ipmi_password={password}',
            *extra)

    def managed_node(self, name: str, bmc_port: int, *extra: str) -> dict:
        self.create_ipmi_node(name, bmc_port, PASSWORD, *extra)
        self.cli('node', 'manage', name, '--wait', '60')
        return self.wait_node(name, lambda n: n['provision_state'] == 'manageable',
                              'manageable')


@pytest.fixture(scope='module')
def fleet():
    with FakeBmcFleet(ports=[0] * 6, user=USER, password=PASSWORD) as f:
        yield f


@pytest.fixture(scope='module')
def aio(tmp_path_factory):
    daemon = IpmiAio(str(tmp_path_factory.mktemp('ipmi_aio')), force_sync=True).start()
    try:
        yield daemon
    finally:
        daemon.stop()


def test_validate_and_power_actions_change_the_bmc(aio, fleet):
    port = fleet.ports[0]
    node = aio.create_ipmi_node('ipmi-power', port)
    assert node['driver_info']['ipmi_password'] == '******'
    validation = {row['Interface']: row for row in
                  aio.cli_json('node', 'validate', 'ipmi-power')}
    assert validation['power']['Result'] is True, validation
    assert validation['management']['Result'] is True, validation

    # manage = verify: the conductor reads the power state through the BMC
    aio.cli('node', 'manage', 'ipmi-power', '--wait', '60')
    assert aio.node('ipmi-power')['power_state'] == 'power off'

    aio.cli('node', 'power', 'on', 'ipmi-power')
    aio.wait_power('ipmi-power', 'power on')
    assert fleet.state(port)['power'] == 'on'
    boots = fleet.state(port)['boots']

    aio.cli('node', 'reboot', 'ipmi-power')
    processes.wait_for(lambda: fleet.state(port)['boots'] == boots + 1, timeout=20,
                       what='the machine to boot again')
    node = aio.wait_power('ipmi-power', 'power on')
    assert fleet.state(port)['power'] == 'on' and node['last_error'] is None

    aio.cli('node', 'power', 'off', 'ipmi-power')
    aio.wait_power('ipmi-power', 'power off')
    assert fleet.state(port)['power'] == 'off'

    # boot device through the management interface, read back from the BMC
    aio.cli('node', 'boot', 'device', 'set', 'ipmi-power', 'pxe', '--persistent')
    assert fleet.state(port)['boot_device'] == 'network' and fleet.state(port)['persistent']
    shown = aio.cli_json('node', 'boot', 'device', 'show', 'ipmi-power')
    assert shown == {'boot_device': 'pxe', 'persistent': True}


def test_deploy_sets_pxe_boot_device_on_the_bmc(aio, fleet):
    port = fleet.ports[1]
    for name in ('deploy.kernel', 'deploy.initramfs'):
        with open(os.path.join(aio.images, name), 'wb') as f:
            f.write(name.encode() * 1000)
    kernel = f'file://{aio.images}/deploy.kernel'
    node = aio.managed_node(
        'ipmi-deploy', port, '--boot-interface', 'pxe', '--deploy-interface', 'fake',
        '--vendor-interface', 'fake', '--driver-info', f'deploy_kernel={kernel}',
        '--driver-info', f'deploy_ramdisk=file://{aio.images}/deploy.initramfs',
        '--driver-info', 'fake_deploy_wait=true')
    uuid_ = node['uuid']
    mac = '52:54:00:1a:00:01'
    aio.cli('port', 'create', mac, '--node', uuid_)
    aio.cli('node', 'provide', 'ipmi-deploy', '--wait', '60')
    validation = {row['Interface']: row['Result'] for row in
                  aio.cli_json('node', 'validate', 'ipmi-deploy')}
    assert validation['boot'] is validation['deploy'] is validation['power'] is True

    aio.cli('node', 'deploy', 'ipmi-deploy')
    aio.wait_node('ipmi-deploy', lambda n: n['provision_state'] == 'wait call-back',
                  'wait call-back')
    state = fleet.state(port)
    assert (state['boot_device'], state['persistent']) == ('network', False)
    assert state['boot_timeout_disabled']   # the override survives a slow POST
    folder = os.path.join(aio.tftp_root, uuid_)
    link = os.path.join(aio.tftp_root, 'pxelinux.cfg', '01-' + mac.replace(':', '-'))
    assert os.path.samefile(link, os.path.join(folder, 'config'))
    master = os.path.join(aio.tftp_root, 'master_images', image_cache.master_key(kernel, False))
    assert os.path.samefile(os.path.join(folder, 'deploy_kernel'), master)

    # the (fake) ramdisk calls back: local boot, so the BMC boots from disk from now on
    resp = requests.post(f'{aio.url}/v1/nodes/{uuid_}/vendor_passthru/pass_deploy_info',
                         json={'address': '127.0.0.1', 'key': 'k'}, headers=HEADERS,
                         timeout=10)
    assert resp.status_code == 202, resp.text
    aio.wait_node('ipmi-deploy', lambda n: n['provision_state'] == 'active', 'active')
    state = fleet.state(port)
    assert (state['boot_device'], state['persistent']) == ('hd', True)
    assert not os.path.lexists(link)

    aio.cli('node', 'power', 'on', 'ipmi-deploy')
    aio.wait_power('ipmi-deploy', 'power on')
    aio.cli('node', 'undeploy', 'ipmi-deploy', '--wait', '60')
    assert fleet.state(port)['power'] == 'off'          # tear down powers the machine off
    assert not os.path.exists(folder)
    assert os.stat(master).st_nlink == 1               # master cached, no node links it


def test_wrong_credentials_give_a_clear_last_error(aio, fleet):
    port = fleet.ports[2]
    aio.create_ipmi_node('ipmi-badpw', port, 'not-the-password')
    validation = {row['Interface']: row for row in
                  aio.cli_json('node', 'validate', 'ipmi-badpw')}
    assert validation['power']['Result'] is True   # driver_info is complete and well-formed

    # manage verifies the credentials: back to enroll, saying why
    aio.cli('node', 'manage', 'ipmi-badpw', check=False)
    node = aio.wait_node('ipmi-badpw', lambda n: n['provision_state'] == 'enroll'
                         and n['target_provision_state'] is None and n['last_error'],
                         'failed verification')
    assert f'127.0.0.1:{port}' in node['last_error'], node['last_error']
    assert 'Incorrect password provided' in node['last_error'], node['last_error']

    aio.cli('node', 'power', 'on', 'ipmi-badpw')
    node = aio.wait_node('ipmi-badpw', lambda n: n['target_power_state'] is None
                         and n['last_error'] and 'power on' in n['last_error'],
                         'failed power on')
    assert 'Incorrect password provided' in node['last_error'], node['last_error']
    assert fleet.state(port)['power'] == 'off' and node['reservation'] is None


def test_power_sync_forces_the_recorded_state_back(aio, fleet):
    port = fleet.ports[3]
    aio.managed_node('ipmi-sync', port)
    assert aio.node('ipmi-sync')['power_state'] == 'power off'
    changes = fleet.state(port)['power_changes']
    fleet.set_state(port, power='on')                  # somebody pressed the power button
    processes.wait_for(lambda: fleet.state(port)['power'] == 'off', timeout=20,
                       what='the power sync to power the machine off again')
    assert fleet.state(port)['power_changes'] == changes + 1
    node = aio.node('ipmi-sync')
    assert node['power_state'] == 'power off' and not node['maintenance']


def test_repeated_bmc_failures_put_the_node_in_maintenance(aio):
    with FakeBmcFleet(ports=[0], user=USER, password=PASSWORD) as own:
        aio.managed_node('ipmi-dies', own.ports[0])
    # The BMC is gone: every sync times out ([ipmi]command_retry_timeout = 2 s).
    node = aio.wait_node('ipmi-dies', lambda n: n['maintenance'], 'maintenance', timeout=60)
    assert node['fault'] == 'power failure', node
    assert f'{MAX_RETRIES} consecutive failures' in node['maintenance_reason'], node
    assert 'no answer from the BMC' in node['last_error'], node
    shown = aio.cli_json('node', 'show', 'ipmi-dies')
    assert shown['maintenance'] is True and shown['fault'] == 'power failure'


def test_power_sync_records_the_hardware_state_when_not_forcing(tmp_path, fleet):
    aio = IpmiAio(str(tmp_path), force_sync=False).start()
    try:
        port = fleet.ports[4]
        aio.managed_node('ipmi-record', port)
        assert aio.node('ipmi-record')['power_state'] == 'power off'
        fleet.set_state(port, power='on')
        aio.wait_node('ipmi-record', lambda n: n['power_state'] == 'power on',
                      'the sync to record "power on"')
        assert fleet.state(port)['power'] == 'on'      # the hardware was left alone
    finally:
        aio.stop()
