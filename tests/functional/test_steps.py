"""Clean steps and deploy steps (with deploy templates) really run, as upstream Ironic runs
them: through the API, the in-process conductor and the fake interfaces' steps, whose results
are visible through the API (BIOS settings, ``raid_config``). The steps after ``deploy.deploy``
also run when the real ``direct`` (simulated ironic-python-agent) and ``iscsi`` (simulated
bash ramdisk, real tgtd and qemu-img) deploy interfaces finish. Nothing is mocked except one
test's step that looks at the node through the API while it runs.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import os

import pytest

from ironic_lite.drivers.modules import fake
from ironic_lite.testing.harness import Harness
from ironic_lite.testing.iscsi import (
    PASSWORD,
    USER,
    Background,
    IscsiAio,
    MiB,
    read,
    sparse_disk,
    tools_ok,
)
from ironic_lite.tools.agent_sim import SimAgent
from ironic_lite.tools.fakebmc import FakeBmcFleet
from tests.conftest import require
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok
from tests.unit.common.test_image_service import FakeImageServer

SETTINGS = [{'name': 'LogicalProc', 'value': 'Enabled'}, {'name': 'SriovGlobalEnable',
                                                           'value': 'Disabled'}]
RAID = {'logical_disks': [{'size_gb': 100, 'raid_level': '1', 'is_root_volume': True},
                          {'size_gb': 'MAX', 'raid_level': '5'}]}
DEPLOY_CORE = {'interface': 'deploy', 'step': 'deploy', 'priority': 100, 'argsinfo': None,
               'requires_ramdisk': True}


async def template(h, name: str, *steps: dict) -> dict:
    return await ok(await h.request('POST', '/v1/deploy_templates',
                                    json={'name': name, 'steps': list(steps)}), 201)


def step(interface: str, name: str, priority: int, **args) -> dict:
    return {'interface': interface, 'step': name, 'args': args, 'priority': priority}


async def node_with_traits(h, *traits: str, instance_traits=None, **values) -> dict:
    """An available fake-hardware node carrying ``traits``, asking for them as instance
    traits (what Nova puts in instance_info from the flavor)."""
    node = await api.available_node(h, **values)
    for trait in traits:
        resp = await h.request('PUT', f'/v1/nodes/{node["uuid"]}/traits/{trait}')
        assert resp.status == 204, await resp.text()
    wanted = list(traits) if instance_traits is None else instance_traits
    await ok(await h.request('PATCH', f'/v1/nodes/{node["uuid"]}', json=[
        {'op': 'add', 'path': '/instance_info/traits', 'value': wanted}]))
    return node


async def bios(h, ident: str) -> dict:
    listed = await ok(await h.request('GET', f'/v1/nodes/{ident}/bios'))
    return {s['name']: s['value'] for s in listed['bios']}


def assert_steps_cleared(node: dict) -> None:
    info = node['driver_internal_info']
    assert node['deploy_step'] == {} and node['clean_step'] == {}, node
    for key in ('deploy_steps', 'deploy_step_index', 'clean_steps', 'clean_step_index'):
        assert key not in info, (key, info)


# -- deploy templates -------------------------------------------------------------------
async def test_deploy_runs_the_template_bios_step(harness):
    await template(harness, 'CUSTOM_X', step('bios', 'apply_configuration', 150,
                                             settings=SETTINGS))
    node = await node_with_traits(harness, 'CUSTOM_X')
    done = await api.move(harness, node['uuid'], 'active', 'active')
    assert done['last_error'] is None
    assert await bios(harness, node['uuid']) == {'LogicalProc': 'Enabled',
                                                 'SriovGlobalEnable': 'Disabled'}
    assert_steps_cleared(done)
    # a node without the instance trait deploys without the template
    other = await api.available_node(harness)
    await api.move(harness, other['uuid'], 'active', 'active')
    assert await bios(harness, other['uuid']) == {}


async def test_steps_run_around_an_asynchronous_deploy_in_priority_order(harness):
    """bios (150) before deploy.deploy (100), raid (50) after it — also when deploy.deploy
    waits for its ramdisk: the remaining step runs when the deploy interface finishes."""
    await template(harness, 'CUSTOM_RAID_BIOS',
                   step('raid', 'apply_configuration', 50, raid_config=RAID),
                   step('bios', 'apply_configuration', 150, settings=SETTINGS[:1]))
    node = await node_with_traits(harness, 'CUSTOM_RAID_BIOS', raid_interface='fake',
                                  driver_info={'fake_deploy_wait': True})
    waiting = await api.move(harness, node['uuid'], 'active', 'wait call-back')
    # deploy.deploy is the running step while the node waits for its ramdisk
    assert waiting['deploy_step'] == DEPLOY_CORE
    info = waiting['driver_internal_info']
    assert [(s['interface'], s['step'], s['priority']) for s in info['deploy_steps']] == [
        ('bios', 'apply_configuration', 150), ('deploy', 'deploy', 100),
        ('raid', 'apply_configuration', 50)]
    assert info['deploy_step_index'] == 1
    assert await bios(harness, node['uuid']) == {'LogicalProc': 'Enabled'}   # ran before
    assert waiting['raid_config'] == {}                                       # not yet
    # the "ramdisk" calls back: the deploy interface finishes, the raid step runs, active
    resp = await harness.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru/pass_deploy_info',
        json={'address': '10.0.0.5', 'key': 'k'})
    assert resp.status == 202, await resp.text()
    await harness.drain()
    done = await api.get_node(harness, node['uuid'])
    assert done['provision_state'] == 'active' and done['last_error'] is None, done
    assert done['target_raid_config'] == RAID
    assert done['raid_config']['logical_disks'] == RAID['logical_disks']
    assert done['raid_config']['last_updated']
    assert done['properties']['local_gb'] == 100
    assert 'raid_level:1' in done['properties']['capabilities']
    assert_steps_cleared(done)


async def test_template_priority_zero_disables_a_driver_step(harness):
    """Disabling deploy.deploy: the waiting fake deploy never starts, the node goes active."""
    await template(harness, 'CUSTOM_NO_DEPLOY', step('deploy', 'deploy', 0),
                   step('bios', 'factory_reset', 10))
    node = await node_with_traits(harness, 'CUSTOM_NO_DEPLOY',
                                  driver_info={'fake_deploy_wait': True})
    done = await api.move(harness, node['uuid'], 'active', 'active')
    assert done['last_error'] is None
    assert_steps_cleared(done)


@pytest.mark.parametrize('steps,expected', [
    ([step('bios', 'do_magic', 150)],
     ["node does not support this deploy step", "'step': 'do_magic'", "'interface': 'bios'"]),
    ([step('bios', 'apply_configuration', 150)],
     ['is missing these required arguments: settings']),
    ([step('bios', 'factory_reset', 150, hard=True)],
     ['has these unexpected arguments: hard']),
    ([step('deploy', 'deploy', 120)], ['is a core step and cannot be overridden']),
    ([step('raid', 'apply_configuration', 50, raid_config=RAID)],   # no-raid node
     ["node does not support this deploy step", "'interface': 'raid'"]),
])
async def test_invalid_template_steps_fail_the_deploy_clearly(harness, steps, expected):
    await template(harness, 'CUSTOM_BAD', *steps)
    # no-raid (fake-hardware's default RAID interface is fake, as upstream)
    node = await node_with_traits(harness, 'CUSTOM_BAD', raid_interface='no-raid')
    failed = await api.move(harness, node['uuid'], 'active', 'deploy failed')
    message = failed['last_error']
    assert message.startswith('Failed to deploy: Validation of deploy steps from deploy '
                              'templates'), message
    assert 'CUSTOM_BAD' in message
    for text in expected:
        assert text in message, message
    assert failed['reservation'] is None
    assert_steps_cleared(failed)
    assert await bios(harness, node['uuid']) == {}


async def test_instance_traits_must_be_node_traits(harness):
    """As upstream: validate reports the deploy interface as failed, and the deploy is
    refused before it is accepted (400) — the node stays available, nothing is recorded."""
    await template(harness, 'CUSTOM_X', step('bios', 'factory_reset', 150))
    node = await node_with_traits(harness, 'CUSTOM_Y', instance_traits=['CUSTOM_X', 'CUSTOM_Y'])
    checked = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    assert checked['deploy']['result'] is False, checked
    assert 'is missing traits CUSTOM_X' in checked['deploy']['reason'], checked
    assert checked['power']['result'] is True
    inner = await fault(await api.provision(harness, node['uuid'], 'active'), 400)
    assert 'is missing traits CUSTOM_X' in inner['faultstring'], inner
    await harness.drain()
    kept = await api.get_node(harness, node['uuid'])
    assert kept['provision_state'] == 'available', kept
    assert kept['target_provision_state'] is None and kept['last_error'] is None, kept
    # once the node has the trait, validate and deploy pass
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/traits/CUSTOM_X')
    assert resp.status == 204
    checked = await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/validate'))
    assert checked['deploy']['result'] is True, checked
    await api.move(harness, node['uuid'], 'active', 'active')
    # a rebuild is checked the same way
    resp = await harness.request('DELETE', f'/v1/nodes/{node["uuid"]}/traits/CUSTOM_X')
    assert resp.status == 204
    await fault(await api.provision(harness, node['uuid'], 'rebuild'), 400)
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'


async def test_failing_template_step_fails_the_deploy_naming_it(harness):
    await template(harness, 'CUSTOM_BAD_SETTINGS',
                   step('bios', 'apply_configuration', 150, settings='LogicalProc=on'))
    node = await node_with_traits(harness, 'CUSTOM_BAD_SETTINGS')
    failed = await api.move(harness, node['uuid'], 'active', 'deploy failed')
    assert failed['last_error'].startswith('Deploy step bios.apply_configuration failed: '
                                           'BIOS settings must be a list'), failed
    assert_steps_cleared(failed)
    # a fixed template deploys
    tpl = await ok(await harness.request('GET', '/v1/deploy_templates/CUSTOM_BAD_SETTINGS'))
    await ok(await harness.request('PATCH', f'/v1/deploy_templates/{tpl["uuid"]}', json=[
        {'op': 'replace', 'path': '/steps/0/args/settings', 'value': SETTINGS}]))
    await api.move(harness, node['uuid'], 'active', 'active')
    assert await bios(harness, node['uuid']) == {'LogicalProc': 'Enabled',
                                                 'SriovGlobalEnable': 'Disabled'}


# -- cleaning ---------------------------------------------------------------------------
async def manageable_node(h, **values) -> dict:
    node = await api.create_node(h, **values)
    return await api.move(h, node['uuid'], 'manage', 'manageable')


async def clean(h, ident: str, expected: str, *steps: dict) -> dict:
    return await api.move(h, ident, 'clean', expected, clean_steps=list(steps))


async def test_manual_clean_builds_the_target_raid_config(harness):
    node = await manageable_node(harness, raid_interface='fake')
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/raid', json=RAID)
    assert resp.status == 204, await resp.text()
    done = await clean(harness, node['uuid'], 'manageable',
                       {'interface': 'raid', 'step': 'create_configuration',
                        'args': {'create_nonroot_volumes': False}})
    assert done['last_error'] is None
    assert done['raid_config']['logical_disks'] == RAID['logical_disks'][:1]
    assert done['properties']['local_gb'] == 100
    assert_steps_cleared(done)
    done = await clean(harness, node['uuid'], 'manageable',
                       {'interface': 'raid', 'step': 'delete_configuration'})
    assert done['raid_config'] == {}


async def test_manual_clean_runs_steps_in_order_showing_the_running_one(harness,
                                                                       monkeypatch):
    seen = []
    original = fake.FakeBIOS.apply_configuration

    @functools.wraps(original)
    async def looking(self, task, settings):
        shown = await api.get_node(harness, task.node.uuid)   # through the API, mid-step
        seen.append((shown['provision_state'], shown['clean_step'],
                     shown['driver_internal_info']['clean_step_index']))
        return await original(self, task, settings)

    monkeypatch.setattr(fake.FakeBIOS, 'apply_configuration', looking)
    node = await manageable_node(harness)
    first = {'interface': 'bios', 'step': 'factory_reset'}
    second = {'interface': 'bios', 'step': 'apply_configuration',
              'args': {'settings': SETTINGS}}
    done = await clean(harness, node['uuid'], 'manageable', first, second)
    assert seen == [('cleaning', {**second, 'abortable': False, 'priority': 0}, 1)]
    assert await bios(harness, node['uuid']) == {'LogicalProc': 'Enabled',
                                                 'SriovGlobalEnable': 'Disabled'}
    assert_steps_cleared(done)
    # the user's order: apply, then reset
    await clean(harness, node['uuid'], 'manageable', second, first)
    assert await bios(harness, node['uuid']) == {}


@pytest.mark.parametrize('bad,named', [
    ({'interface': 'boot', 'step': 'create_configuration'}, 'clean_steps/0/interface'),
    ({'interface': 'raid', 'step': ''}, 'clean_steps/0/step'),
    ({'interface': 'raid', 'step': 'delete_configuration', 'priority': 5}, 'priority'),
    ({'interface': 'raid', 'step': 'delete_configuration', 'args': []}, 'clean_steps/0/args'),
    ({'step': 'delete_configuration'}, "'interface' is a required property"),
])
async def test_malformed_clean_steps_are_refused_by_the_api(harness, bad, named):
    """As upstream's API schema: a known interface, a step name, args; nothing else."""
    node = await manageable_node(harness, raid_interface='fake')
    inner = await fault(await api.provision(harness, node['uuid'], 'clean',
                                            clean_steps=[bad]), 400)
    assert named in inner['faultstring'], inner
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'manageable'


@pytest.mark.parametrize('bad,expected', [
    ({'interface': 'raid', 'step': 'rebuild_everything'},
     "node does not support this clean step: {'interface': 'raid', 'step': "
     "'rebuild_everything'"),
    ({'interface': 'bios', 'step': 'apply_configuration'},
     'is missing these required arguments: settings (List of BIOS settings'),
    ({'interface': 'raid', 'step': 'delete_configuration', 'args': {'force': True}},
     'has these unexpected arguments: force'),
    ({'interface': 'deploy', 'step': 'deploy'}, 'node does not support this clean step'),
])
async def test_unknown_clean_steps_fail_cleaning_clearly(harness, bad, expected):
    node = await manageable_node(harness, raid_interface='fake')
    failed = await clean(harness, node['uuid'], 'clean failed', bad)
    assert failed['last_error'].startswith(f'Cannot clean node {node["uuid"]}: ')
    assert expected in failed['last_error'], failed['last_error']
    assert failed['maintenance'] is False          # nothing ran
    assert_steps_cleared(failed)
    await api.move(harness, node['uuid'], 'manage', 'manageable')


async def test_failing_clean_step_fails_cleaning_into_maintenance(harness):
    node = await manageable_node(harness, raid_interface='fake')   # no target RAID config
    failed = await clean(harness, node['uuid'], 'clean failed',
                         {'interface': 'raid', 'step': 'create_configuration'})
    assert failed['last_error'].startswith(f'Node {node["uuid"]} failed step ')
    assert 'has no target RAID configuration' in failed['last_error']
    assert failed['maintenance'] is True and failed['fault'] == 'clean failure'
    assert failed['maintenance_reason'] == failed['last_error']
    assert_steps_cleared(failed)
    await api.move(harness, node['uuid'], 'manage', 'manageable')


async def test_automated_cleaning_of_fake_nodes_runs_no_step(harness):
    node = await api.available_node(harness)     # provide: automated cleaning
    assert_steps_cleared(node)
    done = await api.active_node(harness)
    await api.move(harness, done['uuid'], 'deleted', 'available')
    assert_steps_cleared(await api.get_node(harness, done['uuid']))


# -- the real deploy interfaces' finish points ------------------------------------------
async def wait_for(h, uuid: str, predicate, what: str, timeout: float = 120) -> dict:
    """Poll the API (a ramdisk outside the conductor drives the deploy) with a deadline."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        node = await api.get_node(h, uuid)
        if predicate(node):
            return node
        assert asyncio.get_running_loop().time() < deadline, (what, node)
        await asyncio.sleep(0.05)


@pytest.fixture
async def agent_harness(sqlite_url):
    h = await Harness(sqlite_url, **{
        'conductor.node_locked_retry_interval': 0.01,
        'enabled_deploy_interfaces': ['fake', 'direct'],
        'agent.post_deploy_get_power_state_retries': 1,
        'agent.command_timeout': 10}).start()
    h.agents = []
    try:
        yield h
    finally:
        await asyncio.gather(*(a.stop() for a in h.agents))
        await h.stop()


async def test_direct_deploy_runs_the_steps_after_deploy_when_the_agent_is_done(
        agent_harness, tmp_path):
    h = agent_harness
    image = os.urandom(256 * 1024)
    async with FakeImageServer() as images:
        images.put('/disk.raw', image)
        await template(h, 'CUSTOM_AFTER', step('bios', 'apply_configuration', 50,
                                               settings=SETTINGS))
        node = await node_with_traits(h, 'CUSTOM_AFTER', deploy_interface='direct',
                                      instance_info={
                                          'image_source': images.url('/disk.raw'),
                                          'image_checksum': hashlib.sha256(image).hexdigest()})
        mac = '52:54:00:5e:00:01'
        await ok(await h.request('POST', '/v1/ports', json={'node_uuid': node['uuid'],
                                                            'address': mac}), 201)
        agent = SimAgent(h.url, [mac], str(tmp_path / 'disk'), heartbeat_interval=0.2,
                         lookup_interval=0.05)
        h.agents.append(agent)
        assert (await api.provision(h, node['uuid'], 'active')).status == 202
        waiting = await wait_for(h, node['uuid'],
                                 lambda n: n['provision_state'] == 'wait call-back',
                                 'waiting for the agent')
        assert waiting['deploy_step'] == DEPLOY_CORE
        assert await bios(h, node['uuid']) == {}      # priority 50: after deploy.deploy
        await agent.start()
        done = await wait_for(h, node['uuid'], lambda n: n['provision_state'] in (
            'active', 'deploy failed') and n['reservation'] is None, 'deploy ends')
    assert done['provision_state'] == 'active', done['last_error']
    assert read(agent.disk_path) == image
    assert await bios(h, node['uuid']) == {'LogicalProc': 'Enabled',
                                           'SriovGlobalEnable': 'Disabled'}
    assert_steps_cleared(done)


@pytest.fixture(scope='module')
def iscsi_aio(tmp_path_factory):
    require(tools_ok(), 'tgt, qemu-utils with qemu-block-extra, fdisk')
    with FakeBmcFleet(ports=[0], user=USER, password=PASSWORD) as fleet:
        with IscsiAio.running(str(tmp_path_factory.mktemp('steps_iscsi'))) as daemon:
            daemon.fleet = fleet
            yield daemon


def test_iscsi_deploy_runs_the_steps_after_deploy_when_the_image_is_written(iscsi_aio,
                                                                             tmp_path):
    aio = iscsi_aio
    data = os.urandom(2 * MiB)
    mac = '52:54:00:5e:00:02'
    node = aio.available_node('steps-iscsi', aio.fleet.ports[0], mac,
                              image_source=aio.write_image('steps.raw', data))
    aio.req('PATCH', f'/v1/nodes/{node["uuid"]}', [
        {'op': 'replace', 'path': '/raid_interface', 'value': 'fake'},
        {'op': 'add', 'path': '/instance_info/traits', 'value': ['CUSTOM_RAID']}], status=200)
    aio.req('PUT', f'/v1/nodes/{node["uuid"]}/traits/CUSTOM_RAID', status=204)
    aio.req('POST', '/v1/deploy_templates', {'name': 'CUSTOM_RAID', 'steps': [
        step('raid', 'apply_configuration', 50, raid_config=RAID)]}, status=201)
    disk = sparse_disk(str(tmp_path / 'disk'), 16 * MiB)
    aio.deploy('steps-iscsi')
    # generous deadlines: the machine is shared, a loaded one is slow, not broken
    waiting = aio.wait_state('steps-iscsi', ('wait call-back', 'deploy failed'), timeout=180)
    assert waiting['deploy_step'] == DEPLOY_CORE, (waiting, aio.daemon.log_tail())
    assert waiting['raid_config'] == {}
    ramdisk = aio.ramdisk(mac, disk)
    result = Background([ramdisk]).join(timeout=300)
    assert result == ['done'], (result, ramdisk.events, aio.daemon.log_tail())
    done = aio.wait_state('steps-iscsi', ('active', 'deploy failed'), timeout=180)
    assert done['provision_state'] == 'active', (done['last_error'], aio.daemon.log_tail())
    assert read(disk, 0, len(data)) == data
    assert done['raid_config']['logical_disks'] == RAID['logical_disks']
    assert_steps_cleared(done)
