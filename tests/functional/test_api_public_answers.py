"""What the API tells callers without credentials (issue 9 §2): lookup masks secrets exactly as
the node views do; heartbeat, ramdisk callbacks, version documents and errors carry none."""
import json

import pytest

from ironic_lite.common import deploy_key
from tests.functional import api_helpers as api
from tests.functional.api_helpers import fault, ok, ver

MAC = '52:54:00:77:00:01'
# Every value here is a secret: none may appear in a public answer.
SECRETS = {
    'driver_info': {'ipmi_password': 'S-ipmi-pass', 'ipmi_kg_key': 'S-kg-key',
                    'snmp_auth_key': 'S-snmp-auth', 'redfish_password': 'S-redfish',
                    'nested': {'bmc_password': 'S-nested'}},
    'instance_info': {'admin_password': 'S-admin', 'image_url': 'http://x/S-temp-url',
                      'rescue_password': 'S-rescue', 'ssh_private_key': 'S-ssh-key',
                      'encryption_key': 'S-encryption'},
    'properties': {'bmc_secret': 'S-prop-secret'},
}
CONFIGDRIVE = 'H4sIAS-configdrive'
PLAIN = {'image_source': 'http://images/disk.raw', 'root_gb': 10}


def _secret_values() -> list[str]:
    values = [CONFIGDRIVE]
    for info in SECRETS.values():
        for value in info.values():
            values.extend(value.values() if isinstance(value, dict) else [value])
    return values


def assert_no_secret(text: str, *extra: str, allow: tuple[str, ...] = ()) -> None:
    for secret in (*_secret_values(), *extra):
        assert secret in allow or secret not in text, (secret, text)


async def _node_with_secrets(h):
    node = await api.waiting_node(
        h, MAC, configdrive=CONFIGDRIVE,
        driver_info={**SECRETS['driver_info']},
        instance_info={**SECRETS['instance_info'], **PLAIN},
        properties={**SECRETS['properties'], 'cpus': 2})
    stored = await h.db.get_node(node['uuid'])
    await h.db.update_node(stored.id, {'driver_internal_info': {
        **stored.driver_internal_info,
        deploy_key.HASH_FIELD: deploy_key.hash_key('S-deploy-key')}})
    return node


@pytest.mark.parametrize('version', ['1.22', '1.61', '1.62', 'latest'])
async def test_lookup_masks_secrets_as_node_views_do(harness, version):
    node = await _node_with_secrets(harness)
    stored_hash = (await harness.db.get_node(node['uuid'])).driver_internal_info[
        deploy_key.HASH_FIELD]
    resp = await harness.request('GET', f'/v1/lookup?addresses={MAC}', headers=ver(version))
    body = await ok(resp)
    text = json.dumps(body)
    token = body['config'].get('agent_token')
    assert_no_secret(text, stored_hash, 'S-deploy-key')
    found = body['node']
    view = await api.get_node(harness, node['uuid'])
    # the same masking as GET /v1/nodes/{id}; the configdrive and the token are left out
    expected_instance = dict(view['instance_info'])
    expected_instance.pop('configdrive')
    assert found['instance_info'] == expected_instance
    assert found['instance_info']['admin_password'] == '******'
    assert found['instance_info']['ssh_private_key'] == '******'
    assert found['instance_info']['image_source'] == PLAIN['image_source']
    assert found['instance_info']['root_gb'] == 10
    assert found['driver_internal_info'][deploy_key.HASH_FIELD] == '******'
    assert 'agent_secret_token' not in found['driver_internal_info']
    assert found['properties'] == {'bmc_secret': '******', 'cpus': 2}
    assert set(found) == {'uuid', 'properties', 'instance_info', 'driver_internal_info',
                          'links'}
    if token is not None:   # 1.62+: handed out once in config, never in the node
        assert token != '******' and token not in json.dumps(found)
        again = await ok(await harness.request('GET', f'/v1/lookup?addresses={MAC}',
                                               headers=ver(version)))
        assert again['config']['agent_token'] == '******'
        assert token not in json.dumps(again)


async def test_node_views_mask_password_and_key_fields(harness):
    node = await _node_with_secrets(harness)
    for path in (f'/v1/nodes/{node["uuid"]}', '/v1/nodes/detail',
                 f'/v1/nodes/{node["uuid"]}?fields=driver_info,instance_info'):
        text = await (await harness.request('GET', path)).text()
        # properties are shown as is to authenticated callers (as upstream); lookup, which
        # anyone may call, masks them too
        assert_no_secret(text, 'S-deploy-key', allow=('S-prop-secret',))
    view = await api.get_node(harness, node['uuid'])
    info = view['driver_info']
    assert {info[k] for k in ('ipmi_password', 'ipmi_kg_key', 'snmp_auth_key',
                              'redfish_password')} == {'******'}
    assert info['nested'] == {'bmc_password': '******'}
    assert info['fake_deploy_wait'] is True
    assert view['instance_info']['configdrive'] == '******'
    assert view['driver_internal_info'][deploy_key.HASH_FIELD] == '******'


async def test_heartbeat_answers_and_refusals_carry_no_secret(harness):
    node = await _node_with_secrets(harness)
    token = await api.lookup_token(harness, node['uuid'])
    url = f'/v1/heartbeat/{node["uuid"]}'
    resp = await harness.request('POST', url, json={'callback_url': 'http://10.1.1.1:9999',
                                                    'agent_token': token})
    assert resp.status == 202 and await resp.read() == b''
    await harness.drain()
    stored = await harness.db.get_node(node['uuid'])
    assert stored.driver_internal_info['agent_url'] == 'http://10.1.1.1:9999'
    for body in ({'callback_url': 'http://10.2.2.2:1'},
                 {'callback_url': 'http://10.2.2.2:1', 'agent_token': 'guess'},
                 {'callback_url': 'http://10.2.2.2:1', 'agent_token': token}):
        resp = await harness.request('POST', url, json=body)
        inner = await fault(resp, 400)
        # neither the token nor the agent's address on file are told to the caller
        assert token not in inner['faultstring'] and '10.1.1.1' not in inner['faultstring']


@pytest.mark.parametrize('query', [f'addresses={MAC}', 'addresses=52:54:00:77:00:99',
                                   'node_uuid=7a3e6f3e-1f2a-4b6c-9d8e-0f1a2b3c4d5e'])
async def test_failed_lookups_do_not_tell_why(harness, query):
    """As upstream: unknown MACs, unknown nodes and nodes in other states look the same."""
    node = await api.active_node(harness)
    await ok(await harness.request('POST', '/v1/ports', json={'node_uuid': node['uuid'],
                                                              'address': MAC}), 201)
    inner = await fault(await harness.request('GET', f'/v1/lookup?{query}'), 404)
    assert inner['faultstring'] == 'Resource could not be found.'
    assert node['uuid'] not in inner['faultstring']


async def test_pass_deploy_info_answer_carries_no_secret(harness):
    node = await _node_with_secrets(harness)
    resp = await harness.request(
        'POST', f'/v1/nodes/{node["uuid"]}/vendor_passthru?method=pass_deploy_info',
        json={'address': '127.0.0.1', 'key': 'k', 'error': None})
    assert resp.status == 202, await resp.text()
    assert_no_secret(await resp.text(), 'S-deploy-key')


async def test_version_documents_and_errors_carry_no_configuration(harness, sqlite_url):
    for path in ('/', '/v1', '/v1/', '/v1/nothing-here', '/v1/openapi.json',
                 '/v1/nodes/nothing-here', '/v1/heartbeat/nothing-here'):
        for method in ('GET', 'POST'):
            resp = await harness.client.request(method, path, json={'callback_url': 1})
            assert resp.status < 500, path
            assert_no_secret(await resp.text(), sqlite_url, sqlite_url.split('///')[-1],
                             harness.host)
