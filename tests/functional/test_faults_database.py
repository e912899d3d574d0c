"""A database outage on the test's own PostgreSQL database (its connections terminated and
refused, the server untouched) while a deploy is running: no node is left locked, the node
is failed with a clear last_error once the database is back, and the log claims no move the
database did not record."""
from __future__ import annotations

import asyncio
import time

import pytest
import requests

from ironic_lite.common import states
from ironic_lite.conductor import periodics, task_manager
from ironic_lite.testing import faults, processes
from ironic_lite.testing.cluster import SplitCluster
from ironic_lite.testing.harness import Harness

pytestmark = pytest.mark.rabbit

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}


def _node(cluster, uuid: str) -> dict:
    resp = requests.get(f'{cluster.url}/v1/nodes/{uuid}', headers=HEADERS, timeout=10)
    resp.raise_for_status()
    return resp.json()


def _provision(cluster, uuid: str, target: str, want: str | None = None) -> None:
    resp = requests.put(f'{cluster.url}/v1/nodes/{uuid}/states/provision', headers=HEADERS,
                        json={'target': target}, timeout=10)
    assert resp.status_code == 202, resp.text
    if want:
        processes.wait_for(lambda: _node(cluster, uuid)['provision_state'] == want,
                           what=f'{uuid} {want}')


def test_deploy_ending_during_a_database_outage_leaves_no_lock(rabbit_url, pg_url, tmp_path):
    cluster = SplitCluster(rabbit_url, db_url=pg_url, workdir=str(tmp_path),
                           conductor_options={'fake': {'deploy_delay': 1.5}})
    try:
        cluster.start()
        conductor = cluster.conductors[0]
        node = requests.post(f'{cluster.url}/v1/nodes', headers=HEADERS, timeout=10,
                             json={'driver': 'fake-hardware'}).json()
        uuid = node['uuid']
        _provision(cluster, uuid, 'manage', 'manageable')
        _provision(cluster, uuid, 'provide', 'available')
        _provision(cluster, uuid, 'active')
        # started: the conductor wrote its start (the API's acceptance already shows
        # "deploying"; the lock alone may still hold a request not started)
        processes.wait_for(lambda: f'Node {uuid} moved from available to deploying'
                           in conductor.log_tail(2000), what='deploy under way')
        with faults.pg_outage(pg_url):
            # the deploy ends during the outage: it cannot record its end nor release its lock
            processes.wait_for(lambda: 'the database is unreachable' in conductor.log_tail(400),
                               timeout=30, what='the deploy ending during the outage')
        # the database is back: the task's end is written on its retry
        final = processes.wait_for(
            lambda: (lambda n: n if not n['reservation']
                     and n['provision_state'] == 'deploy failed' else None)(
                _node(cluster, uuid)), timeout=60, what='node failed and unlocked')
        assert 'the database could not be reached' in final['last_error']
        log = conductor.log_tail(2000)
        # one move to "deploy failed", written; none of the moves the outage prevented
        assert log.count('moved from deploying to deploy failed') == 1, log
        assert 'moved from deploying to active' not in log, log
        # the node works again
        _provision(cluster, uuid, 'active', 'active')
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        cluster.stop()


async def test_outage_longer_than_the_retries_is_recovered_by_the_periodic(pg_url,
                                                                            monkeypatch):
    """The task gives up writing its end (the retry window is shortened from 30 s to 1 s for
    the test); the node stays locked in the conductor's name until the periodic
    ``recover_own_locks`` finds a lock no task of this process holds."""
    monkeypatch.setattr(task_manager, 'END_WRITE_RETRY_SECONDS', 1.0)
    h = await Harness(pg_url, **{'fake.deploy_delay': 0.5}).start()
    try:
        node = await h.db.create_node({'driver': 'fake-hardware',
                                       'provision_state': states.AVAILABLE})
        resp = await h.request('PUT', f'/v1/nodes/{node.uuid}/states/provision',
                               json={'target': 'active'})
        assert resp.status == 202, await resp.text()
        deadline = time.monotonic() + 30

        async def started() -> bool:
            # the API's acceptance already shows "deploying"; started = locked, intent taken
            n = await h.db.get_node(node.id)
            return n.reservation == h.host and n.intent is None

        while not await started():
            assert time.monotonic() < deadline, 'deploy did not start'
            await asyncio.sleep(0.05)
        with faults.pg_outage(pg_url):
            await h.service.drain(timeout=30)  # the worker ended, giving up on its writes
        assert not h.env.workers.busy
        left = await _retrying_db(h.db.get_node, node.id)
        assert left.reservation == h.host and left.provision_state == states.DEPLOYING
        assert await periodics.recover_own_locks(h.env) == 1
        node = await h.db.get_node(node.id)
        assert node.reservation is None and node.provision_state == states.DEPLOYFAIL
        assert 'database was unreachable' in node.last_error
    finally:
        await h.stop()


async def _retrying_db(fn, *args):
    """The first query after an outage may meet a connection the server closed."""
    for _ in range(20):
        try:
            return await fn(*args)
        except Exception:  # noqa: BLE001 - a stale pooled connection, reconnecting
            await asyncio.sleep(0.1)
    return await fn(*args)
