"""The RPC surface between split processes over the real RabbitMQ: one request followed across
processes by its request id, and a rolling upgrade (an API capped below RPC 1.3 sends the old
casts, which a new conductor still serves)."""
from __future__ import annotations

import pytest
import requests

from ironic_lite.testing import processes
from ironic_lite.testing.cluster import SplitCluster

pytestmark = pytest.mark.rabbit

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}
# a client's own request id, logged as the global request id (as oslo.middleware does)
CLIENT_ID = 'req-0b7f0d6e-1b2c-4d5e-8f90-123456789abc'


def _cluster(rabbit_url, tmp_path, **api_defaults) -> SplitCluster:
    return SplitCluster(rabbit_url, workdir=str(tmp_path),
                        api_options={'DEFAULT': api_defaults} if api_defaults else None)


def _req(cluster, method: str, path: str, **kwargs) -> requests.Response:
    headers = {**LATEST, **kwargs.pop('headers', {})}
    return requests.request(method, cluster.url + path, headers=headers, timeout=30, **kwargs)


def _move(cluster, uuid: str, target: str, expected: str, **kwargs) -> str:
    """PUT the provision target; wait for ``expected``; the request id the API answered."""
    resp = _req(cluster, 'PUT', f'/v1/nodes/{uuid}/states/provision', json={'target': target},
                **kwargs)
    assert resp.status_code == 202, resp.text
    processes.wait_for(
        lambda: (lambda n: n['provision_state'] == expected
                 and n['reservation'] is None)(_req(cluster, 'GET', f'/v1/nodes/{uuid}').json()),
        timeout=60, what=f'{uuid} {expected}')
    return resp.headers['X-OpenStack-Request-Id']


def _log(daemon: processes.Daemon) -> str:
    with open(daemon.log_path) as f:
        return f.read()


def _deploy_cycle(cluster) -> tuple[str, str]:
    node = _req(cluster, 'POST', '/v1/nodes', json={'driver': 'fake-hardware'}).json()
    uuid = node['uuid']
    _move(cluster, uuid, 'manage', 'manageable')
    _move(cluster, uuid, 'provide', 'available')
    return uuid, _move(cluster, uuid, 'active', 'active', headers={
        'X-OpenStack-Request-Id': CLIENT_ID})


def test_one_request_id_in_api_and_conductor_logs(rabbit_url, tmp_path):
    cluster = _cluster(rabbit_url, tmp_path)
    try:
        cluster.start()
        uuid, request_id = _deploy_cycle(cluster)
        api_lines = [line for line in _log(cluster.api).splitlines() if request_id in line]
        conductor_lines = [line for line in _log(cluster.conductors[0]).splitlines()
                           if request_id in line]
    finally:
        cluster.stop()
    # the API's line names the request in its context prefix (and in the access-log text)
    assert any(f'{CLIENT_ID} {request_id}' in line for line in api_lines), api_lines
    # the conductor's lines of that deploy carry the same ids: the context came over RPC
    assert conductor_lines, _log(cluster.conductors[0])[-3000:]
    assert all(f'{CLIENT_ID} {request_id}' in line for line in conductor_lines)
    assert any(uuid in line and 'deploy' in line for line in conductor_lines), conductor_lines


def test_api_capped_below_1_3_deploys_through_a_new_conductor(rabbit_url, tmp_path):
    """Rolling upgrade: a capped API sends the pre-1.3 casts (do_node_deploy, ...,
    change_node_power_state); the upgraded conductor serves them as run_intent."""
    cluster = _cluster(rabbit_url, tmp_path, rpc_version_cap='1.2')
    try:
        cluster.start()
        uuid, _ = _deploy_cycle(cluster)
        resp = _req(cluster, 'PUT', f'/v1/nodes/{uuid}/states/power', json={'target': 'power off'})
        assert resp.status_code == 202, resp.text
        processes.wait_for(lambda: _req(cluster, 'GET', f'/v1/nodes/{uuid}').json()[
            'power_state'] == 'power off', timeout=60, what='power off')
        _move(cluster, uuid, 'deleted', 'available')
        log = _log(cluster.conductors[0])
    finally:
        cluster.stop()
    assert 'unknown RPC method' not in log and 'Traceback' not in log, log[-3000:]
