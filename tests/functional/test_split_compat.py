"""Upstream's answers (issue 8 §2) from split processes over the real RabbitMQ.

``ironic-lite-api`` and ``ironic-lite-conductor`` run as subprocesses sharing a database; the
checks go over real HTTP. The same behaviours are covered in depth through the in-process
harness (``test_api_compat_*.py``, ``test_api_endpoint_versions.py``,
``test_api_allocation_delete.py``); here they are shown to hold when the API reaches the
conductor over the broker.
"""
from __future__ import annotations

import concurrent.futures

import pytest
import requests

from ironic_lite.testing import processes
from ironic_lite.testing.cluster import SplitCluster

pytestmark = pytest.mark.rabbit

LATEST = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}


@pytest.fixture
def cluster(rabbit_url, tmp_path):
    c = SplitCluster(rabbit_url, workdir=str(tmp_path))
    try:
        c.start()
        yield c
    finally:
        c.stop()


def _req(cluster, method: str, path: str, version: str | None = None, **kwargs):
    headers = dict(LATEST)
    if version:
        headers['X-OpenStack-Ironic-API-Version'] = version
    return requests.request(method, cluster.url + path, headers=headers, timeout=30, **kwargs)


def _ok(resp, status: int = 200):
    assert resp.status_code == status, (resp.status_code, resp.text)
    return resp.json() if resp.content else None


def _node(cluster, uuid: str) -> dict:
    return _ok(_req(cluster, 'GET', f'/v1/nodes/{uuid}'))


def _move(cluster, uuid: str, target: str, expected: str) -> dict:
    _ok(_req(cluster, 'PUT', f'/v1/nodes/{uuid}/states/provision', json={'target': target}),
        202)
    return processes.wait_for(
        lambda: (lambda n: n if n['provision_state'] == expected
                 and n['target_provision_state'] is None and n['reservation'] is None
                 else None)(_node(cluster, uuid)), timeout=60, what=f'{uuid} {expected}')


def _available(cluster, **values) -> dict:
    node = _ok(_req(cluster, 'POST', '/v1/nodes',
                    json={'driver': 'fake-hardware', **values}), 201)
    _move(cluster, node['uuid'], 'manage', 'manageable')
    return _move(cluster, node['uuid'], 'provide', 'available')


def test_paths_and_versions_as_upstream(cluster):
    node = _ok(_req(cluster, 'POST', '/nodes', json={'driver': 'fake-hardware'}), 201)
    uuid = node['uuid']
    assert _ok(_req(cluster, 'GET', f'/nodes/{uuid}'))['uuid'] == uuid
    console = _ok(_req(cluster, 'GET', f'/v1/nodes/states/console/{uuid}'))
    assert console['console_enabled'] is False
    assert _req(cluster, 'GET', f'/v1/nodes/{uuid}/traits', '1.36').status_code == 406
    assert _req(cluster, 'PUT', f'/v1/nodes/{uuid}/traits/CUSTOM_A', '1.36').status_code == 405
    assert _req(cluster, 'POST', '/v1/allocations', '1.51', json={}).status_code == 405
    assert _req(cluster, 'GET', '/v1/allocations', '1.51').status_code == 404
    assert _req(cluster, 'PUT', f'/v1/nodes/{uuid}/traits/CUSTOM_A', json={}).status_code == 204
    assert _req(cluster, 'GET', '/v1/nodes?fault=bogus').status_code == 400
    assert _ok(_req(cluster, 'GET', f'/v1/nodes/{uuid}/states', '1.1'))[
        'provision_state'] == 'enroll'


def test_interfaces_traits_and_heartbeat(cluster):
    driver = _ok(_req(cluster, 'GET', '/v1/drivers/fake-hardware'))
    assert driver['default_raid_interface'] == 'fake'
    assert driver['default_inspect_interface'] == 'fake'
    props = _ok(_req(cluster, 'GET', '/v1/drivers/fake-hardware/raid/logical_disk_properties'))
    assert 'raid_level' in props
    node = _available(cluster)
    uuid = node['uuid']
    _ok(_req(cluster, 'PATCH', f'/v1/nodes/{uuid}', json=[
        {'op': 'add', 'path': '/instance_info/traits', 'value': ['CUSTOM_MISSING']}]))
    checked = _ok(_req(cluster, 'GET', f'/v1/nodes/{uuid}/validate'))
    assert checked['deploy']['result'] is False and checked['raid']['result'] is True
    refused = _req(cluster, 'PUT', f'/v1/nodes/{uuid}/states/provision',
                   json={'target': 'active'})
    assert refused.status_code == 400, refused.text
    assert _node(cluster, uuid)['provision_state'] == 'available'
    _ok(_req(cluster, 'PATCH', f'/v1/nodes/{uuid}', json=[
        {'op': 'remove', 'path': '/instance_info/traits'}]))
    # the body form of heartbeat, from a ramdisk that looked itself up (agent token) as IPA
    _ok(_req(cluster, 'PATCH', f'/v1/nodes/{uuid}', json=[
        {'op': 'add', 'path': '/driver_info/fake_deploy_wait', 'value': True}]))
    _ok(_req(cluster, 'POST', '/v1/ports', json={'node_uuid': uuid,
                                                 'address': '52:54:00:5a:00:01'}), 201)
    _ok(_req(cluster, 'PUT', f'/v1/nodes/{uuid}/states/provision', json={'target': 'active'}),
        202)
    processes.wait_for(lambda: _node(cluster, uuid)['provision_state'] == 'wait call-back',
                       timeout=60, what='wait call-back')
    token = _ok(_req(cluster, 'GET', f'/v1/lookup?node_uuid={uuid}', '1.62'))['config'][
        'agent_token']
    resp = _req(cluster, 'POST', '/v1/heartbeat', '1.62', json={
        'node_ident': uuid, 'callback_url': 'http://10.0.0.5:9999', 'agent_token': token})
    assert resp.status_code == 202, resp.text
    processes.wait_for(lambda: _node(cluster, uuid)['driver_internal_info'].get('agent_url'),
                       timeout=30, what='heartbeat recorded')


def test_allocations_created_and_deleted_at_once(cluster):
    nodes = [_available(cluster, resource_class='rc-split-del') for _ in range(3)]

    def create_and_delete(_):
        alloc = _ok(_req(cluster, 'POST', '/v1/allocations',
                         json={'resource_class': 'rc-split-del'}), 201)
        resp = _req(cluster, 'DELETE', f'/v1/allocations/{alloc["uuid"]}')
        return resp.status_code, resp.text

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(create_and_delete, range(12)))
    assert [status for status, _ in answers] == [204] * 12, answers
    for node in nodes:
        processes.wait_for(lambda u=node['uuid']: (lambda n: n['instance_uuid'] is None and
                                                   n['reservation'] is None)(_node(cluster, u)),
                           timeout=30, what='node free again')
    assert _ok(_req(cluster, 'GET', '/v1/allocations'))['allocations'] == []
