"""The resources beyond nodes and ports driven by the real clients: openstacksdk (what Nova
and Metal3-style tools use) and python-ironicclient (the ``openstack baremetal`` CLI's
library), against the harness's HTTP server. The clients are synchronous, so they run in a
thread while the event loop serves them."""
import asyncio

from tests.functional import api_helpers as api
from tests.functional import clients


async def test_openstacksdk_resources(harness):
    node = await api.available_node(harness, resource_class='rc-sdk', name='sdk-node')
    await harness.db.set_node_traits((await harness.db.get_node(node['uuid'])).id,
                                     ['CUSTOM_SDK'])

    def run():
        conn = clients.openstacksdk(harness.url)
        try:
            bm = conn.baremetal
            out = {}
            chassis = bm.create_chassis(description='sdk rack')
            bm.patch_chassis(chassis, [{'op': 'add', 'path': '/extra/a', 'value': 'b'}])
            out['chassis'] = bm.get_chassis(chassis.id).extra
            out['chassis_list'] = [c.id for c in bm.chassis()]
            bm.delete_chassis(chassis)
            pg = bm.create_port_group(node_id=node['uuid'], address='52:54:00:99:00:01',
                                      name='sdk-bond', mode='802.3ad')
            out['pg'] = (bm.get_port_group('sdk-bond').mode,
                         [p.id for p in bm.port_groups(node=node['uuid'])] == [pg.id])
            bm.delete_port_group(pg)
            vc = bm.create_volume_connector(node_id=node['uuid'], type='iqn',
                                            connector_id='iqn.2026-11.org:sdk')
            vt = bm.create_volume_target(node_id=node['uuid'], volume_type='iscsi',
                                         boot_index=0, volume_id='vol-1')
            out['volume'] = ([c.id for c in bm.volume_connectors(node=node['uuid'])] == [vc.id],
                             bm.get_volume_target(vt.id).volume_id)
            tpl = bm.create_deploy_template(name='CUSTOM_SDK_TPL', steps=[
                {'interface': 'deploy', 'step': 'erase_devices', 'args': {}, 'priority': 10}])
            out['template'] = bm.get_deploy_template(tpl.id).steps[0]['step']
            bm.delete_deploy_template(tpl)
            out['conductors'] = [(c.hostname, c.alive) for c in bm.conductors()]
            alloc = bm.create_allocation(resource_class='rc-sdk', traits=['CUSTOM_SDK'])
            alloc = bm.wait_for_allocation(alloc, timeout=30)
            out['allocation'] = (alloc.state, alloc.node_id)
            bm.delete_allocation(alloc)
            out['drivers'] = [d.name for d in bm.drivers(details=True)]
            return out
        finally:
            conn.close()

    # the conductor processes the allocation in the loop while the SDK polls in its thread
    out = await asyncio.to_thread(run)
    assert out['chassis'] == {'a': 'b'}
    assert len(out['chassis_list']) == 1
    assert out['pg'] == ('802.3ad', True)
    assert out['volume'] == (True, 'vol-1')
    assert out['template'] == 'erase_devices'
    assert out['conductors'] == [(harness.host, True)]
    assert out['allocation'] == ('active', node['uuid'])
    assert 'fake-hardware' in out['drivers']


async def test_ironicclient_resources(harness):
    node = await api.create_node(harness, name='cli-node')

    def run():
        ic = clients.ironicclient(harness.url)
        chassis = ic.chassis.create(description='cli rack')
        pg = ic.portgroup.create(node_uuid=node['uuid'], address='52:54:00:98:00:01',
                                 name='cli-bond')
        ic.portgroup.update(pg.uuid, [{'op': 'add', 'path': '/extra/x', 'value': 'y'}])
        connector = ic.volume_connector.create(node_uuid=node['uuid'], type='ip',
                                               connector_id='10.0.0.1')
        out = {
            'chassis': [c.uuid for c in ic.chassis.list()] == [chassis.uuid],
            'pg': ic.portgroup.get('cli-bond').extra,
            'node_pgs': [p.uuid for p in ic.portgroup.list(node=node['uuid'])] == [pg.uuid],
            'connector': ic.volume_connector.get(connector.uuid).connector_id,
            'conductors': [c.hostname for c in ic.conductor.list()],
            'bios': ic.node.list_bios_settings(node['uuid']),
        }
        ic.portgroup.delete(pg.uuid)
        ic.chassis.delete(chassis.uuid)
        return out

    out = await asyncio.to_thread(run)
    assert out == {'chassis': True, 'pg': {'x': 'y'}, 'node_pgs': True,
                   'connector': '10.0.0.1', 'conductors': [harness.host], 'bios': []}
