"""Node traits (API 1.37) through the harness: API -> RPC -> conductor -> database."""
import pytest

from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


def _traits(h, node, trait=None):
    base = f'/v1/nodes/{node["uuid"]}/traits'
    return f'{base}/{trait}' if trait else base


async def test_traits_lifecycle(harness):
    node = await api.create_node(harness, name='t1')
    assert await ok(await harness.request('GET', _traits(harness, node))) == {'traits': []}
    resp = await harness.request('PUT', _traits(harness, node),
                                 json={'traits': ['CUSTOM_GOLD', 'HW_CPU_X86_AVX2']})
    assert resp.status == 204, await resp.text()
    resp = await harness.request('PUT', _traits(harness, node, 'CUSTOM_SILVER'))
    assert resp.status == 204, await resp.text()
    assert resp.headers['Location'].endswith(f'/v1/nodes/{node["uuid"]}/traits/CUSTOM_SILVER')
    # adding one it already has changes nothing
    resp = await harness.request('PUT', _traits(harness, node, 'CUSTOM_GOLD'))
    assert resp.status == 204
    body = await ok(await harness.request('GET', '/v1/nodes/t1/traits'))
    assert body == {'traits': ['CUSTOM_GOLD', 'CUSTOM_SILVER', 'HW_CPU_X86_AVX2']}
    # shown in the node from 1.37
    assert (await api.get_node(harness, 't1'))['traits'] == body['traits']
    assert 'traits' not in await api.get_node(harness, 't1', headers=ver('1.36'))
    detail = await ok(await harness.request('GET', '/v1/nodes/detail'))
    assert detail['nodes'][0]['traits'] == body['traits']
    resp = await harness.request('DELETE', _traits(harness, node, 'CUSTOM_GOLD'))
    assert resp.status == 204
    await fault(await harness.request('DELETE', _traits(harness, node, 'CUSTOM_GOLD')), 404)
    body = await ok(await harness.request('GET', _traits(harness, node)))
    assert body == {'traits': ['CUSTOM_SILVER', 'HW_CPU_X86_AVX2']}
    # replace all, then delete all
    resp = await harness.request('PUT', _traits(harness, node), json={'traits': ['CUSTOM_X']})
    assert resp.status == 204
    assert (await ok(await harness.request('GET', _traits(harness, node))))['traits'] == \
        ['CUSTOM_X']
    assert (await harness.request('DELETE', _traits(harness, node))).status == 204
    assert (await ok(await harness.request('GET', _traits(harness, node))))['traits'] == []
    # a node with traits can be deleted; its traits go with it
    await harness.request('PUT', _traits(harness, node, 'CUSTOM_Y'))
    node_id = (await harness.db.get_node('t1')).id
    assert await harness.db.get_node_traits(node_id) == ['CUSTOM_Y']
    assert (await harness.request('DELETE', '/v1/nodes/t1')).status == 204
    assert await harness.db.get_node_traits(node_id) == []


@pytest.mark.parametrize('trait', ['custom_lower', 'CUSTOM_', 'NOT_A_STANDARD_TRAIT',
                                   'CUSTOM_BAD-DASH', 'CUSTOM_' + 'X' * 249])
async def test_invalid_trait_names(harness, trait):
    node = await api.create_node(harness)
    await fault(await harness.request('PUT', _traits(harness, node, trait)), 400)
    await fault(await harness.request('PUT', _traits(harness, node),
                                      json={'traits': ['CUSTOM_OK', trait]}), 400)
    assert (await ok(await harness.request('GET', _traits(harness, node))))['traits'] == []


@pytest.mark.parametrize('body', [None, {}, {'traits': 'CUSTOM_A'}, {'traits': [1]},
                                  {'traits': ['CUSTOM_A'], 'extra': 1}, [1]])
async def test_bad_set_bodies(harness, body):
    node = await api.create_node(harness)
    await fault(await harness.request('PUT', _traits(harness, node), json=body), 400)


async def test_add_one_with_a_body_is_refused(harness):
    node = await api.create_node(harness)
    await fault(await harness.request('PUT', _traits(harness, node, 'CUSTOM_A'),
                                      json={'traits': ['CUSTOM_B']}), 400)


async def test_at_most_50_traits(harness):
    node = await api.create_node(harness)
    many = [f'CUSTOM_T{i}' for i in range(50)]
    resp = await harness.request('PUT', _traits(harness, node), json={'traits': many})
    assert resp.status == 204
    await fault(await harness.request('PUT', _traits(harness, node, 'CUSTOM_ONE_MORE')), 400)
    await fault(await harness.request('PUT', _traits(harness, node),
                                      json={'traits': many + ['CUSTOM_ONE_MORE']}), 400)
    assert len((await ok(await harness.request('GET', _traits(harness, node))))['traits']) == 50


async def test_traits_need_1_37(harness):
    """Below 1.37 each method gets upstream's answer: GET is 406 after the node lookup (it
    reaches GET /nodes/{node} with fields=traits), PUT 405, DELETE 404."""
    node = await api.create_node(harness)
    old = ver('1.36')
    await fault(await harness.request('GET', _traits(harness, node), headers=old), 406)
    await fault(await harness.request('GET', '/v1/nodes/nope/traits', headers=old), 404)
    for path in (_traits(harness, node), _traits(harness, node, 'CUSTOM_A')):
        await fault(await harness.request('PUT', path, json={'traits': ['CUSTOM_A']},
                                          headers=old), 405)
        await fault(await harness.request('DELETE', path, headers=old), 404)
    assert await ok(await harness.request('GET', _traits(harness, node))) == {'traits': []}


async def test_locked_node_is_409_and_unknown_node_404(harness):
    node = await api.create_node(harness)
    node_id = (await harness.db.get_node(node['uuid'])).id
    await harness.db.reserve_node('busy-host', node_id)
    await fault(await harness.request('PUT', _traits(harness, node, 'CUSTOM_A')), 409)
    await harness.db.release_node('busy-host', node_id)
    await fault(await harness.request('GET', '/v1/nodes/nope/traits'), 404)


async def test_add_one_trait_accepts_an_empty_object_and_looks_up_the_node_first(harness):
    node = await api.create_node(harness)
    resp = await harness.request('PUT', _traits(harness, node, 'CUSTOM_A'), json={})
    assert resp.status == 204, await resp.text()
    assert resp.headers['Location'].endswith(f'/v1/nodes/{node["uuid"]}/traits/CUSTOM_A')
    assert (await ok(await harness.request('GET', _traits(harness, node))))['traits'] == [
        'CUSTOM_A']
    # unknown node: 404 before anything about the body
    await fault(await harness.request('PUT', '/v1/nodes/nope/traits/CUSTOM_A', json={}), 404)
    await fault(await harness.request('PUT', '/v1/nodes/nope/traits/CUSTOM_A',
                                      json={'x': 1}), 404)
    # a non-empty body is still refused
    await fault(await harness.request('PUT', _traits(harness, node, 'CUSTOM_B'),
                                      json={'traits': ['CUSTOM_B']}), 400)
    await fault(await harness.request('PUT', _traits(harness, node, 'CUSTOM_B'),
                                      json={'x': 1}), 400)
