"""Conductor deaths in split mode over RabbitMQ and PostgreSQL: SIGKILL mid-deploy and with
accepted requests not started yet (mid-intent), and takeover by a surviving conductor within
the documented figure, ``heartbeat_timeout + hash_ring_reset_interval`` (README, Guarantees).
"""
from __future__ import annotations

import time

import pytest
import requests

from ironic_lite.testing import processes
from ironic_lite.testing.cluster import SplitCluster

pytestmark = pytest.mark.rabbit

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}
HEARTBEAT_TIMEOUT = 4
RING_RESET = 2
# slack for a loaded 2-core machine on top of the documented figure (process start-up, polls)
MARGIN = 8


def _get(cluster, path: str) -> dict:
    resp = requests.get(cluster.url + path, headers=HEADERS, timeout=10)
    resp.raise_for_status()
    return resp.json()


def _put_state(cluster, uuid: str, kind: str, target: str) -> requests.Response:
    return requests.put(f'{cluster.url}/v1/nodes/{uuid}/states/{kind}', headers=HEADERS,
                        json={'target': target}, timeout=10)


def _available_node(cluster, name: str) -> str:
    node = requests.post(f'{cluster.url}/v1/nodes', headers=HEADERS, timeout=10,
                         json={'driver': 'fake-hardware', 'name': name}).json()
    for target, want in (('manage', 'manageable'), ('provide', 'available')):
        resp = _put_state(cluster, node['uuid'], 'provision', target)
        assert resp.status_code == 202, resp.text
        processes.wait_for(lambda w=want: _get(cluster, f'/v1/nodes/{node["uuid"]}')[
            'provision_state'] == w, what=want)
    return node['uuid']


def _wait_started(conductor, uuid: str) -> None:
    """Until the conductor wrote the deploy's start. The API's acceptance already shows
    "deploying", and a lock alone may still hold a request not started — which a restarted
    or surviving conductor rightly carries out instead of failing."""
    processes.wait_for(lambda: f'Node {uuid} moved from available to deploying'
                       in conductor.log_tail(2000), what=f'deploy of {uuid} under way')


def test_sigkill_mid_deploy_and_mid_intent(rabbit_url, pg_url, tmp_path):
    cluster = SplitCluster(rabbit_url, db_url=pg_url, workdir=str(tmp_path),
                           conductor_options={'fake': {'deploy_delay': 600},
                                              'conductor': {'workers_pool_size': 1}})
    try:
        cluster.start()
        running, queued, power = (_available_node(cluster, f'kill-{i}') for i in range(3))
        assert _put_state(cluster, running, 'provision', 'active').status_code == 202
        _wait_started(cluster.conductors[0], running)
        # the only worker is busy: these stay accepted, not started
        assert _put_state(cluster, queued, 'provision', 'active').status_code == 202
        assert _put_state(cluster, power, 'power', 'power on').status_code == 202
        cluster.conductors[0].kill()
        cluster.start_conductor(options={'fake': {'deploy_delay': 0}})

        def settled():
            nodes = [_get(cluster, f'/v1/nodes/{u}') for u in (running, queued, power)]
            done = (nodes[0]['provision_state'] == 'deploy failed'
                    and nodes[1]['provision_state'] == 'active'
                    and nodes[2]['power_state'] == 'power on')
            if done and not any(n['reservation'] or n['target_power_state'] for n in nodes):
                return nodes
            return None

        nodes = processes.wait_for(settled, timeout=60, what='recovery after SIGKILL')
        assert 'stopped or died' in nodes[0]['last_error']
        assert nodes[1]['last_error'] is None and nodes[2]['last_error'] is None
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()


def test_takeover_within_heartbeat_timeout_plus_ring_reset(rabbit_url, pg_url, tmp_path):
    timing = {'heartbeat_interval': 1, 'heartbeat_timeout': HEARTBEAT_TIMEOUT,
              'hash_ring_reset_interval': RING_RESET}
    # The slow periodic passes stay at their defaults (60 s, 30 s): takeover must not need them.
    cluster = SplitCluster(rabbit_url, db_url=pg_url, workdir=str(tmp_path),
                           conductor_options={'conductor': timing,
                                              'fake': {'deploy_delay': 600}},
                           api_options={'conductor': timing})
    try:
        cluster.start()
        dying = cluster.conductor_host
        survivor = f'survivor-{dying}'
        cluster.start_conductor(survivor, options={'fake': {'deploy_delay': 0}})
        owned: list[str] = []
        for i in range(40):  # until the dying conductor owns three nodes
            uuid = _available_node(cluster, f'takeover-{i}')
            processes.wait_for(lambda u=uuid: _get(cluster, f'/v1/nodes/{u}')['conductor'],
                               what='a conductor for the node')
            if _get(cluster, f'/v1/nodes/{uuid}')['conductor'] == dying:
                owned.append(uuid)
            if len(owned) == 3:
                break
        busy, *waiting = owned
        assert _put_state(cluster, busy, 'provision', 'active').status_code == 202
        _wait_started(cluster.conductors[0], busy)

        cluster.conductors[0].kill()
        killed_at = time.monotonic()
        # sent to the dead conductor: the API still routes its nodes there for now
        for uuid in waiting:
            assert _put_state(cluster, uuid, 'provision', 'active').status_code == 202

        figure = HEARTBEAT_TIMEOUT + RING_RESET
        deadline = killed_at + figure + MARGIN

        def left() -> float:
            return max(deadline - time.monotonic(), 0.1)

        processes.wait_for(lambda: all(
            _get(cluster, f'/v1/nodes/{u}')['conductor'] == survivor for u in owned),
            timeout=left(), interval=0.2, what='the API routing to the survivor')
        routed = time.monotonic() - killed_at
        processes.wait_for(lambda: all(
            _get(cluster, f'/v1/nodes/{u}')['provision_state'] == 'active' for u in waiting),
            timeout=left(), interval=0.2, what='the survivor starting the requests')
        started = time.monotonic() - killed_at
        processes.wait_for(lambda: (lambda n: n['provision_state'] == 'deploy failed'
                                    and n['reservation'] is None)(
            _get(cluster, f'/v1/nodes/{busy}')), timeout=left(), interval=0.2,
            what='the dead conductor\'s deploy failed and unlocked')
        print(f'takeover: routed at +{routed:.1f} s, requests started by +{started:.1f} s '
              f'(figure {figure} s + margin {MARGIN} s)')
        assert 'stopped or died' in _get(cluster, f'/v1/nodes/{busy}')['last_error']
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()
