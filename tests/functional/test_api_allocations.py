"""Allocations (1.52+), processed by the conductor: matching by resource class, traits and
candidate nodes, the no-match error, backfill (1.58), PATCH (1.57), owner (1.60), delete."""
import datetime

from sqlalchemy import update

from ironic_lite.api import keys
from ironic_lite.db import models
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver


async def _node(h, rc='baremetal-large', traits=(), **values):
    node = await api.available_node(h, resource_class=rc, **values)
    if traits:
        await h.db.set_node_traits((await h.db.get_node(node['uuid'])).id, list(traits))
    return node


async def _allocate(h, **body):
    alloc = await ok(await h.request('POST', '/v1/allocations', json=body), 201)
    assert alloc['state'] == 'allocating'
    await h.drain()
    return await ok(await h.request('GET', f'/v1/allocations/{alloc["uuid"]}'))


async def test_match_by_resource_class_and_traits(harness):
    plain = await _node(harness)
    fancy = await _node(harness, traits=['CUSTOM_GPU', 'HW_CPU_X86_VMX'])
    await _node(harness, rc='other')
    alloc = await _allocate(harness, resource_class='baremetal-large', traits=['CUSTOM_GPU'],
                            name='gpu-1', extra={'for': 'test'})
    assert alloc['state'] == 'active' and alloc['last_error'] is None
    assert alloc['node_uuid'] == fancy['uuid'] and alloc['name'] == 'gpu-1'
    node = await api.get_node(harness, fancy['uuid'])
    assert node['instance_uuid'] == alloc['uuid']
    by_node = await ok(await harness.request('GET', f'/v1/nodes/{fancy["uuid"]}/allocation'))
    assert by_node['uuid'] == alloc['uuid']
    # the next one gets the remaining node of the class; then there is none left
    second = await _allocate(harness, resource_class='baremetal-large')
    assert second['node_uuid'] == plain['uuid']
    third = await _allocate(harness, resource_class='baremetal-large')
    assert third['state'] == 'error' and third['node_uuid'] is None
    assert 'No available nodes match the resource class baremetal-large' in third['last_error']
    listed = await ok(await harness.request('GET', '/v1/allocations?state=active'))
    assert {a['uuid'] for a in listed['allocations']} == {alloc['uuid'], second['uuid']}
    assert 'traits' in listed['allocations'][0]  # lists show every field
    only = await ok(await harness.request('GET', f'/v1/allocations?node={plain["uuid"]}'
                                                 '&fields=uuid,state'))
    assert only['allocations'] == [{'uuid': second['uuid'], 'state': 'active'}]


async def test_no_match_for_traits_or_candidates(harness):
    node = await _node(harness, traits=['CUSTOM_A'])
    other = await _node(harness)
    failed = await _allocate(harness, resource_class='baremetal-large', traits=['CUSTOM_B'])
    assert failed['state'] == 'error' and 'traits CUSTOM_B' in failed['last_error']
    picked = await _allocate(harness, resource_class='baremetal-large',
                             candidate_nodes=[other['name'] or other['uuid']])
    assert picked['node_uuid'] == other['uuid']
    assert picked['candidate_nodes'] == [other['uuid']]
    await fault(await harness.request('POST', '/v1/allocations', json={
        'resource_class': 'x', 'candidate_nodes': ['no-such-node']}), 400)
    assert (await api.get_node(harness, node['uuid']))['instance_uuid'] is None


async def test_delete_frees_the_node(harness):
    node = await _node(harness)
    alloc = await _allocate(harness, resource_class='baremetal-large', name='a1')
    assert (await harness.request('DELETE', '/v1/allocations/a1')).status == 204
    assert (await api.get_node(harness, node['uuid']))['instance_uuid'] is None
    await fault(await harness.request('GET', f'/v1/allocations/{alloc["uuid"]}'), 404)
    again = await _allocate(harness, resource_class='baremetal-large')
    resp = await harness.request('DELETE', f'/v1/nodes/{node["uuid"]}/allocation')
    assert resp.status == 204
    await fault(await harness.request('GET', f'/v1/nodes/{node["uuid"]}/allocation'), 404)
    await fault(await harness.request('GET', f'/v1/allocations/{again["uuid"]}'), 404)


async def test_node_allocation_of_an_unknown_node(harness):
    # as upstream: GET looks the node up as a list filter (400), DELETE as a resource (404)
    missing = '1be26c0b-03f2-4d2e-ae87-c02d7f33c123'
    await fault(await harness.request('GET', f'/v1/nodes/{missing}/allocation'), 400)
    await fault(await harness.request('DELETE', f'/v1/nodes/{missing}/allocation'), 404)


async def test_backfill_patch_owner_and_gating(harness):
    active = await api.active_node(harness, resource_class='rc1')
    await fault(await harness.request('POST', '/v1/allocations', headers=ver('1.57'),
                                      json={'node': active['uuid']}), 400)
    back = await ok(await harness.request('POST', '/v1/allocations',
                                          json={'node': active['uuid']}), 201)
    assert back['state'] == 'active' and back['node_uuid'] == active['uuid']
    assert back['resource_class'] == 'rc1'
    assert (await api.get_node(harness, active['uuid']))['instance_uuid'] == back['uuid']
    inner = await fault(await harness.request('DELETE', f'/v1/allocations/{back["uuid"]}'),
                        409)
    assert 'active' in inner['faultstring']
    await fault(await harness.request('POST', '/v1/allocations',
                                      json={'node': active['uuid']}), 409)
    patch = [{'op': 'add', 'path': '/name', 'value': 'renamed'},
             {'op': 'add', 'path': '/extra/k', 'value': 'v'}]
    await fault(await harness.request('PATCH', f'/v1/allocations/{back["uuid"]}', json=patch,
                                      headers=ver('1.56')), 405)
    patched = await ok(await harness.request('PATCH', f'/v1/allocations/{back["uuid"]}',
                                             json=patch))
    assert patched['name'] == 'renamed' and patched['extra'] == {'k': 'v'}
    await fault(await harness.request('PATCH', f'/v1/allocations/{back["uuid"]}', json=[
        {'op': 'replace', 'path': '/resource_class', 'value': 'x'}]), 400)
    # owner: 1.60
    await fault(await harness.request('POST', '/v1/allocations', headers=ver('1.59'),
                                      json={'resource_class': 'rc1', 'owner': 'p1'}), 406)
    old = await ok(await harness.request('GET', f'/v1/allocations/{back["uuid"]}',
                                         headers=ver('1.59')))
    assert 'owner' not in old
    owned = await _node(harness, rc='rc2', owner='p1')
    await _node(harness, rc='rc2', owner='p2')
    mine = await _allocate(harness, resource_class='rc2', owner='p1')
    assert mine['node_uuid'] == owned['uuid'] and mine['owner'] == 'p1'
    # hidden below 1.52; bad input
    await fault(await harness.request('GET', '/v1/allocations', headers=ver('1.51')), 404)
    await fault(await harness.request('GET', f'/v1/nodes/{active["uuid"]}/allocation',
                                      headers=ver('1.51')), 404)
    for bad in ({}, {'resource_class': 'x', 'traits': ['lowercase']},
                {'resource_class': 'x', 'name': 'bad name'}, {'resource_class': 'x', 'y': 1}):
        await fault(await harness.request('POST', '/v1/allocations', json=bad), 400)
    await ok(await harness.request('POST', '/v1/allocations',
                                   json={'resource_class': 'x', 'name': 'dup'}), 201)
    await fault(await harness.request('POST', '/v1/allocations',
                                      json={'resource_class': 'x', 'name': 'dup'}), 409)
    await harness.drain()


async def test_unprocessed_allocation_can_be_deleted(harness):
    """An allocation whose cast was lost stays ``allocating``: it can still be deleted, and a
    late message for it then changes nothing."""
    from ironic_lite.db import models
    node = await _node(harness)
    row = await harness.db.create_resource(models.Allocation, {
        'state': 'allocating', 'resource_class': 'baremetal-large'})
    assert (await harness.request('DELETE', f'/v1/allocations/{row.uuid}')).status == 204
    await harness.service.manager.create_allocation({}, row.uuid)
    assert (await api.get_node(harness, node['uuid']))['instance_uuid'] is None
    assert (await ok(await harness.request('GET', '/v1/allocations')))['allocations'] == []



def _age_allocation(h, allocation_id: int, when: datetime.datetime) -> None:
    """Make an allocation look as old as one whose message was lost long ago."""
    with h.db.sync.engine.begin() as conn:
        conn.execute(update(models.Allocation).where(models.Allocation.id == allocation_id)
                     .values(created_at=when, updated_at=when))


async def test_lost_allocation_cast_is_redriven(harness, monkeypatch):
    node = await _node(harness)

    async def lost(allocation_uuid):  # the cast never reaches a conductor
        return None

    monkeypatch.setattr(harness.client.app[keys.RPCAPI], 'create_allocation', lost)
    alloc = await ok(await harness.request('POST', '/v1/allocations',
                                           json={'resource_class': 'baremetal-large'}), 201)
    await harness.run_periodics()  # too young: its cast may still be on the way
    stored = await harness.db.get_resource(models.Allocation, alloc['uuid'])
    assert stored.state == 'allocating'
    _age_allocation(harness, stored.id, models.utcnow() - datetime.timedelta(hours=1))
    await harness.run_periodics()
    done = await ok(await harness.request('GET', f'/v1/allocations/{alloc["uuid"]}'))
    assert done['state'] == 'active' and done['node_uuid'] == node['uuid']
