"""An operator's ironic.conf carries over: upstream's driver defaults, the all-in-one's own.

Real processes: ``ironic-lite-conductor`` + ``ironic-lite-api`` over RabbitMQ, and the
all-in-one ``ironic-lite``, each with a config file that names only what an operator would.
"""
from __future__ import annotations

import os
import subprocess
import threading

import pytest
import requests

from ironic_lite.testing import processes, services
from ironic_lite.testing.cluster import API_READY, SplitCluster

RUN_AIO = os.path.join(os.path.dirname(__file__), '..', '..', 'tools', 'run-aio.sh')
HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}

IPMI_INTERFACES = {
    # upstream's defaults, limited to the interfaces ironic_lite implements
    'boot': ('ipxe', ['ipxe', 'pxe']),
    'deploy': ('direct', ['direct']),
    'management': ('ipmitool', ['ipmitool']),
    'power': ('ipmitool', ['ipmitool']),
    'vendor': ('no-vendor', ['no-vendor']),
    'bios': ('no-bios', ['no-bios']),
    'console': ('no-console', ['no-console']),
    'rescue': ('no-rescue', ['no-rescue']),
    'storage': ('noop', ['noop']),
}
REDFISH_INTERFACES = {**IPMI_INTERFACES, 'management': ('redfish', ['redfish']),
                      'power': ('redfish', ['redfish'])}


def _get(url: str) -> dict:
    resp = requests.get(url, headers=HEADERS, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _assert_ipmi_loaded(base: str) -> None:
    driver = _get(f'{base}/v1/drivers/ipmi')
    for itype, (default, enabled) in IPMI_INTERFACES.items():
        assert driver[f'default_{itype}_interface'] == default, itype
        assert driver[f'enabled_{itype}_interfaces'] == enabled, itype
    node = requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10,
                         json={'driver': 'ipmi', 'driver_info': {
                             'ipmi_address': '127.0.0.1', 'ipmi_port': 1}}).json()
    assert {f'{i}_interface': node[f'{i}_interface'] for i in ('boot', 'deploy', 'power')} == {
        'boot_interface': 'ipxe', 'deploy_interface': 'direct', 'power_interface': 'ipmitool'}


@pytest.mark.rabbit
def test_an_ironic_conf_that_enables_only_ipmi_loads_its_interfaces(rabbit_url, tmp_path):
    """Split mode: no enabled_*_interfaces option at all, as in a typical ironic.conf."""
    cluster = SplitCluster(rabbit_url, workdir=str(tmp_path), fake_hardware=False,
                           conductor_options={'DEFAULT': {'enabled_hardware_types': 'ipmi'}})
    try:
        cluster.start()
        assert [d['name'] for d in _get(f'{cluster.url}/v1/drivers')['drivers']] == ['ipmi']
        _assert_ipmi_loaded(cluster.url)
    finally:
        cluster.stop()


@pytest.mark.rabbit
def test_a_conductor_with_no_driver_options_loads_ipmi_and_redfish_as_upstream(rabbit_url,
                                                                              tmp_path):
    cluster = SplitCluster(rabbit_url, workdir=str(tmp_path), fake_hardware=False)
    try:
        cluster.start()
        assert [d['name'] for d in _get(f'{cluster.url}/v1/drivers')['drivers']] == [
            'ipmi', 'redfish']
        _assert_ipmi_loaded(cluster.url)
        redfish = _get(f'{cluster.url}/v1/drivers/redfish')
        for itype, (default, enabled) in REDFISH_INTERFACES.items():
            assert redfish[f'default_{itype}_interface'] == default, itype
            assert redfish[f'enabled_{itype}_interfaces'] == enabled, itype
    finally:
        cluster.stop()


def _aio(tmp_path, *extra_sections) -> processes.Daemon:
    port = services.free_port()
    daemon = processes.Daemon('ironic-lite', {
        'DEFAULT': {'host': 'aio', 'state_path': str(tmp_path)},
        'api': {'host_ip': '127.0.0.1', 'port': port},
        **dict(extra_sections)}, ready_text=API_READY, workdir=str(tmp_path))
    daemon.base = f'http://127.0.0.1:{port}'
    return daemon


def test_all_in_one_runs_fake_hardware_with_nothing_to_configure(tmp_path):
    daemon = _aio(tmp_path).start()
    try:
        drivers = _get(f'{daemon.base}/v1/drivers')['drivers']
        assert [d['name'] for d in drivers] == ['fake-hardware']
        fake = _get(f'{daemon.base}/v1/drivers/fake-hardware')
        for itype in ('boot', 'deploy', 'management', 'power', 'vendor', 'bios', 'console',
                      'rescue', 'storage'):
            assert fake[f'default_{itype}_interface'] == 'fake', itype
    finally:
        assert daemon.stop() == 0, daemon.log_tail()


def test_all_in_one_with_only_enabled_hardware_types_ipmi(tmp_path):
    """What README tells a run-aio.sh user to write to try the ipmi driver."""
    daemon = _aio(tmp_path, ('DEFAULT', {'host': 'aio', 'state_path': str(tmp_path),
                                         'enabled_hardware_types': 'ipmi'})).start()
    try:
        assert [d['name'] for d in _get(f'{daemon.base}/v1/drivers')['drivers']] == ['ipmi']
        driver = _get(f'{daemon.base}/v1/drivers/ipmi')
        # the fakes stay enabled in the all-in-one; ipmi's defaults are upstream's
        for itype, (default, _) in IPMI_INTERFACES.items():
            assert driver[f'default_{itype}_interface'] == default, itype
        assert 'fake' in driver['enabled_deploy_interfaces']
    finally:
        assert daemon.stop() == 0, daemon.log_tail()


def test_a_custom_config_read_after_run_aio_s_keeps_its_state_path_and_loopback(tmp_path):
    """tools/run-aio.sh passes its generated config first and the operator's after: a file
    that only enables ipmi keeps the generated state_path, and the API stays on loopback
    even though the operator's file names no host_ip (the all-in-one's default)."""
    with open(RUN_AIO) as f:
        script = f.read()
    assert 'exec .venv/bin/ironic-lite --config-file state/ironic_lite-aio.conf "$@"' in script
    port = services.free_port()
    state = tmp_path / 'state'
    generated = processes.write_config(str(tmp_path / 'generated.conf'), {
        'DEFAULT': {'state_path': str(state)}, 'api': {'port': port}})
    mine = processes.write_config(str(tmp_path / 'mine.conf'), {
        'DEFAULT': {'enabled_hardware_types': 'fake-hardware,ipmi'}})
    proc = subprocess.Popen([processes.console_script('ironic-lite'), '--config-file',
                             generated, '--config-file', mine], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=str(tmp_path),
                            start_new_session=True)
    deadline = threading.Timer(60, proc.kill)  # a daemon that never gets ready ends the read
    deadline.start()
    try:
        ready = ''
        for line in proc.stdout:
            if API_READY in line:
                ready = line
                break
        assert f'on http://127.0.0.1:{port}/' in ready, ready
        base = f'http://127.0.0.1:{port}'
        assert sorted(d['name'] for d in _get(f'{base}/v1/drivers')['drivers']) == [
            'fake-hardware', 'ipmi']
        assert (state / 'ironic_lite.sqlite').exists()
    finally:
        deadline.cancel()
        assert processes.terminate(proc) == 0
