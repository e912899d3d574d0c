"""Deploy steps and clean steps run through one runner (``conductor/step_runner.py``) and fail
through one path: the same real fake step, failing the same way, leaves a failed deploy and a
failed manual cleaning with the same fields cleared and the same shape of error — only what
upstream does differently per kind differs (the wording, maintenance after a clean step).
"""
from __future__ import annotations

import functools

import pytest

from ironic_lite.common import exception
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.drivers import base
from ironic_lite.drivers.modules import fake
from tests.functional import api_helpers as api
from tests.functional.test_steps import assert_steps_cleared, node_with_traits, template

BAD_SETTINGS = 'LogicalProc=on'


def bios_step(name: str, priority: int | None = None, **args) -> dict:
    step = {'interface': 'bios', 'step': name, 'args': args}
    if priority is not None:
        step['priority'] = priority
    return step


async def failed_deploy(h, step: dict) -> dict:
    """A deploy whose template runs ``step`` before ``deploy.deploy``."""
    await template(h, 'CUSTOM_STEP', {**step, 'priority': 150})
    node = await node_with_traits(h, 'CUSTOM_STEP')
    return await api.move(h, node['uuid'], 'active', 'deploy failed')


async def failed_clean(h, step: dict) -> dict:
    """A manual cleaning running ``step``."""
    node = await api.create_node(h)
    await api.move(h, node['uuid'], 'manage', 'manageable')
    return await api.move(h, node['uuid'], 'clean', 'clean failed', clean_steps=[step])


def shape(node: dict) -> dict:
    """What every failed step operation leaves, whatever its kind."""
    return {'target_power_state': node['target_power_state'],
            'deploy_step': node['deploy_step'], 'clean_step': node['clean_step'],
            'step keys': sorted(k for k in node['driver_internal_info']
                                if k.endswith(('_steps', '_step_index')))}


def step_error() -> str:
    with pytest.raises(exception.InvalidParameterValue) as err:
        base.bios_settings(BAD_SETTINGS)
    return str(err.value)


async def test_a_failing_step_fails_deploy_and_cleaning_alike(harness):
    step = bios_step('apply_configuration', settings=BAD_SETTINGS)
    deploy = await failed_deploy(harness, step)
    clean = await failed_clean(harness, step)
    assert shape(deploy) == shape(clean) == {
        'target_power_state': None, 'deploy_step': {}, 'clean_step': {}, 'step keys': []}
    assert_steps_cleared(deploy)
    assert_steps_cleared(clean)
    # one error shape: the kind's (upstream's) wording naming the step, then the step's error
    assert deploy['last_error'] == ('Deploy step bios.apply_configuration failed: '
                                    f'{step_error()}')
    assert clean['last_error'].startswith(f'Node {clean["uuid"]} failed step ')
    assert "'step': 'apply_configuration'" in clean['last_error']
    assert clean['last_error'].endswith(f': {step_error()}')
    # what upstream does per kind: a failed clean step puts the node in maintenance
    assert deploy['maintenance'] is False and deploy['fault'] is None
    assert clean['maintenance'] is True and clean['fault'] == 'clean failure'


async def test_a_step_returning_an_unexpected_value_fails_either_kind(harness, monkeypatch):
    original = fake.FakeBIOS.factory_reset

    @functools.wraps(original)        # keeps its step declarations
    async def returns_garbage(self, task):
        await original(self, task)
        return 'garbage'

    monkeypatch.setattr(fake.FakeBIOS, 'factory_reset', returns_garbage)
    step = bios_step('factory_reset')
    deploy = await failed_deploy(harness, step)
    clean = await failed_clean(harness, step)
    assert shape(deploy) == shape(clean)
    assert deploy['last_error'] == ("Deploy step bios.factory_reset returned an unexpected "
                                    "value: 'garbage'")
    assert clean['last_error'].startswith('While executing step ')
    assert clean['last_error'].endswith(f"on node {clean['uuid']}, step returned invalid "
                                        "value: 'garbage'")
    assert clean['maintenance'] is True


async def test_steps_resume_only_in_a_step_operation(harness):
    node = await api.available_node(harness)
    async with acquire(harness.env, node['uuid'], purpose='test') as task:
        with pytest.raises(exception.InvalidStateRequested, match='resume steps'):
            await task.resume_steps()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'available'
