"""The state every provision verb and power request shows right after its 202, before any
conductor started the work (the cast is held back): upstream's post-call state (issue 8)."""
import pytest

from ironic_lite.conductor import periodics
from ironic_lite.rpcapi.conductor import ConductorAPI
from tests.functional import api_helpers as api


class Hold:
    """While ``on``, casts are recorded and not sent: a client reads what the API wrote."""
    def __init__(self) -> None:
        self.on = False
        self.held: list[str] = []


@pytest.fixture
def held_casts(monkeypatch):
    hold = Hold()
    original = ConductorAPI._cast

    async def maybe_hold(self, node, method, *args, **kwargs):
        if hold.on:
            hold.held.append(method)
            return None
        return await original(self, node, method, *args, **kwargs)

    monkeypatch.setattr(ConductorAPI, '_cast', maybe_hold)
    return hold


async def _start_held(h) -> None:
    """What a conductor's re-drive does with accepted requests whose cast did not arrive."""
    await periodics.redrive_intents(h.env, min_age=0)
    await h.drain()


async def _node_in(h, state: str) -> str:
    node = await api.create_node(h, driver='fake-hardware')
    path = {'enroll': [], 'manageable': [('manage', 'manageable')],
            'available': [('manage', 'manageable'), ('provide', 'available')],
            'active': [('manage', 'manageable'), ('provide', 'available'),
                       ('active', 'active')],
            'rescue': [('manage', 'manageable'), ('provide', 'available'),
                       ('active', 'active'), ('rescue', 'rescue')]}[state]
    for target, expected in path:
        body = {'rescue_password': 'pw'} if target == 'rescue' else {}
        await api.move(h, node['uuid'], target, expected, **body)
    return node['uuid']


@pytest.mark.parametrize('start,target,body,shown,final', [
    ('available', 'active', {}, ('deploying', 'active'), 'active'),
    ('active', 'rebuild', {}, ('deploying', 'active'), 'active'),
    ('active', 'deleted', {}, ('deleting', 'available'), 'available'),
    ('enroll', 'manage', {}, ('verifying', 'manageable'), 'manageable'),
    ('available', 'manage', {}, ('manageable', None), 'manageable'),
    ('manageable', 'provide', {}, ('cleaning', 'available'), 'available'),
    ('manageable', 'clean', {'clean_steps': [{'interface': 'bios', 'step': 'factory_reset'}]},
     ('cleaning', 'manageable'), 'manageable'),
    ('manageable', 'inspect', {}, ('inspecting', 'manageable'), 'manageable'),
    ('manageable', 'adopt', {}, ('adopting', 'active'), 'active'),
    ('active', 'rescue', {'rescue_password': 'pw'}, ('rescuing', 'rescue'), 'rescue'),
    ('rescue', 'unrescue', {}, ('unrescuing', 'active'), 'active'),
])
async def test_provision_verbs(harness, held_casts, start, target, body, shown, final):
    uuid = await _node_in(harness, start)
    held_casts.on = True
    resp = await api.provision(harness, uuid, target, **body)
    assert resp.status == 202, await resp.text()
    node = await api.get_node(harness, uuid)
    assert (node['provision_state'], node['target_provision_state']) == shown
    assert node['last_error'] is None
    assert held_casts.held, 'the request was cast'
    # the accepted request is started from the state it was accepted in, and ends well
    await _start_held(harness)
    node = await api.get_node(harness, uuid)
    assert (node['provision_state'], node['target_provision_state'],
            node['last_error']) == (final, None, None), node


@pytest.mark.parametrize('target,shown', [
    ('power on', 'power on'), ('power off', 'power off'), ('rebooting', 'power on'),
    ('soft power off', 'power off'), ('soft rebooting', 'power on')])
async def test_power_targets(harness, held_casts, target, shown):
    uuid = await _node_in(harness, 'manageable')
    held_casts.on = True
    resp = await harness.request('PUT', f'/v1/nodes/{uuid}/states/power',
                                 json={'target': target},
                                 headers=api.ver('1.27'))
    assert resp.status == 202, await resp.text()
    node = await api.get_node(harness, uuid)
    assert node['target_power_state'] == shown
    await _start_held(harness)
    node = await api.get_node(harness, uuid)
    assert (node['power_state'], node['target_power_state']) == (shown, None), node
