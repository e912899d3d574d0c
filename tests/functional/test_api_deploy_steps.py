"""API 1.69: ``deploy_steps`` in the provision request, through the HTTP API and the
in-process conductor with the fake interfaces' steps, as upstream Ironic: hidden (406) at
1.68, only with ``active``/``rebuild``, checked against upstream's deploy step schema, merged
with the deploy templates' and the driver's steps (a request step wins over a template step of
the same name), invalid ones failing the deploy, kept in ``driver_internal_info`` until the
deploy ends.
"""
from __future__ import annotations

import pytest

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver
from tests.functional.test_steps import SETTINGS, bios, node_with_traits, step, template

BIOS_STEP = step('bios', 'apply_configuration', 150, settings=SETTINGS)


async def _provision(h, ident: str, body: dict, version: str = '1.69'):
    return await h.request('PUT', f'/v1/nodes/{ident}/states/provision', json=body,
                           headers=ver(version))


async def test_deploy_steps_hidden_at_1_68(harness):
    node = await api.available_node(harness)
    resp = await _provision(harness, node['uuid'], {'target': 'active',
                                                    'deploy_steps': [BIOS_STEP]}, '1.68')
    inner = await fault(resp, 406)
    assert '1.69' in inner['faultstring']
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'available'


async def test_deploy_steps_run_at_1_69(harness):
    node = await api.available_node(harness)
    resp = await _provision(harness, node['uuid'], {'target': 'active',
                                                    'deploy_steps': [BIOS_STEP]})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    done = await api.get_node(harness, node['uuid'])
    assert done['provision_state'] == 'active' and done['last_error'] is None, done
    assert await bios(harness, node['uuid']) == {s['name']: s['value'] for s in SETTINGS}
    # as upstream, the request's steps are forgotten when the deploy ends
    assert 'user_deploy_steps' not in done['driver_internal_info']
    assert 'deploy_steps' not in done['driver_internal_info']


async def test_rebuild_takes_deploy_steps_and_a_string_priority(harness):
    node = await api.available_node(harness)
    await api.move(harness, node['uuid'], 'active', 'active')
    assert await bios(harness, node['uuid']) == {}
    resp = await _provision(harness, node['uuid'], {
        'target': 'rebuild', 'deploy_steps': [{**BIOS_STEP, 'priority': '150'}]})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    done = await api.get_node(harness, node['uuid'])
    assert done['provision_state'] == 'active' and done['last_error'] is None, done
    assert await bios(harness, node['uuid']) == {s['name']: s['value'] for s in SETTINGS}


async def test_request_step_wins_over_the_template_step(harness):
    """The template would factory-reset the BIOS; the request disables that step (priority
    0) and applies settings instead."""
    await template(harness, 'CUSTOM_RESET', step('bios', 'factory_reset', 160))
    node = await node_with_traits(harness, 'CUSTOM_RESET')
    resp = await _provision(harness, node['uuid'], {
        'target': 'active',
        'deploy_steps': [step('bios', 'factory_reset', 0), BIOS_STEP]})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    done = await api.get_node(harness, node['uuid'])
    assert done['provision_state'] == 'active' and done['last_error'] is None, done
    assert await bios(harness, node['uuid']) == {s['name']: s['value'] for s in SETTINGS}


@pytest.mark.parametrize('target', ['manage', 'provide', 'deleted', 'clean'])
async def test_deploy_steps_only_with_active_or_rebuild(harness, target):
    node = await api.create_node(harness)
    resp = await _provision(harness, node['uuid'], {'target': target,
                                                    'deploy_steps': [BIOS_STEP]})
    inner = await fault(resp, 400)
    assert '"deploy_steps" is only valid' in inner['faultstring']


async def test_empty_deploy_steps_are_none(harness):
    """As upstream, an empty list is no deploy steps: accepted with any target."""
    node = await api.create_node(harness)
    resp = await _provision(harness, node['uuid'], {'target': 'manage', 'deploy_steps': []})
    assert resp.status == 202, await resp.text()


@pytest.mark.parametrize('bad', [
    {'interface': 'bios', 'step': 'apply_configuration', 'args': {}},          # no priority
    {'interface': 'bios', 'step': 'apply_configuration', 'priority': 1},       # no args
    {**BIOS_STEP, 'priority': -1},
    {**BIOS_STEP, 'priority': 'high'},
    {**BIOS_STEP, 'interface': 'boot'},
    {**BIOS_STEP, 'step': ''},
    {**BIOS_STEP, 'extra': 1},
])
async def test_deploy_steps_schema(harness, bad):
    node = await api.available_node(harness)
    resp = await _provision(harness, node['uuid'], {'target': 'active', 'deploy_steps': [bad]})
    inner = await fault(resp, 400)
    assert 'Invalid deploy_steps' in inner['faultstring']
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'available'


async def test_unknown_deploy_step_fails_the_deploy(harness):
    node = await api.available_node(harness)
    resp = await _provision(harness, node['uuid'], {
        'target': 'active', 'deploy_steps': [step('bios', 'do_magic', 150)]})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    failed = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}'))
    assert failed['provision_state'] == 'deploy failed', failed
    assert 'Validation of deploy steps from "deploy steps" argument failed' in \
        failed['last_error']
    assert 'do_magic' in failed['last_error']
    assert 'user_deploy_steps' not in failed['driver_internal_info']
