"""Node sub-resources and actions driven by the real clients — openstacksdk (Nova's driver,
Metal3-style tools) and python-ironicclient (the ``openstack baremetal`` CLI's library) —
against the harness's HTTP server: traits, VIFs, boot device, console, NMI, rescue. The clients
are synchronous, so they run in a thread while the event loop serves them."""
import asyncio
import uuid

from tests.functional import api_helpers as api
from tests.functional import clients


async def test_openstacksdk_node_actions(harness):
    import openstack
    node = await api.active_node(harness, name='sdk-actions', network_interface='flat')
    await ok_port(harness, node, '52:54:00:77:00:01')
    vif = str(uuid.uuid4())

    def run():
        conn = clients.openstacksdk(harness.url)
        try:
            bm = conn.baremetal
            out = {}
            bm.set_node_traits('sdk-actions', ['CUSTOM_A', 'CUSTOM_B'])
            bm.add_node_trait('sdk-actions', 'CUSTOM_C')
            bm.remove_node_trait('sdk-actions', 'CUSTOM_A')
            out['traits'] = sorted(bm.get_node('sdk-actions').traits)
            bm.attach_vif_to_node('sdk-actions', vif)
            out['vifs'] = bm.list_node_vifs('sdk-actions')
            try:
                bm.attach_vif_to_node('sdk-actions', vif, retry_on_conflict=False)
                out['again'] = 'accepted'
            except openstack.exceptions.ConflictException:
                out['again'] = 'conflict'
            bm.detach_vif_from_node('sdk-actions', vif)
            out['vifs_after'] = bm.list_node_vifs('sdk-actions')
            bm.set_node_boot_device('sdk-actions', 'disk', persistent=True)
            out['boot'] = bm.get_node_boot_device('sdk-actions')
            out['supported'] = bm.get_node_supported_boot_devices('sdk-actions')
            bm.enable_node_console('sdk-actions')
            # The console starts in a conductor worker (202): poll as Nova does.
            out['console'] = clients.poll(lambda: bm.get_node_console('sdk-actions'),
                                          lambda c: c['console_enabled'])
            bm.disable_node_console('sdk-actions')
            bm.inject_nmi_to_node('sdk-actions')
            bm.set_node_provision_state('sdk-actions', 'rescue', rescue_password='pw',
                                        wait=True, timeout=30)
            out['rescued'] = bm.get_node('sdk-actions').provision_state
            bm.set_node_provision_state('sdk-actions', 'unrescue')  # the SDK cannot wait
            bm.wait_for_nodes_provision_state(['sdk-actions'], 'active', timeout=30)
            out['state'] = bm.get_node('sdk-actions').provision_state
            return out
        finally:
            conn.close()

    out = await asyncio.to_thread(run)
    assert out['traits'] == ['CUSTOM_B', 'CUSTOM_C']
    assert out['vifs'] == [vif]
    assert out['again'] == 'conflict'
    assert out['vifs_after'] == []
    assert out['boot'] == {'boot_device': 'disk', 'persistent': True}
    assert out['supported'] == {'supported_boot_devices': ['pxe', 'disk']}
    assert out['console']['console_enabled'] is True
    assert out['console']['console_info']['type'] == 'fake'
    assert out['rescued'] == 'rescue'
    assert out['state'] == 'active'
    await harness.drain()
    assert (await api.get_node(harness, 'sdk-actions'))['console_enabled'] is False


async def ok_port(h, node, mac):
    return await api.ok(await h.request('POST', '/v1/ports', json={
        'address': mac, 'node_uuid': node['uuid']}), 201)


async def test_ironicclient_node_actions(harness):
    from ironicclient import exc
    node = await api.create_node(harness, name='cli-actions', network_interface='flat')
    await ok_port(harness, node, '52:54:00:77:00:02')
    vif = str(uuid.uuid4())

    def run():
        ic = clients.ironicclient(harness.url)
        out = {}
        ic.node.set_traits('cli-actions', ['CUSTOM_X', 'CUSTOM_Y'])
        ic.node.add_trait('cli-actions', 'CUSTOM_Z')
        ic.node.remove_trait('cli-actions', 'CUSTOM_X')
        out['traits'] = ic.node.get_traits('cli-actions')
        ic.node.remove_all_traits('cli-actions')
        out['no_traits'] = ic.node.get_traits('cli-actions')
        ic.node.vif_attach('cli-actions', vif)
        out['vifs'] = [v.id for v in ic.node.vif_list('cli-actions')]
        try:
            ic.node.vif_attach('cli-actions', vif)
        except exc.Conflict:
            out['again'] = 'conflict'
        ic.node.vif_detach('cli-actions', vif)
        ic.node.set_boot_device('cli-actions', 'pxe', persistent=False)
        out['boot'] = ic.node.get_boot_device('cli-actions')
        ic.node.set_console_mode('cli-actions', True)
        out['console'] = ic.node.get_console('cli-actions')
        ic.node.inject_nmi('cli-actions')
        return out

    out = await asyncio.to_thread(run)
    assert out['traits'] == ['CUSTOM_Y', 'CUSTOM_Z']
    assert out['no_traits'] == []
    assert out['vifs'] == [vif]
    assert out['again'] == 'conflict'
    assert out['boot'] == {'boot_device': 'pxe', 'persistent': False}
    assert out['console']['console_enabled'] in (True, False)  # started by a worker
    await harness.drain()
    assert (await api.get_node(harness, 'cli-actions'))['console_enabled'] is True
