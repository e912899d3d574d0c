"""What the operator reads in the log: one access line per API request (with the request id
the client got), and power and boot-device changes at INFO like provision-state changes.

The all-in-one ``ironic-lite`` runs as a subprocess; its log is read as an operator would.
"""
from __future__ import annotations

import re

import requests

from ironic_lite.testing import processes, services
from ironic_lite.testing.cluster import API_READY

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}


def _log(daemon: processes.Daemon) -> str:
    with open(daemon.log_path) as f:
        return f.read()


def test_access_lines_and_power_and_boot_device_changes_at_info(tmp_path):
    port = services.free_port()
    daemon = processes.Daemon('ironic-lite', {
        'DEFAULT': {'host': 'aio', 'state_path': str(tmp_path)},
        'api': {'host_ip': '127.0.0.1', 'port': port},
    }, ready_text=API_READY, workdir=str(tmp_path)).start()
    base = f'http://127.0.0.1:{port}'
    try:
        node = requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10,
                             json={'driver': 'fake-hardware', 'name': 'logged-0'})
        assert node.status_code == 201, node.text
        uuid = node.json()['uuid']
        missing = requests.get(f'{base}/v1/nodes/nothing-here?fields=uuid', headers=HEADERS,
                               timeout=10)
        assert missing.status_code == 404
        resp = requests.put(f'{base}/v1/nodes/{uuid}/states/power', headers=HEADERS,
                            json={'target': 'power on'}, timeout=10)
        assert resp.status_code == 202, resp.text
        processes.wait_for(lambda: requests.get(f'{base}/v1/nodes/{uuid}', headers=HEADERS,
                                                timeout=10).json()['power_state'] == 'power on',
                           what='power on')
        resp = requests.put(f'{base}/v1/nodes/{uuid}/management/boot_device', headers=HEADERS,
                            json={'boot_device': 'pxe', 'persistent': True}, timeout=10)
        assert resp.status_code == 204, resp.text

        def logged():
            text = _log(daemon)
            return text if 'boot device set to pxe' in text else None
        text = processes.wait_for(logged, what='boot device log line')
    finally:
        assert daemon.stop() == 0, daemon.log_tail()

    lines = text.splitlines()
    power = [line for line in lines if f'Node {uuid} power state set to power on' in line]
    assert len(power) == 1 and ' INFO ' in power[0], power
    boot = [line for line in lines if f'Node {uuid} boot device set to pxe (persistent)' in line]
    assert len(boot) == 1 and ' INFO ' in boot[0], boot

    request_id = missing.headers['X-OpenStack-Request-Id']
    access = [line for line in lines if request_id in line]
    assert len(access) == 1, access
    assert ' INFO ironic_lite.api.access ' in access[0]
    assert re.search(r'127\.0\.0\.1 "GET /v1/nodes/nothing-here\?fields=uuid" status: 404 '
                     r'len: \d+ time: \d+\.\d{4} req-[0-9a-f-]{36}$', access[0]), access[0]
    created = [line for line in lines if '"POST /v1/nodes" status: 201' in line]
    assert len(created) == 1, created
