"""Clients read what they asked for: the state after a 202 (issue 8).

Nova's ironic driver polls the node right after its ``PUT …/states/provision`` and stops as
soon as it reads ``active`` (a deploy or rebuild "finished") or raises ``InstanceNotFound``
when it reads ``available`` or a target of ``deleted``/``available``. Upstream answers 202 only
after its conductor made the first transition, so the very first read shows the operation
under way. These tests replay Nova's wait loops (and the CLI's ``--wait``) against the real
daemons — all-in-one and split over RabbitMQ — with fake interfaces slow enough that a read
right after the 202 cannot see the operation already finished.
"""
from __future__ import annotations

import time

import pytest
import requests

from ironic_lite.testing import cli
from ironic_lite.testing.aio import AioDaemon
from ironic_lite.testing.cluster import SplitCluster

HEADERS = {'X-OpenStack-Ironic-API-Version': 'latest', 'X-Auth-Token': 'notused'}
_IFACES = ('boot', 'deploy', 'management', 'power', 'vendor', 'bios', 'console', 'rescue')
FAKE = {
    'DEFAULT': {'enabled_hardware_types': ['fake-hardware'],
                **{f'enabled_{i}_interfaces': ['fake'] for i in _IFACES}},
    # long enough that the first read after a 202 cannot come after the work ended
    'fake': {'deploy_delay': 0.5, 'power_delay': 0.5},
}


@pytest.fixture(params=['all-in-one', 'split'])
def url(request, tmp_path):
    if request.param == 'all-in-one':
        daemon = AioDaemon(str(tmp_path), FAKE).start()
        try:
            yield daemon.url
        finally:
            daemon.stop()
        return
    rabbit_url = request.getfixturevalue('rabbit_url')
    cluster = SplitCluster(rabbit_url, workdir=str(tmp_path), conductor_options=FAKE,
                           api_options=FAKE)
    try:
        yield cluster.start().url
    finally:
        cluster.stop()


class InstanceNotFound(Exception):
    """What Nova raises when the node it waits for looks deleted."""


class DeployFailure(Exception):
    pass


def _call(method: str, url: str, **kwargs) -> requests.Response:
    return requests.request(method, url, headers=HEADERS, timeout=30, **kwargs)


def _node(url: str, uuid: str) -> dict:
    resp = _call('GET', f'{url}/v1/nodes/{uuid}')
    assert resp.status_code == 200, resp.text
    return resp.json()


def _provision(url: str, uuid: str, target: str) -> None:
    resp = _call('PUT', f'{url}/v1/nodes/{uuid}/states/provision', json={'target': target})
    assert resp.status_code == 202, resp.text


def _seen(node: dict) -> tuple:
    return node['provision_state'], node['target_provision_state']


def nova_wait_for_active(url: str, uuid: str, timeout: float = 60) -> list[tuple]:
    """Nova's ``_wait_for_active``: polled at once after the 202, then at short intervals."""
    seen: list[tuple] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = _node(url, uuid)
        seen.append(_seen(node))
        if node['target_provision_state'] in ('deleted', 'available'):
            raise InstanceNotFound(f'target {node["target_provision_state"]}: {seen}')
        if node['provision_state'] in (None, 'available'):
            raise InstanceNotFound(f'state {node["provision_state"]}: {seen}')
        if node['provision_state'] == 'deploy failed':
            raise DeployFailure(f'{node["last_error"]}: {seen}')
        if node['provision_state'] == 'active':
            return seen
        time.sleep(0.02)
    raise AssertionError(f'not active after {timeout} s: {seen}')


def nova_wait_for_unprovision(url: str, uuid: str, timeout: float = 60) -> list[tuple]:
    """Nova's ``_unprovision`` loop: done once the node is cleaning or available."""
    seen: list[tuple] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        node = _node(url, uuid)
        seen.append(_seen(node))
        if node['provision_state'] in (None, 'cleaning', 'clean wait', 'clean failed',
                                       'available'):
            return seen
        time.sleep(0.02)
    raise AssertionError(f'not unprovisioned after {timeout} s: {seen}')


def _available_node(url: str) -> str:
    resp = _call('POST', f'{url}/v1/nodes', json={'driver': 'fake-hardware'})
    assert resp.status_code == 201, resp.text
    uuid = resp.json()['uuid']
    for target, state in (('manage', 'manageable'), ('provide', 'available')):
        _provision(url, uuid, target)
        _wait_state(url, uuid, state)
    return uuid


def _wait_state(url: str, uuid: str, state: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        node = _node(url, uuid)
        if node['provision_state'] == state and node['reservation'] is None:
            return node
        assert time.monotonic() < deadline, f'{state}: {node}'
        time.sleep(0.02)


def test_nova_spawn_rebuild_and_destroy_see_the_operation_under_way(url):
    uuid = _available_node(url)
    _provision(url, uuid, 'active')
    seen = nova_wait_for_active(url, uuid)
    assert seen[0] == ('deploying', 'active'), seen

    _provision(url, uuid, 'rebuild')
    seen = nova_wait_for_active(url, uuid)
    # a rebuild that reads "active" first would "finish" before it started
    assert seen[0] == ('deploying', 'active'), seen
    assert len(seen) > 1, seen

    _provision(url, uuid, 'deleted')
    seen = nova_wait_for_unprovision(url, uuid)
    assert seen[0] == ('deleting', 'available'), seen
    node = _wait_state(url, uuid, 'available')
    assert node['last_error'] is None and node['target_provision_state'] is None


@pytest.mark.parametrize('target,shown', [('rebooting', 'power on'),
                                          ('power off', 'power off'),
                                          ('power on', 'power on')])
def test_power_request_shows_its_target_at_once(url, target, shown):
    uuid = _available_node(url)
    resp = _call('PUT', f'{url}/v1/nodes/{uuid}/states/power', json={'target': target})
    assert resp.status_code == 202, resp.text
    node = _node(url, uuid)
    assert node['target_power_state'] == shown, node
    deadline = time.monotonic() + 60
    while node['target_power_state'] is not None:
        assert time.monotonic() < deadline, node
        time.sleep(0.02)
        node = _node(url, uuid)
    assert node['power_state'] == shown and node['last_error'] is None, node


def test_provide_right_after_inspect_waits_for_it(url):
    """A request depending on an accepted one waits for it within the lock-retry policy."""
    uuid = _available_node(url)
    _provision(url, uuid, 'manage')
    _wait_state(url, uuid, 'manageable')
    _provision(url, uuid, 'inspect')
    _provision(url, uuid, 'provide')  # 202, not 400 "inspecting" nor 409
    node = _wait_state(url, uuid, 'available')
    assert node['last_error'] is None, node


def test_cli_rebuild_wait_returns_once_the_rebuild_is_done(url):
    """``openstack baremetal node rebuild --wait`` polls for ``active``: it must not return
    before the rebuild ran (it used to read the pre-request ``active`` at once)."""
    uuid = _available_node(url)
    _provision(url, uuid, 'active')
    before = _wait_state(url, uuid, 'active')
    proc = cli.openstack_baremetal(url, 'node', 'rebuild', uuid, '--wait', '60')
    assert proc.returncode == 0, proc.stderr
    node = _node(url, uuid)
    assert node['provision_state'] == 'active' and node['last_error'] is None, node
    assert node['provision_updated_at'] > before['provision_updated_at'], (before, node)
    resp = _call('GET', f'{url}/v1/nodes/{uuid}')
    assert resp.json()['target_provision_state'] is None
