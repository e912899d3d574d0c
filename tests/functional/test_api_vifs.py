"""VIFs (API 1.28, 1.67) through the harness with the ``flat`` and ``noop`` network interfaces.

``flat`` records the VIF on a port or portgroup (``internal_info['tenant_vif_port_id']``) as
upstream; ``noop`` does nothing, as upstream.
"""
import uuid

import pytest

from ironic_lite.db import models
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

VIF1, VIF2, VIF3 = (str(uuid.uuid4()) for _ in range(3))


async def _port(h, node, mac, **extra):
    return await ok(await h.request('POST', '/v1/ports', json={
        'address': mac, 'node_uuid': node['uuid'], **extra}), 201)


def _vifs(node):
    return f'/v1/nodes/{node["uuid"]}/vifs'


async def test_attach_list_detach_on_flat(harness):
    node = await api.create_node(harness, network_interface='flat')
    p1 = await _port(harness, node, '52:54:00:00:00:01', pxe_enabled=False)
    p2 = await _port(harness, node, '52:54:00:00:00:02')
    assert await ok(await harness.request('GET', _vifs(node))) == {'vifs': []}
    resp = await harness.request('POST', _vifs(node), json={'id': VIF1})
    assert resp.status == 204, await resp.text()
    # the PXE-enabled port is preferred
    port = await harness.db.get_port(p2['uuid'])
    assert port.internal_info == {'tenant_vif_port_id': VIF1}
    # attaching it again: 409
    inner = await fault(await harness.request('POST', _vifs(node), json={'id': VIF1}), 409)
    assert VIF1 in inner['faultstring']
    resp = await harness.request('POST', _vifs(node), json={'id': VIF2})
    assert resp.status == 204
    assert (await harness.db.get_port(p1['uuid'])).internal_info == {
        'tenant_vif_port_id': VIF2}
    # no free port left: 400
    await fault(await harness.request('POST', _vifs(node), json={'id': VIF3}), 400)
    body = await ok(await harness.request('GET', _vifs(node)))
    assert sorted(v['id'] for v in body['vifs']) == sorted([VIF1, VIF2])
    # the port shows it in internal_info
    shown = await ok(await harness.request('GET', f'/v1/ports/{p2["uuid"]}'))
    assert shown['internal_info'] == {'tenant_vif_port_id': VIF1}
    resp = await harness.request('DELETE', f'{_vifs(node)}/{VIF1}')
    assert resp.status == 204
    await fault(await harness.request('DELETE', f'{_vifs(node)}/{VIF1}'), 400)
    assert (await ok(await harness.request('GET', _vifs(node))))['vifs'] == [{'id': VIF2}]
    assert (await harness.db.get_port(p2['uuid'])).internal_info == {}


async def test_legacy_vif_port_id_in_extra_is_listed_and_detached(harness):
    node = await api.create_node(harness, network_interface='flat')
    port = await _port(harness, node, '52:54:00:00:00:03', extra={'vif_port_id': 'legacy'})
    assert (await ok(await harness.request('GET', _vifs(node))))['vifs'] == [{'id': 'legacy'}]
    assert (await harness.request('DELETE', f'{_vifs(node)}/legacy')).status == 204
    assert (await harness.db.get_port(port['uuid'])).extra == {}


async def test_attach_to_a_named_port_1_67(harness):
    node = await api.create_node(harness, network_interface='flat')
    await _port(harness, node, '52:54:00:00:00:04')
    p2 = await _port(harness, node, '52:54:00:00:00:05', pxe_enabled=False)
    resp = await harness.request('POST', _vifs(node),
                                 json={'id': VIF1, 'port_uuid': p2['uuid']})
    assert resp.status == 204, await resp.text()
    assert (await harness.db.get_port(p2['uuid'])).internal_info == {
        'tenant_vif_port_id': VIF1}
    # the named port is taken now
    await fault(await harness.request('POST', _vifs(node),
                                      json={'id': VIF2, 'port_uuid': p2['uuid']}), 400)
    # a port of another node, both keys, a bad uuid: 400
    await fault(await harness.request('POST', _vifs(node),
                                      json={'id': VIF2, 'port_uuid': str(uuid.uuid4())}), 400)
    await fault(await harness.request('POST', _vifs(node), json={
        'id': VIF2, 'port_uuid': p2['uuid'], 'portgroup_uuid': str(uuid.uuid4())}), 400)
    await fault(await harness.request('POST', _vifs(node),
                                      json={'id': VIF2, 'port_uuid': 'nope'}), 400)


async def test_attach_prefers_a_portgroup(harness):
    node = await api.create_node(harness, network_interface='flat')
    node_id = (await harness.db.get_node(node['uuid'])).id
    pg = await harness.db.create_resource(models.Portgroup, {
        'uuid': str(uuid.uuid4()), 'node_id': node_id, 'address': '52:54:00:00:01:00'})
    for mac in ('52:54:00:00:01:01', '52:54:00:00:01:02'):
        port = await _port(harness, node, mac)
        await harness.db.update_port((await harness.db.get_port(port['uuid'])).id,
                                     {'portgroup_id': pg.id})
    assert (await harness.request('POST', _vifs(node), json={'id': VIF1})).status == 204
    group = await harness.db.get_resource(models.Portgroup, pg.uuid)
    assert group.internal_info == {'tenant_vif_port_id': VIF1}
    assert (await ok(await harness.request('GET', _vifs(node))))['vifs'] == [{'id': VIF1}]
    assert (await harness.request('DELETE', f'{_vifs(node)}/{VIF1}')).status == 204
    group = await harness.db.get_resource(models.Portgroup, pg.uuid)
    assert group.internal_info == {}


async def test_noop_network_does_nothing(harness):
    node = await api.create_node(harness)
    assert node['network_interface'] == 'noop'
    await _port(harness, node, '52:54:00:00:00:06')
    for _ in range(2):
        assert (await harness.request('POST', _vifs(node), json={'id': VIF1})).status == 204
    assert (await ok(await harness.request('GET', _vifs(node))))['vifs'] == []
    assert (await harness.request('DELETE', f'{_vifs(node)}/{VIF1}')).status == 204


@pytest.mark.parametrize('body', [{}, {'id': 5}, {'id': 'two words'}, {'id': ''}, [VIF1]])
async def test_bad_attach_bodies(harness, body):
    node = await api.create_node(harness, network_interface='flat')
    await fault(await harness.request('POST', _vifs(node), json=body), 400)


async def test_vifs_need_1_28_and_port_uuid_1_67(harness):
    node = await api.create_node(harness, network_interface='flat')
    await fault(await harness.request('GET', _vifs(node), headers=ver('1.27')), 404)
    await fault(await harness.request('POST', _vifs(node), json={'id': VIF1},
                                      headers=ver('1.27')), 404)
    await fault(await harness.request('DELETE', f'{_vifs(node)}/{VIF1}',
                                      headers=ver('1.27')), 404)
    port = await _port(harness, node, '52:54:00:00:00:07')
    # below 1.67 port_uuid is not a thing: ignored (the VIF goes to a free port)
    resp = await harness.request('POST', _vifs(node), headers=ver('1.66'), json={
        'id': VIF1, 'port_uuid': str(uuid.uuid4())})
    assert resp.status == 204, await resp.text()
    assert (await harness.db.get_port(port['uuid'])).internal_info == {
        'tenant_vif_port_id': VIF1}


async def test_locked_node_409(harness):
    node = await api.create_node(harness, network_interface='flat')
    await _port(harness, node, '52:54:00:00:00:08')
    node_id = (await harness.db.get_node(node['uuid'])).id
    await harness.db.reserve_node('busy-host', node_id)
    await fault(await harness.request('POST', _vifs(node), json={'id': VIF1}), 409)
    await harness.db.release_node('busy-host', node_id)
