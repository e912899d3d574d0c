"""A broker outage with requests in flight, on a RabbitMQ node of the test's own (the machine's
shared broker is never stopped): every request gets a bounded answer — a state change 202
(its request is recorded), a call 503 — authentication and database requests are not starved
by waiting RPC, and nothing accepted is lost once the broker is back."""
from __future__ import annotations

import concurrent.futures

import bcrypt
import pytest
import requests

from ironic_lite.testing import faults, processes
from ironic_lite.testing.cluster import SplitCluster
from tests.conftest import require

pytestmark = pytest.mark.rabbit

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest'}
AUTH = ('admin', 'secret')
SEND_TIMEOUT = 5   # [DEFAULT]rpc_send_timeout
RPC_TIMEOUT = 8    # [api]rpc_timeout
DEADLINE = RPC_TIMEOUT + 20  # a client-side bound on every answer: never the outage's length
NODES = 4


@pytest.fixture
def rabbit():
    require(faults.rabbit_server_available(), 'rabbitmq-server')
    node = faults.PrivateRabbit().start()
    try:
        yield node
    finally:
        node.stop()


def _request(cluster, method: str, path: str, auth=AUTH, **kwargs) -> requests.Response:
    return requests.request(method, cluster.url + path, headers=HEADERS, auth=auth,
                            timeout=DEADLINE, **kwargs)


def _state(cluster, uuid: str) -> str:
    return _request(cluster, 'GET', f'/v1/nodes/{uuid}').json()['provision_state']


def test_broker_outage_bounded_answers_nothing_lost(rabbit, tmp_path):
    htpasswd = tmp_path / 'htpasswd'
    hashed = bcrypt.hashpw(b'secret', bcrypt.gensalt(4)).decode()
    htpasswd.write_text(f'admin:{hashed}\n')
    quick = {'check_provision_state_interval': 1, 'intent_redrive_after': 1}
    cluster = SplitCluster(rabbit.url, workdir=str(tmp_path),
                           conductor_options={'conductor': quick},
                           api_options={'DEFAULT': {'rpc_send_timeout': SEND_TIMEOUT,
                                                    'auth_strategy': 'http_basic',
                                                    'http_basic_auth_user_file': htpasswd},
                                        'api': {'rpc_timeout': RPC_TIMEOUT}})
    try:
        cluster.start()
        uuids = []
        for i in range(NODES):
            node = _request(cluster, 'POST', '/v1/nodes',
                            json={'driver': 'fake-hardware', 'name': f'outage-{i}'}).json()
            uuids.append(node['uuid'])
            for target, want in (('manage', 'manageable'), ('provide', 'available')):
                resp = _request(cluster, 'PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                json={'target': target})
                assert resp.status_code == 202, resp.text
                processes.wait_for(lambda u=node['uuid'], w=want: _state(cluster, u) == w,
                                   what=want)
        assert _request(cluster, 'GET', f'/v1/nodes/{uuids[0]}/validate').status_code == 200

        rabbit.pause()
        # More RPC in flight than the default thread pool has threads (6 on 2 cores).
        with concurrent.futures.ThreadPoolExecutor(3 * NODES) as pool:
            deploys = [pool.submit(_request, cluster, 'PUT', f'/v1/nodes/{u}/states/provision',
                                   json={'target': 'active'}) for u in uuids]
            calls = [pool.submit(_request, cluster, 'GET', f'/v1/nodes/{u}/validate')
                     for u in uuids * 2]
            # authentication and database work answer while the RPC is still waiting
            wrong = _request(cluster, 'GET', '/v1/nodes', auth=('admin', 'wrong'))
            listed = _request(cluster, 'GET', '/v1/nodes')
            in_flight = sum(not f.done() for f in deploys + calls)
            assert wrong.status_code == 401, wrong.text
            assert listed.status_code == 200 and len(listed.json()['nodes']) == NODES
            assert in_flight, 'the RPC requests answered before the others were sent'
            # every RPC request gets a bounded answer (requests' timeout is the deadline)
            for f in deploys:
                assert f.result().status_code == 202, f.result().text
            for f in calls:
                resp = f.result()
                assert resp.status_code == 503, resp.text
                assert 'retry' in resp.json()['error_message']
            slowest = max(f.result().elapsed.total_seconds() for f in deploys + calls)
            print(f'broker outage: slowest RPC answer {slowest:.1f} s (rpc_send_timeout '
                  f'{SEND_TIMEOUT} s, rpc_timeout {RPC_TIMEOUT} s); wrong password '
                  f'{wrong.elapsed.total_seconds():.3f} s, GET nodes '
                  f'{listed.elapsed.total_seconds():.3f} s')

        rabbit.resume()
        # nothing lost: every deploy accepted during the outage is carried out
        for u in uuids:
            processes.wait_for(lambda u=u: _state(cluster, u) == 'active', timeout=120,
                               what=f'{u} active after the outage')
        processes.wait_for(lambda: _request(
            cluster, 'GET', f'/v1/nodes/{uuids[0]}/validate').status_code == 200,
            timeout=60, interval=0.5, what='RPC calls answered again')
        nodes = _request(cluster, 'GET', '/v1/nodes?fields=reservation,last_error').json()
        assert all(n['reservation'] is None and n['last_error'] is None
                   for n in nodes['nodes']), nodes
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()
