"""The shipped commands as real processes: all-in-one without a broker, graceful SIGTERM."""
from __future__ import annotations

import requests

from ironic_lite.testing import processes, services
from ironic_lite.testing.cluster import API_READY, SplitCluster

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest'}


def _get(url: str) -> dict:
    resp = requests.get(url, headers=HEADERS, timeout=10)
    resp.raise_for_status()
    return resp.json()


def _walk_to(base: str, node: str, steps) -> None:
    for target, want in steps:
        resp = requests.put(f'{base}/v1/nodes/{node}/states/provision', headers=HEADERS,
                            json={'target': target}, timeout=10)
        assert resp.status_code == 202, resp.text
        processes.wait_for(lambda w=want: _get(f'{base}/v1/nodes/{node}')[
            'provision_state'] == w, what=want)


def test_all_in_one_serves_the_api_on_sqlite_without_a_broker(tmp_path):
    port = services.free_port()
    daemon = processes.Daemon('ironic-lite', {
        'DEFAULT': {'host': 'aio', 'state_path': str(tmp_path),
                    # a broker URL that cannot work proves none is used
                    'transport_url': 'rabbit://nobody:nothing@127.0.0.1:1/'},
        'api': {'host_ip': '127.0.0.1', 'port': port},
    }, ready_text=API_READY, workdir=str(tmp_path))
    daemon.start()
    try:
        base = f'http://127.0.0.1:{port}'
        assert _get(base + '/')['default_version']['status'] == 'CURRENT'
        node = requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10,
                             json={'driver': 'fake-hardware', 'name': 'aio-0'}).json()
        _walk_to(base, node['uuid'], [('manage', 'manageable'), ('provide', 'available'),
                                      ('active', 'active'), ('deleted', 'available')])
        assert (tmp_path / 'ironic_lite.sqlite').exists()
    finally:
        assert daemon.stop() == 0, daemon.log_tail()


def test_sigterm_fails_in_flight_deploy_cleanly_and_releases_locks(rabbit_url, tmp_path):
    cluster = SplitCluster(rabbit_url, workdir=str(tmp_path), conductor_options={
        'fake': {'deploy_delay': 600},
        'conductor': {'graceful_shutdown_timeout': 1}})
    try:
        cluster.start()
        base = cluster.url
        node = requests.post(f'{base}/v1/nodes', headers=HEADERS, timeout=10,
                             json={'driver': 'fake-hardware'}).json()['uuid']
        _walk_to(base, node, [('manage', 'manageable'), ('provide', 'available')])
        resp = requests.put(f'{base}/v1/nodes/{node}/states/provision', headers=HEADERS,
                            json={'target': 'active'}, timeout=10)
        assert resp.status_code == 202
        processes.wait_for(lambda: _get(f'{base}/v1/nodes/{node}')['reservation'],
                           what='deploy running')
        assert cluster.conductors[0].stop() == 0
        final = _get(f'{base}/v1/nodes/{node}')
        assert final['reservation'] is None
        assert final['provision_state'] == 'deploy failed'
        assert 'conductor was stopped' in final['last_error']
        drivers = _get(f'{base}/v1/drivers')['drivers']
        assert drivers == []  # the stopped conductor went offline
    finally:
        cluster.stop()
