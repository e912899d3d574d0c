"""Accepted requests for a conductor that stopped are started by another one by the time
they are ``[conductor]intent_redrive_after`` old, as the README says.

Split processes over RabbitMQ: two conductors; the API's hash ring is kept stale on purpose,
so after one conductor stops, the API still casts its nodes' requests to it (the messages sit
in the stopped conductor's queue). The re-drive periodic of the other conductor starts them.
``check_provision_state_interval`` is far longer than the test's deadline: the re-drive must
run on a period derived from ``intent_redrive_after``, not on that interval.
"""
from __future__ import annotations

import pytest
import requests

from ironic_lite.testing import processes
from ironic_lite.testing.cluster import SplitCluster

pytestmark = pytest.mark.rabbit

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}
REDRIVE_AFTER = 5
NODES = 8


def _node(base: str, uuid: str) -> dict:
    resp = requests.get(f'{base}/v1/nodes/{uuid}', headers=HEADERS, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _provision(base: str, uuid: str, target: str) -> None:
    resp = requests.put(f'{base}/v1/nodes/{uuid}/states/provision', headers=HEADERS,
                        json={'target': target}, timeout=10)
    assert resp.status_code == 202, resp.text


def test_requests_for_a_stopped_conductor_are_started_by_another(rabbit_url, tmp_path):
    cluster = SplitCluster(
        rabbit_url, workdir=str(tmp_path),
        conductor_options={'conductor': {'intent_redrive_after': REDRIVE_AFTER,
                                         'check_provision_state_interval': 3600,
                                         'hash_ring_reset_interval': 1,
                                         'automated_clean': False}},
        # the API keeps routing to the stopped conductor (its ring is never refreshed)
        api_options={'conductor': {'hash_ring_reset_interval': 3600}})
    try:
        cluster.start()
        stopping = cluster.start_conductor(host='conductor-stopping')
        base = cluster.url
        uuids = [requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10,
                               json={'driver': 'fake-hardware'}).json()['uuid']
                 for _ in range(NODES)]
        for uuid in uuids:
            _provision(base, uuid, 'manage')
        for uuid in uuids:
            processes.wait_for(lambda u=uuid: _node(base, u)['provision_state'] == 'manageable',
                               timeout=60, what='manageable')
            _provision(base, uuid, 'provide')
        for uuid in uuids:
            processes.wait_for(lambda u=uuid: _node(base, u)['provision_state'] == 'available',
                               timeout=60, what='available')
        owners = {uuid: _node(base, uuid)['conductor'] for uuid in uuids}
        orphaned = [u for u, host in owners.items() if host == 'conductor-stopping']
        assert orphaned, f'no node hashed to the second conductor: {owners}'

        assert stopping.stop() == 0, stopping.log_tail()
        for uuid in uuids:
            _provision(base, uuid, 'active')
        # Deadline, not a timing: far below check_provision_state_interval (3600 s).
        for uuid in uuids:
            processes.wait_for(lambda u=uuid: _node(base, u)['provision_state'] == 'active',
                               timeout=90, what=f'node {uuid} active\n{cluster.logs()}')
    finally:
        cluster.stop()
