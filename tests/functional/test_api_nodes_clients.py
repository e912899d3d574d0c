"""Nodes and ports through the real clients at the negotiated maximum (1.68): openstacksdk (the
library of Nova's Ironic driver) and python-ironicclient (the ``openstack baremetal`` CLI's
library), against the harness's HTTP server. The clients are synchronous, so they run in a
thread while the event loop serves them and runs the conductor."""
import asyncio
import uuid

from tests.functional import api_helpers as api
from tests.functional import clients


async def test_openstacksdk_nova_sequence_and_new_fields(harness):
    from openstack import exceptions as sdk_exc

    def run():
        conn = clients.openstacksdk(harness.url)
        try:
            bm = conn.baremetal
            out = {}
            node = bm.create_node(driver='fake-hardware', name='sdk-1', owner='proj-a',
                                  description='sdk node', resource_class='rc-sdk')
            out['created'] = (node.owner, node.description, node.provision_state)
            bm.create_port(node_id=node.id, address='52:54:00:aa:00:01',
                           physical_network='physnet1',
                           local_link_connection={'switch_id': '0a:1b:2c:3d:4e:5f',
                                                  'port_id': 'Eth1', 'network_type': 'managed'})
            out['ports'] = [(p.physical_network, p.local_link_connection['network_type'])
                            for p in bm.ports(node=node.id, details=True)]
            out['by_rc'] = [n.id for n in bm.nodes(resource_class='rc-sdk')]
            out['fields'] = [(n.id, n.owner) for n in bm.nodes(fields=['uuid', 'owner'])]
            bm.set_node_provision_state(node, 'manage', wait=True, timeout=30)
            bm.set_node_provision_state(node, 'provide', wait=True, timeout=30)
            # what Nova does before a deploy
            node = bm.patch_node(node, [
                {'op': 'add', 'path': '/instance_info/image_source', 'value': 'http://img'},
                {'op': 'add', 'path': '/instance_uuid', 'value': str(uuid.uuid4())},
                {'op': 'add', 'path': '/driver_info/ipmi_password', 'value': 'secret'}])
            out['masked'] = node.driver_info.get('ipmi_password')
            result = bm.validate_node(node, required=('power', 'deploy'))
            out['validate'] = sorted(k for k, v in result.items() if v.result)
            try:  # another instance on the same node
                bm.patch_node(node, [{'op': 'replace', 'path': '/instance_uuid',
                                      'value': str(uuid.uuid4())}])
            except sdk_exc.ConflictException:
                out['reassign'] = 409
            bm.set_node_provision_state(
                node, 'active', config_drive={'meta_data': {'hostname': 'sdk-1'}},
                wait=True, timeout=30)
            node = bm.update_node(node, is_protected=True, protected_reason='keep')
            out['protected'] = (node.is_protected, node.protected_reason)
            try:
                bm.set_node_provision_state(node, 'deleted')
            except sdk_exc.HttpException as e:
                out['undeploy_protected'] = e.status_code
            bm.update_node(node, is_protected=False)
            bm.set_node_provision_state(node, 'deleted', wait=True, timeout=30)
            node = bm.get_node('sdk-1')
            out['final'] = (node.provision_state, node.conductor, node.is_protected)
            return out
        finally:
            conn.close()

    out = await asyncio.to_thread(run)
    assert out['created'] == ('proj-a', 'sdk node', 'enroll')
    assert out['ports'] == [('physnet1', 'managed')]
    assert len(out['by_rc']) == 1
    assert out['fields'] == [(out['by_rc'][0], 'proj-a')]
    assert out['masked'] == '******'
    assert {'power', 'deploy'} <= set(out['validate'])
    assert out['reassign'] == 409
    assert out['protected'] == (True, 'keep')
    assert out['undeploy_protected'] == 403
    assert out['final'] == ('available', harness.host, False)


async def test_ironicclient_filters_patch_and_versions(harness):
    from ironicclient import exc as ic_exc
    from ironicclient.common.apiclient import exceptions as ic_api_exc
    a = await api.create_node(harness, name='cli-a', owner='o1', lessee='l1',
                              description='GPU box', conductor_group='g1')
    b = await api.create_node(harness, name='cli-b', owner='o2')

    def run():
        ic = clients.ironicclient(harness.url)
        out = {
            'owner': [n.uuid for n in ic.node.list(owner='o1')],
            'lessee': [n.uuid for n in ic.node.list(lessee='l1')],
            'desc': [n.uuid for n in ic.node.list(description_contains='GPU')],
            'group': [n.uuid for n in ic.node.list(conductor_group='g1')],
            'conductor': sorted(n.uuid for n in ic.node.list(conductor=harness.host)),
            'fields': [n.to_dict() for n in ic.node.list(fields=['name', 'owner'],
                                                         sort_key='name')],
            'detail': {n.name: n.lessee for n in ic.node.list(detail=True)},
        }
        node = ic.node.update('cli-b', [{'op': 'add', 'path': '/properties/cpus', 'value': 8},
                                        {'op': 'add', 'path': '/extra/rack', 'value': 'r1'},
                                        {'op': 'replace', 'path': '/description',
                                         'value': None}])
        out['patched'] = (node.properties, node.extra, node.description)
        try:
            ic.node.update('cli-b', [{'op': 'replace', 'path': '/provision_state',
                                      'value': 'active'}])
        except ic_exc.BadRequest:
            out['read_only'] = 400
        validate = ic.node.validate('cli-b')
        out['validate'] = sorted(validate.to_dict())
        old = clients.ironicclient(harness.url, '1.49')
        try:  # the client itself refuses a filter newer than its version (the server: 406)
            old.node.list(owner='o1')
        except (ic_exc.NotAcceptable, ic_api_exc.UnsupportedVersion):
            out['old_owner'] = 406
        out['old_fields'] = sorted(old.node.get('cli-a').to_dict())
        return out

    out = await asyncio.to_thread(run)
    assert out['owner'] == [a['uuid']]
    assert out['lessee'] == [a['uuid']]
    assert out['desc'] == [a['uuid']]
    assert out['group'] == [a['uuid']]
    assert out['conductor'] == [b['uuid']]  # nobody serves group g1
    assert out['fields'] == [{'name': 'cli-a', 'owner': 'o1'}, {'name': 'cli-b', 'owner': 'o2'}]
    assert out['detail'] == {'cli-a': 'l1', 'cli-b': None}
    assert out['patched'] == ({'cpus': 8}, {'rack': 'r1'}, None)
    assert out['read_only'] == 400
    assert {'power', 'deploy', 'rescue', 'bios', 'storage'} <= set(out['validate'])
    assert out['old_owner'] == 406
    assert 'conductor' in out['old_fields'] and 'owner' not in out['old_fields']
