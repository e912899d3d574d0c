"""Endpoints newer than the negotiated microversion: upstream's 404, 405 or 406 for each."""
import pytest

from ironic_lite.api import route_table
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

U = '00000000-0000-0000-0000-000000000001'


@pytest.mark.parametrize('method, path, version, status', [
    # allocations: GET 404, anything else 405 (PATCH until 1.57)
    ('GET', '/v1/allocations', '1.51', 404),
    ('GET', f'/v1/allocations/{U}', '1.51', 404),
    ('POST', '/v1/allocations', '1.50', 405),
    ('DELETE', f'/v1/allocations/{U}', '1.14', 405),
    ('DELETE', '/v1/allocations/ba!na!na1', '1.14', 405),
    ('PATCH', f'/v1/allocations/{U}', '1.56', 405),
    ('GET', '/v1/nodes/{node}/allocation', '1.51', 404),
    ('DELETE', '/v1/nodes/{node}/allocation', '1.51', 404),
    # deploy templates: GET 404, anything else 405
    ('GET', '/v1/deploy_templates', '1.54', 404),
    ('GET', '/v1/deploy_templates/CUSTOM_X', '1.54', 404),
    ('POST', '/v1/deploy_templates', '1.54', 405),
    ('PATCH', '/v1/deploy_templates/CUSTOM_X', '1.54', 405),
    ('DELETE', '/v1/deploy_templates/CUSTOM_X', '1.1', 405),
    # 404 for every method
    ('GET', '/v1/portgroups', '1.22', 404),
    ('POST', '/v1/portgroups', '1.22', 404),
    ('PATCH', f'/v1/portgroups/{U}', '1.22', 404),
    ('DELETE', f'/v1/portgroups/{U}', '1.22', 404),
    ('GET', f'/v1/portgroups/{U}/ports', '1.23', 404),
    ('GET', '/v1/nodes/{node}/portgroups', '1.23', 404),
    ('GET', '/v1/nodes/{node}/vifs', '1.27', 404),
    ('POST', '/v1/nodes/{node}/vifs', '1.27', 404),
    ('DELETE', '/v1/nodes/{node}/vifs/v-1', '1.27', 404),
    ('PUT', '/v1/nodes/{node}/management/inject_nmi', '1.28', 404),
    ('GET', '/v1/volume', '1.31', 404),
    ('POST', '/v1/volume/connectors', '1.31', 404),
    ('DELETE', f'/v1/volume/targets/{U}', '1.31', 404),
    ('GET', '/v1/nodes/{node}/bios', '1.39', 404),
    ('GET', '/v1/conductors', '1.48', 404),
    ('POST', '/v1/events', '1.53', 404),
    ('GET', '/v1/lookup?addresses=52:54:00:00:00:01', '1.21', 404),
    ('POST', f'/v1/heartbeat/{U}', '1.21', 404),
    # traits: GET 406 after the node lookup, PUT 405, DELETE 404
    ('GET', '/v1/nodes/{node}/traits', '1.36', 406),
    ('PUT', '/v1/nodes/{node}/traits', '1.36', 405),
    ('PUT', '/v1/nodes/{node}/traits/CUSTOM_A', '1.36', 405),
    ('DELETE', '/v1/nodes/{node}/traits', '1.36', 404),
    ('DELETE', '/v1/nodes/{node}/traits/CUSTOM_A', '1.36', 404),
])
async def test_older_version_gets_upstreams_answer(harness, method, path, version, status):
    node = await api.create_node(harness)
    body = {} if method in ('POST', 'PUT') else [] if method == 'PATCH' else None
    inner = await fault(await harness.request(method, path.format(node=node['uuid']),
                                              json=body, headers=ver(version)), status)
    if status != 406:
        assert version in inner['faultstring']


async def test_every_gated_route_exists(harness):
    """Every route declared with a first version is served (a typo would gate nothing)."""
    from ironic_lite.api import route
    served = {(r.method, route.template(r.resource.canonical))
              for r in harness.client.server.app.router.routes() if r.resource is not None}
    gated = {d.key for d in route_table.ROUTES if d.since > (1, 1)}
    assert gated and gated <= served, gated - served


async def test_served_from_their_version(harness):
    node = await api.create_node(harness)
    await ok(await harness.request('GET', '/v1/allocations', headers=ver('1.52')))
    await ok(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/traits',
                                   headers=ver('1.37')))
    await ok(await harness.request('GET', '/v1/portgroups', headers=ver('1.23')))


async def test_target_raid_config_below_1_12_looks_the_node_up_first(harness):
    node = await api.create_node(harness)
    config = {'logical_disks': [{'size_gb': 10, 'raid_level': '1'}]}
    await fault(await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/raid',
                                      json=config, headers=ver('1.11')), 406)
    await fault(await harness.request('PUT', '/v1/nodes/nope/states/raid', json=config,
                                      headers=ver('1.11')), 404)
