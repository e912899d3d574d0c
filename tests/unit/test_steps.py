"""The steps framework: declarations on interfaces, how a node's clean and deploy steps are
worked out (templates, overrides, priorities, interface ties), as upstream Ironic does.

Runs against the real conductor pieces (a harness's database, drivers and task manager).
"""
from __future__ import annotations

import pytest

from ironic_lite.common import exception
from ironic_lite.conductor import steps
from ironic_lite.conductor.task_manager import acquire
from ironic_lite.db import models
from ironic_lite.drivers import base
from ironic_lite.drivers.modules import agent, fake, iscsi_deploy, noop
from ironic_lite.testing.harness import Harness

CORE = ('deploy', 'deploy', 100)


@pytest.fixture
async def h(sqlite_url):
    harness = await Harness(sqlite_url).start()
    yield harness
    await harness.stop()


def ids(step_list) -> list[tuple]:
    return [(s['interface'], s['step'], s['priority']) for s in step_list]


async def node(h, traits=(), instance_traits=None, **values) -> models.Node:
    wanted = list(traits) if instance_traits is None else instance_traits
    n = await h.db.create_node({'driver': 'fake-hardware', 'provision_state': 'available',
                                'instance_info': {'traits': wanted}, **values})
    await h.db.set_node_traits(n.id, traits)
    return n


async def templates(h, **named) -> None:
    for name, step_list in named.items():
        await h.db.create_resource(models.DeployTemplate, {'name': name, 'steps': [
            {'interface': i, 'step': s, 'priority': p, 'args': a} for i, s, p, a in step_list]})


# -- declarations ------------------------------------------------------------------------
@pytest.mark.parametrize('kwargs', [{'priority': -1}, {'priority': True}, {'priority': '5'},
                                    {'priority': 1, 'argsinfo': ['settings']},
                                    {'priority': 1, 'argsinfo': {'a': {'required': True}}},
                                    {'priority': 1, 'argsinfo': {'a': {'description': 'x',
                                                                       'other': 1}}}])
def test_wrong_step_declarations_are_refused_at_definition(kwargs):
    for decorator in (base.clean_step, base.deploy_step):
        with pytest.raises(exception.InvalidParameterValue):
            @decorator(**kwargs)
            async def a_step(self, task, **args):
                pass


def test_interfaces_declare_their_steps():
    bios = {s['step']: s for s in fake.FakeBIOS().get_clean_steps(None)}
    assert set(bios) == {'apply_configuration', 'factory_reset'}
    assert bios['apply_configuration'] == {
        'step': 'apply_configuration', 'interface': 'bios', 'priority': 0, 'abortable': False,
        'requires_ramdisk': True, 'argsinfo': base.BIOS_SETTINGS_ARGSINFO}
    assert {s['step'] for s in fake.FakeBIOS().get_deploy_steps(None)} == set(bios)
    raid = fake.FakeRAID()
    assert {s['step'] for s in raid.get_clean_steps(None)} == {'create_configuration',
                                                               'delete_configuration'}
    # apply_configuration is declared once, on the RAID contract, for every implementation
    assert ids(raid.get_deploy_steps(None)) == [('raid', 'apply_configuration', 0)]
    # every deploy interface has the core step deploy.deploy, decorated or not
    for iface in (fake.FakeDeploy(), iscsi_deploy.ISCSIDeploy(), agent.AgentDeploy()):
        assert ids(iface.get_deploy_steps(None)) == [CORE]
        assert iface.get_clean_steps(None) == []
    # callers may change what they get without touching the declarations
    raid.get_clean_steps(None)[0]['priority'] = 99
    assert all(s['priority'] == 0 for s in raid.get_clean_steps(None))


def test_raid_interface_is_the_drivers_and_no_raid_has_none():
    class Task:
        class driver:  # noqa: N801 - stands for a Driver instance
            raid = fake.FakeRAID()
            inspect = noop.NoInspect()
    assert base.get_interface(Task, 'raid') is Task.driver.raid
    Task.driver.raid = noop.NoRAID()
    assert base.get_interface(Task, 'raid') is None
    assert base.get_interface(Task, 'inspect') is None
    assert Task.driver.raid.get_clean_steps(None) == []


def test_equal_priorities_are_ordered_by_interface_as_upstream():
    given = [{'interface': i, 'step': 'x', 'priority': 10}
             for i in ('raid', 'bios', 'deploy', 'management', 'power', 'vendor')]
    given.append({'interface': 'raid', 'step': 'y', 'priority': 11})
    assert [(s['interface'], s['priority']) for s in steps.sorted_steps(given)] == [
        ('raid', 11), ('vendor', 10), ('power', 10), ('management', 10), ('deploy', 10),
        ('bios', 10), ('raid', 10)]


# -- deploy steps ------------------------------------------------------------------------
async def test_deploy_steps_without_templates_are_the_core_step(h):
    n = await node(h)
    async with acquire(h.env, n.id, purpose='test') as task:
        assert ids(await steps.all_deploy_steps(task)) == [CORE]


async def test_template_steps_merge_with_the_driver_steps(h):
    settings = [{'name': 'A', 'value': '1'}]
    await templates(h, CUSTOM_A=[('bios', 'apply_configuration', 100, {'settings': settings})],
                    CUSTOM_B=[('raid', 'apply_configuration', 100, {'raid_config': {}}),
                              ('bios', 'factory_reset', 0, {})],
                    CUSTOM_UNUSED=[('bios', 'nonexistent', 1, {})])
    n = await node(h, traits=['CUSTOM_A', 'CUSTOM_B', 'CUSTOM_UNUSED'],
                   instance_traits=['CUSTOM_A', 'CUSTOM_B'], raid_interface='fake')
    async with acquire(h.env, n.id, purpose='test') as task:
        result = await steps.all_deploy_steps(task)
        # same priority: deploy before bios before raid; the priority 0 step is left out
        assert ids(result) == [CORE, ('bios', 'apply_configuration', 100),
                               ('raid', 'apply_configuration', 100)]
        assert result[1]['args'] == {'settings': settings}


async def test_a_template_disables_the_core_step(h):
    await templates(h, CUSTOM_A=[('deploy', 'deploy', 0, {}), ('bios', 'factory_reset', 5, {})])
    n = await node(h, traits=['CUSTOM_A'])
    async with acquire(h.env, n.id, purpose='test') as task:
        assert ids(await steps.all_deploy_steps(task)) == [('bios', 'factory_reset', 5)]


async def test_the_same_step_in_two_templates_is_refused(h):
    await templates(h, CUSTOM_A=[('bios', 'factory_reset', 5, {})],
                    CUSTOM_B=[('bios', 'factory_reset', 6, {})])
    n = await node(h, traits=['CUSTOM_A', 'CUSTOM_B'])
    async with acquire(h.env, n.id, purpose='test') as task:
        with pytest.raises(exception.InvalidParameterValue,
                           match='Duplicate deploy steps for bios.factory_reset'):
            await steps.all_deploy_steps(task)


@pytest.mark.parametrize('instance_traits,message', [
    ('CUSTOM_A', 'A list of strings is expected'),
    ([1], 'A list of strings is expected'),
    (['CUSTOM_A', 'CUSTOM_Z'], 'is missing traits CUSTOM_Z'),
])
async def test_instance_traits_are_checked(h, instance_traits, message):
    n = await node(h, traits=['CUSTOM_A'], instance_traits=instance_traits)
    async with acquire(h.env, n.id, purpose='test') as task:
        with pytest.raises(exception.InvalidParameterValue, match=message):
            await steps.validated_template_steps(task)


# -- clean steps -------------------------------------------------------------------------
async def test_automated_cleaning_of_fake_nodes_has_no_steps(h):
    n = await node(h, raid_interface='fake')
    async with acquire(h.env, n.id, purpose='test') as task:
        assert await steps.set_node_cleaning_steps(task, None) == []
        assert task.node.driver_internal_info['clean_steps'] == []


async def test_manual_clean_steps_keep_the_users_order_with_the_drivers_flags(h):
    n = await node(h, raid_interface='fake')
    user = [{'interface': 'raid', 'step': 'delete_configuration'},
            {'interface': 'bios', 'step': 'apply_configuration',
             'args': {'settings': []}, 'priority': 99}]
    async with acquire(h.env, n.id, purpose='test') as task:
        result = await steps.set_node_cleaning_steps(task, user)
    assert result == [
        {'interface': 'raid', 'step': 'delete_configuration', 'args': {}, 'abortable': False,
         'priority': 0},
        {'interface': 'bios', 'step': 'apply_configuration', 'args': {'settings': []},
         'abortable': False, 'priority': 0}]
    assert user[1]['priority'] == 99        # the caller's list is not changed


async def test_every_problem_of_manual_clean_steps_is_reported(h):
    n = await node(h, raid_interface='no-raid')
    user = [{'interface': 'raid', 'step': 'delete_configuration'},
            {'interface': 'bios', 'step': 'apply_configuration', 'args': {'x': 1}}]
    async with acquire(h.env, n.id, purpose='test') as task:
        with pytest.raises(exception.InvalidParameterValue) as err:
            await steps.set_node_cleaning_steps(task, user)
    message = str(err.value)
    assert "node does not support this clean step: {'interface': 'raid'" in message
    assert 'has these unexpected arguments: x' in message
    assert 'is missing these required arguments: settings' in message
