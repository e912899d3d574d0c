"""Node updates up to API 1.68: JSON-patch rules and the fields of provision requests, each
gated by its version (node fields and filters: ``test_api_node_fields.py``).

Driven through the harness (real API + conductor in the test's loop, SQLite). The only stub is
in ``test_failed_cast_after_recorded_intent_is_202``: a broker outage cannot be forced inside
one process, so the RPC client's cast is replaced by one that raises what oslo.messaging raises.
"""
import base64
import datetime
import gzip
import io
import json
import uuid

import pycdlib
import pytest

from ironic_lite.common import rpc
from ironic_lite.db import models
from ironic_lite.testing.harness import Harness
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, patch_node, patch_op, ver

# -- PATCH -------------------------------------------------------------------------------

async def test_patch_semantics(harness):
    node = await api.create_node(harness, driver_info={'ipmi_password': 's3cret', 'a': 1},
                                 properties={'cpus': 2}, description='d')
    ident = node['uuid']
    # add on an existing key replaces it; add into dict fields; nested paths
    n = await patch_node(harness, ident, patch_op('add', '/properties/cpus', 4),
                     patch_op('add', '/properties/memory_mb', 1024),
                     patch_op('add', '/instance_info/image_source', 'http://img'),
                     patch_op('add', '/extra/a', {'b': 1}), patch_op('add', '/extra/a/c', 2),
                     patch_op('add', '/description', 'new'))
    assert n['properties'] == {'cpus': 4, 'memory_mb': 1024}
    assert n['instance_info'] == {'image_source': 'http://img'}
    assert n['extra'] == {'a': {'b': 1, 'c': 2}}
    assert n['description'] == 'new'
    # secrets stay masked in every response
    assert n['driver_info'] == {'ipmi_password': '******', 'a': 1}
    n = await patch_node(harness, ident, patch_op('replace', '/driver_info/ipmi_password', 'other'))
    assert n['driver_info']['ipmi_password'] == '******'
    assert (await harness.db.get_node(ident)).driver_info['ipmi_password'] == 'other'
    # null values and removal
    n = await patch_node(harness, ident, patch_op('replace', '/description', None),
                     patch_op('remove', '/properties/cpus'), patch_op('replace', '/extra', None),
                     patch_op('remove', '/instance_info'))
    assert n['description'] is None and n['properties'] == {'memory_mb': 1024}
    assert n['extra'] == {} and n['instance_info'] == {}
    # removing something that is not there, bad paths, read-only and unknown fields
    await patch_node(harness, ident, patch_op('remove', '/extra/missing'), status=400)
    await patch_node(harness, ident, patch_op('add', '/extra/x/y', 1), status=400)
    for path in ('/provision_state', '/uuid', '/created_at', '/reservation',
                 '/driver_internal_info', '/conductor', '/allocation_uuid', '/bogus'):
        await patch_node(harness, ident, patch_op('replace', path, 'x'), status=400)
    inner = await patch_node(harness, ident, patch_op('add', '/traits', ['CUSTOM_A']), status=400)
    assert 'traits' in inner['faultstring']


async def test_reassigning_instance_uuid_is_409(harness):
    node = await api.create_node(harness)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    await patch_node(harness, node['uuid'], patch_op('add', '/instance_uuid', first))
    inner = await patch_node(harness, node['uuid'], patch_op('replace', '/instance_uuid', second),
                         status=409)
    assert first in inner['faultstring']
    # clearing it, then setting another one, is fine
    await patch_node(harness, node['uuid'], patch_op('remove', '/instance_uuid'))
    n = await patch_node(harness, node['uuid'], patch_op('add', '/instance_uuid', second))
    assert n['instance_uuid'] == second
    # an instance lives on one node only
    other = await api.create_node(harness)
    await patch_node(harness, other['uuid'], patch_op('add', '/instance_uuid', second), status=409)


@pytest.fixture
async def two_types(sqlite_url):
    """A conductor offering fake-hardware and ipmi, so a node can change hardware type."""
    h = await Harness(sqlite_url, **{
        'enabled_hardware_types': ['fake-hardware', 'ipmi'],
        'enabled_power_interfaces': ['fake', 'ipmitool'],
        'enabled_management_interfaces': ['fake', 'ipmitool'],
        'enabled_boot_interfaces': ['fake', 'pxe'],
        'enabled_deploy_interfaces': ['fake', 'iscsi']}).start()
    try:
        yield h
    finally:
        await h.stop()


async def test_reset_interfaces_on_driver_change(two_types):
    h = two_types
    node = await api.create_node(h, deploy_interface='fake', boot_interface='fake')
    ident = node['uuid']
    # only with a driver change, only from 1.45
    await patch_node(h, ident, patch_op('replace', '/description', 'x'), status=400,
                 query='?reset_interfaces=true')
    await patch_node(h, ident, patch_op('replace', '/driver', 'ipmi'), status=406,
                 query='?reset_interfaces=true', headers=ver('1.44'))
    # without reset, the fake power interface is not valid for ipmi
    await patch_node(h, ident, patch_op('replace', '/driver', 'ipmi'), status=400)
    # with reset, every interface not named in the patch gets ipmi's default
    n = await patch_node(h, ident, patch_op('replace', '/driver', 'ipmi'),
                     patch_op('replace', '/deploy_interface', 'fake'),
                     query='?reset_interfaces=true')
    assert n['driver'] == 'ipmi'
    assert (n['power_interface'], n['management_interface']) == ('ipmitool', 'ipmitool')
    assert n['boot_interface'] == 'pxe'
    assert n['deploy_interface'] == 'fake'  # set by the same patch: kept


async def test_protected_and_retired_rules(harness):
    node = await api.available_node(harness)
    ident = node['uuid']
    # protected only in active (or rescue); a reason needs the flag
    await patch_node(harness, ident, patch_op('replace', '/protected', True), status=409)
    await patch_node(harness, ident, patch_op('add', '/protected_reason', 'x'), status=400)
    # retired cannot be set while available
    await patch_node(harness, ident, patch_op('replace', '/retired', True), status=409)
    await api.move(harness, ident, 'active', 'active')
    n = await patch_node(harness, ident, patch_op('replace', '/protected', True),
                     patch_op('add', '/protected_reason', 'prod db'))
    assert (n['protected'], n['protected_reason']) == (True, 'prod db')
    # a protected node refuses undeploy, rebuild and delete (403 as upstream)
    for target in ('deleted', 'rebuild'):
        await fault(await api.provision(harness, ident, target), 403)
    await fault(await harness.request('DELETE', f'/v1/nodes/{ident}'), 403)
    assert (await harness.db.get_node(ident)).intent is None
    n = await patch_node(harness, ident, patch_op('replace', '/protected', False))
    assert (n['protected'], n['protected_reason']) == (False, None)  # reason goes with it
    # retired: a retired node is torn down but cannot be provided again
    n = await patch_node(harness, ident, patch_op('replace', '/retired', True),
                     patch_op('add', '/retired_reason', 'EOL'))
    assert (n['retired'], n['retired_reason']) == (True, 'EOL')
    # tear down of a retired node ends in manageable, never available (as upstream)
    await api.move(harness, ident, 'deleted', 'manageable')
    inner = await fault(await api.provision(harness, ident, 'provide'), 400)
    assert 'retired' in inner['faultstring']
    n = await patch_node(harness, ident, patch_op('replace', '/retired', False))
    assert n['retired_reason'] is None
    await api.move(harness, ident, 'provide', 'available')


async def test_delete_of_associated_node_is_409(harness):
    node = await api.create_node(harness, instance_uuid=str(uuid.uuid4()))
    await fault(await harness.request('DELETE', f'/v1/nodes/{node["uuid"]}'), 409)


async def test_network_interface_change_needs_a_quiet_state(harness):
    node = await api.available_node(harness)
    await patch_node(harness, node['uuid'], patch_op('replace', '/network_interface', 'noop'))
    other = await ok(await harness.request('GET', '/v1/drivers/fake-hardware?detail=true'))
    enabled = other.get('enabled_network_interfaces') or []
    for iface in enabled:
        if iface != 'noop':
            await patch_node(harness, node['uuid'],
                             patch_op('replace', '/network_interface', iface), status=409)
            break


# -- provision -----------------------------------------------------------------------------

async def test_configdrive_as_json(harness, monkeypatch):
    node = await api.available_node(harness)
    drive = {'meta_data': {'hostname': 'h'}, 'user_data': '#!/bin/sh', 'network_data': {}}
    await fault(await harness.request(
        'PUT', f'/v1/nodes/{node["uuid"]}/states/provision', headers=ver('1.55'),
        json={'target': 'active', 'configdrive': drive}), 400)
    await fault(await harness.request(
        'PUT', f'/v1/nodes/{node["uuid"]}/states/provision', headers=ver('1.58'),
        json={'target': 'active', 'configdrive': {**drive, 'vendor_data': {}}}), 406)
    await fault(await api.provision(harness, node['uuid'], 'active',
                                    configdrive={'bogus': 1}), 400)
    await fault(await api.provision(harness, node['uuid'], 'active',
                                    configdrive={'meta_data': 'not a dict'}), 400)
    await api.move(harness, node['uuid'], 'active', 'active',
                   configdrive={**drive, 'vendor_data': {'v': 1}})
    # the conductor built the ISO 9660 image ramdisks expect (base64 of gzip, label config-2)
    stored = await harness.db.get_node(node['uuid'])
    raw = gzip.decompress(base64.b64decode(stored.instance_info['configdrive']))
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(raw))
    try:
        assert iso.pvd.volume_identifier.strip() == b'config-2'
        files = {}
        for name in ('meta_data.json', 'user_data', 'vendor_data2.json'):
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=f'/openstack/latest/{name}')
            files[name] = out.getvalue()
    finally:
        iso.close()
    assert json.loads(files['meta_data.json']) == {'hostname': 'h', 'uuid': node['uuid']}
    assert files['user_data'] == b'#!/bin/sh'
    assert json.loads(files['vendor_data2.json']) == {'v': 1}
    shown = await api.get_node(harness, node['uuid'])
    assert shown['instance_info']['configdrive'] == '******'


async def test_abort_of_inspect_wait_needs_1_41(harness):
    node = await api.create_node(harness)
    n = await harness.db.get_node(node['uuid'])
    await harness.db.update_node(n.id, {'provision_state': 'inspect wait'})
    resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/provision',
                                 json={'target': 'abort'}, headers=ver('1.40'))
    await fault(resp, 400)


async def test_failed_cast_after_recorded_intent_is_202(harness):
    """The conductor's RPC server is gone (its in-process bus entry removed — the same
    ConductorUnavailable the API gets when the broker is unreachable). The intent is in the
    database, so the API answers 202 and the conductor's re-drive starts the deploy."""
    node = await api.available_node(harness)
    server = rpc._LOCAL_SERVERS.pop(harness.host)
    try:
        resp = await api.provision(harness, node['uuid'], 'active')
        assert resp.status == 202, await resp.text()
        stored = await harness.db.get_node(node['uuid'])
        assert stored.intent == 'deploy'
        await harness.drain()
        # accepted, not started: shown under way as upstream shows it after its 202
        assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'deploying'
        # the re-drive picks the recorded intent up once it is older than intent_redrive_after
        past = models.utcnow() - datetime.timedelta(hours=1)
        await harness.db.update_node(stored.id, {'intent_at': past})
        await harness.run_periodics()
        assert (await api.get_node(harness, node['uuid']))['provision_state'] == 'active'
        resp = await harness.request('PUT', f'/v1/nodes/{node["uuid"]}/states/power',
                                     json={'target': 'power off'})
        assert resp.status == 202, await resp.text()
    finally:
        rpc._LOCAL_SERVERS[harness.host] = server
