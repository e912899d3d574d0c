"""Acceptance: split processes over the real RabbitMQ, driven by the real clients.

``ironic-lite-api`` and ``ironic-lite-conductor`` run as subprocesses sharing a database; the
`openstack baremetal` CLI (python-openstackclient + python-ironicclient, ``auth_type none``)
and openstacksdk talk to the API over HTTP. Nothing is mocked.
"""
from __future__ import annotations

import base64
import gzip
import json
import uuid

import openstack
import pytest
import requests

from ironic_lite.testing import cli, processes, services
from ironic_lite.testing.cluster import SplitCluster
from tests.conftest import require

pytestmark = pytest.mark.rabbit

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}


def _cluster(backend, rabbit_url, tmp_path):
    db_url, drop = None, None
    if backend != 'sqlite':
        require(services.postgresql_available() if backend == 'postgresql'
                else services.mysql_available(), backend)
        db_url, drop = services.fresh_database(backend)
    c = SplitCluster(rabbit_url, db_url=db_url, workdir=str(tmp_path),
                     conductor_options={'fake': {'deploy_delay': 0.05}})
    try:
        c.start()
        yield c
    finally:
        c.stop()
        if drop:
            drop()


@pytest.fixture
def cluster(rabbit_url, tmp_path):
    """Split processes on SQLite (the clients poll every 2 s, so one backend is enough)."""
    yield from _cluster('sqlite', rabbit_url, tmp_path)


@pytest.fixture(params=['sqlite', 'postgresql', 'mysql'])
def any_db_cluster(request, rabbit_url, tmp_path):
    """Split processes on each supported database."""
    yield from _cluster(request.param, rabbit_url, tmp_path)


def _cli(cluster, *args: str) -> str:
    proc = cli.openstack_baremetal(cluster.url, *args)
    assert proc.returncode == 0, f'{args}: {proc.stderr}\n{cluster.logs()}'
    return proc.stdout


def _get(cluster, path: str) -> dict:
    resp = requests.get(cluster.url + path, headers=HEADERS, timeout=10)
    resp.raise_for_status()
    return resp.json()


def test_openstack_cli_enroll_deploy_undeploy(cluster):
    node = json.loads(_cli(cluster, 'node', 'create', '--driver', 'fake-hardware',
                           '--name', 'cli-node', '-f', 'json'))
    assert node['provision_state'] == 'enroll'
    _cli(cluster, 'port', 'create', '52:54:00:aa:00:01', '--node', node['uuid'])
    _cli(cluster, 'node', 'manage', 'cli-node', '--wait', '60')
    _cli(cluster, 'node', 'provide', 'cli-node', '--wait', '60')
    _cli(cluster, 'node', 'deploy', 'cli-node', '--wait', '60')
    shown = json.loads(_cli(cluster, 'node', 'show', 'cli-node', '-f', 'json'))
    assert shown['provision_state'] == 'active'
    assert shown['reservation'] is None and shown['last_error'] is None
    _cli(cluster, 'node', 'undeploy', 'cli-node', '--wait', '60')
    listed = json.loads(_cli(cluster, 'node', 'list', '-f', 'json'))
    assert [(n['name'], n['provision_state']) for n in listed] == [('cli-node',
                                                                     'available')]
    ports = json.loads(_cli(cluster, 'port', 'list', '--node', node['uuid'], '-f', 'json'))
    assert [p['address'] for p in ports] == ['52:54:00:aa:00:01']
    assert 'fake-hardware' in _cli(cluster, 'driver', 'list')


def _configdrive() -> str:
    return base64.b64encode(gzip.compress(b'fake iso9660 config drive')).decode()


def test_openstacksdk_nova_style_deploy(any_db_cluster):
    cluster = any_db_cluster
    conn = openstack.connect(auth_type='none', baremetal_endpoint_override=cluster.url)
    bm = conn.baremetal
    node = bm.create_node(driver='fake-hardware', name='sdk-node',
                          provision_state='available')
    assert node.provision_state == 'available'  # sdk manages and provides it for us
    bm.create_port(address='52:54:00:bb:00:01', node_id=node.id)
    instance = str(uuid.uuid4())
    # What Nova's ironic driver does in spawn(): patch, validate, deploy, poll.
    bm.patch_node(node, [
        {'op': 'add', 'path': '/instance_uuid', 'value': instance},
        {'op': 'add', 'path': '/instance_info/image_source',
         'value': 'http://127.0.0.1:1/image.qcow2'},
        {'op': 'add', 'path': '/instance_info/root_gb', 'value': 10},
        {'op': 'add', 'path': '/instance_info/swap_mb', 'value': 0},
        {'op': 'add', 'path': '/driver_info/deploy_kernel', 'value': 'http://127.0.0.1:1/k'},
        {'op': 'add', 'path': '/driver_info/deploy_ramdisk', 'value': 'http://127.0.0.1:1/r'},
    ])
    validation = bm.validate_node(node, required=('power', 'deploy'))
    assert validation['power'].result and validation['deploy'].result
    bm.set_node_provision_state(node, 'active', config_drive=_configdrive())
    node = bm.wait_for_nodes_provision_state([node], 'active', timeout=60)[0]
    assert node.instance_id == instance
    assert node.power_state == 'power on'
    assert node.instance_info['configdrive'] == '******'
    # an instance can't be associated twice (Nova relies on the 409)
    other = bm.create_node(driver='fake-hardware')
    with pytest.raises(openstack.exceptions.ConflictException):
        bm.patch_node(other, [{'op': 'add', 'path': '/instance_uuid', 'value': instance}])
    bm.set_node_power_state(node, 'power off', wait=True, timeout=60)
    assert bm.get_node(node).power_state == 'power off'
    bm.set_node_provision_state(node, 'deleted', wait=True, timeout=60)
    node = bm.get_node(node)
    assert node.provision_state == 'available' and node.instance_id is None


def test_pass_deploy_info_and_heartbeat_run_under_the_lock(cluster):
    base = cluster.url
    for name, method in (('callback-node', 'pass_deploy_info'), ('agent-node', None)):
        node = requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10, json={
            'driver': 'fake-hardware', 'name': name,
            'driver_info': {'fake_deploy_wait': True}}).json()
        for target in ('manage', 'provide', 'active'):
            resp = requests.put(f'{base}/v1/nodes/{name}/states/provision', headers=HEADERS,
                                json={'target': target}, timeout=10)
            assert resp.status_code == 202, resp.text
            want = {'manage': 'manageable', 'provide': 'available',
                    'active': 'wait call-back'}[target]
            processes.wait_for(lambda n=name, w=want: _get(cluster, f'/v1/nodes/{n}')[
                'provision_state'] == w, what=f'{name} {want}')
        if method:
            resp = requests.post(f'{base}/v1/nodes/{name}/vendor_passthru?method={method}',
                                 headers=HEADERS, timeout=10,
                                 json={'address': '127.0.0.1', 'key': 'k', 'error': None})
        else:
            # as a ramdisk does: lookup hands out the agent token, heartbeats carry it
            lookup = requests.get(f'{base}/v1/lookup', params={'node_uuid': node['uuid']},
                                  headers=HEADERS, timeout=10)
            assert lookup.status_code == 200, lookup.text
            token = lookup.json()['config']['agent_token']
            resp = requests.post(f'{base}/v1/heartbeat/{node["uuid"]}', headers=HEADERS,
                                 timeout=10,
                                 json={'callback_url': 'http://127.0.0.1:9999',
                                       'agent_version': '9.0.0', 'agent_token': token})
        assert resp.status_code == 202, resp.text
        final = processes.wait_for(
            lambda n=name: (lambda d: d if d['provision_state'] == 'active' else None)(
                _get(cluster, f'/v1/nodes/{n}')), what=f'{name} active')
        info = final['driver_internal_info']
        if method:
            call = info['fake_vendor_calls'][-1]
            assert call['method'] == 'pass_deploy_info'
            assert call['reservation'] == cluster.conductor_host
        else:
            assert info['agent_url'] == 'http://127.0.0.1:9999'
            assert info['agent_last_heartbeat']
        assert final['reservation'] is None


def test_conductor_sigkill_leaves_no_node_locked_or_stuck(rabbit_url, tmp_path):
    cluster = SplitCluster(rabbit_url, workdir=str(tmp_path),
                           conductor_options={'fake': {'deploy_delay': 600}})
    try:
        cluster.start()
        base = cluster.url
        uuids = []
        for i in range(3):
            node = requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10, json={
                'driver': 'fake-hardware', 'name': f'kill-{i}'}).json()
            uuids.append(node['uuid'])
            for target, want in (('manage', 'manageable'), ('provide', 'available')):
                requests.put(f'{base}/v1/nodes/{node["uuid"]}/states/provision',
                             headers=HEADERS, json={'target': target}, timeout=10)
                processes.wait_for(lambda u=node['uuid'], w=want: _get(
                    cluster, f'/v1/nodes/{u}')['provision_state'] == w, what=want)
        for u in uuids[:2]:
            resp = requests.put(f'{base}/v1/nodes/{u}/states/provision', headers=HEADERS,
                                json={'target': 'active'}, timeout=10)
            assert resp.status_code == 202
        # The deploy has started once the conductor logged its first transition (it consumes
        # the accepted request in that same update). 'deploying' alone is no proof: the
        # accepting compare-and-set already shows it (issue 8), and a node whose request is
        # still pending is rightly carried out by the restarted conductor.
        conductor = cluster.conductors[0]
        processes.wait_for(lambda: all(
            f'Node {u} moved from available to deploying' in conductor.log_tail(2000)
            for u in uuids[:2]), what='deploys in progress')
        cluster.conductors[0].kill()
        # accepted while no conductor runs: must not be lost either
        resp = requests.put(f'{base}/v1/nodes/{uuids[2]}/states/power', headers=HEADERS,
                            json={'target': 'power on'}, timeout=10)
        assert resp.status_code in (202, 503), resp.text
        cluster.start_conductor(options={'fake': {'deploy_delay': 0}})

        def settled():
            nodes = [_get(cluster, f'/v1/nodes/{u}') for u in uuids]
            if any(n['reservation'] or n['target_power_state'] for n in nodes):
                return None
            if any(n['provision_state'] in ('deploying', 'wait call-back') for n in nodes):
                return None
            return nodes

        nodes = processes.wait_for(settled, timeout=60, what='recovery')
        for node in nodes[:2]:
            assert node['provision_state'] == 'deploy failed'
            assert 'stopped or died' in node['last_error']
            assert node['deploy_step'] == {}  # no step left shown as running
            assert 'deploy_steps' not in node['driver_internal_info']
        if resp.status_code == 202:
            assert nodes[2]['power_state'] == 'power on'
        # a failed deploy can be retried once the conductor is back
        resp = requests.put(f'{base}/v1/nodes/{uuids[0]}/states/provision', headers=HEADERS,
                            json={'target': 'active'}, timeout=10)
        assert resp.status_code == 202, resp.text
        processes.wait_for(lambda: _get(cluster, f'/v1/nodes/{uuids[0]}')[
            'provision_state'] == 'active', what='redeploy')
    finally:
        cluster.stop()
