"""API 1.73: the ``deploy`` and ``undeploy`` provision verbs, aliases of ``active`` and
``deleted``, through the HTTP API and the in-process conductor, as upstream: 406 at 1.72;
``configdrive`` and ``deploy_steps`` still need the target ``active`` (upstream checks the
target's name)."""
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ver


async def _provision(h, ident: str, version: str, **body):
    return await h.request('PUT', f'/v1/nodes/{ident}/states/provision', json=body,
                           headers=ver(version))


async def test_deploy_and_undeploy_at_1_73(harness):
    node = await api.available_node(harness)
    resp = await _provision(harness, node['uuid'], '1.73', target='deploy')
    assert resp.status == 202, await resp.text()
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'
    resp = await _provision(harness, node['uuid'], '1.73', target='undeploy')
    assert resp.status == 202, await resp.text()
    await harness.drain()
    # tear down, then automated cleaning (instant for fake steps): available again
    done = await api.get_node(harness, node['uuid'])
    assert done['provision_state'] == 'available' and done['last_error'] is None, done


async def test_verbs_are_406_at_1_72(harness):
    node = await api.available_node(harness)
    for target in ('deploy', 'undeploy'):
        inner = await fault(await _provision(harness, node['uuid'], '1.72', target=target),
                            406)
        assert '1.73' in inner['faultstring']
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'available'


async def test_configdrive_and_deploy_steps_need_the_active_target(harness):
    node = await api.available_node(harness)
    await fault(await _provision(harness, node['uuid'], '1.73', target='deploy',
                                 configdrive='H4sIAAAA'), 400)
    steps = [{'interface': 'deploy', 'step': 'deploy', 'args': {}, 'priority': 100}]
    inner = await fault(await _provision(harness, node['uuid'], '1.73', target='deploy',
                                         deploy_steps=steps), 400)
    assert '"deploy_steps" is only valid' in inner['faultstring']
    resp = await _provision(harness, node['uuid'], '1.73', target='active',
                            configdrive='H4sIAAAA')
    assert resp.status == 202, await resp.text()
    await harness.drain()
    assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'
