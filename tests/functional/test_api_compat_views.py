"""Answers as upstream gives them: filters, views at old versions."""
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


async def test_unknown_fault_filter_is_400(harness):
    await api.create_node(harness)
    inner = await fault(await harness.request('GET', '/v1/nodes?fault=bogus'), 400)
    assert 'bogus' in inner['faultstring'] and 'power failure' in inner['faultstring']
    await fault(await harness.request('GET', '/v1/nodes/detail?fault=bogus'), 400)
    for known in ('power failure', 'clean failure', 'rescue abort failure', 'service failure'):
        listed = await ok(await harness.request('GET', '/v1/nodes', params={'fault': known}))
        assert listed['nodes'] == []
    # below 1.42 the filter itself is refused first (406), as upstream
    await fault(await harness.request('GET', '/v1/nodes?fault=bogus', headers=ver('1.41')), 406)


async def test_states_show_available_as_none_at_1_1(harness):
    node = await api.available_node(harness)
    path = f'/v1/nodes/{node["uuid"]}/states'
    assert (await ok(await harness.request('GET', path, headers=ver('1.1'))))[
        'provision_state'] is None
    assert (await ok(await harness.request('GET', path, headers=ver('1.2'))))[
        'provision_state'] == 'available'
    # the node view agrees
    shown = await api.get_node(harness, node['uuid'], headers=ver('1.1'))
    assert shown['provision_state'] is None
